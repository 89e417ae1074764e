import pg from 'pg';
import { ConnectionError, UsageError } from '../errors.js';

/**
 * Session settings applied on every connection supamigrate makes, so that no value's text form depends on
 * the server's or the role's defaults: UTC timestamps in ISO form, shortest-exact floats, hex bytea,
 * locale-free money, and no statement or idle timeout cutting a long export short (Supabase sets both).
 * row_security = off, as pg_dump sets it: a query that row-level security would filter fails instead
 * of silently returning fewer rows.
 */
export const SESSION_SETTINGS_SQL = /* SQL */ `
  SET client_encoding = 'UTF8';
  SET TimeZone = 'UTC';
  SET DateStyle = 'ISO, YMD';
  SET IntervalStyle = 'postgres';
  SET extra_float_digits = 1;
  SET bytea_output = 'hex';
  SET lc_monetary = 'C';
  SET standard_conforming_strings = on;
  SET statement_timeout = 0;
  SET lock_timeout = 0;
  SET idle_in_transaction_session_timeout = 0;
  SET row_security = off;
`;

export type DbRole = 'source' | 'target';

/** Checks a connection string's shape before anything connects; returns the problem, or undefined. */
export function checkUrl(url: string, optionName: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${optionName} is not a valid URL (expected postgresql://user:password@host:5432/database)`;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return `${optionName} must start with postgresql:// or postgres:// (got ${parsed.protocol}//…)`;
  }
  return undefined;
}

/** The URL with its password replaced by `***`, for messages and metadata. Never throws. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** `user@host:port/database`, the way messages name a database. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)';
    return `${user}${host}:${u.port || '5432'}/${db}`;
  } catch {
    return '<unparseable URL>';
  }
}

function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes every occurrence of the URL's password from a message (belt and braces: pg never prints it). */
export function scrub(message: string, url: string): string {
  const password = passwordOf(url);
  let out = message;
  if (password && password.length > 0) out = out.split(password).join('***');
  const raw = (() => {
    try {
      return new URL(url).password;
    } catch {
      return '';
    }
  })();
  if (raw) out = out.split(raw).join('***');
  return out;
}

/** Why a connection failed, in a user's words. */
export function describeConnectError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running, and is the port right?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case '28P01':
      return 'password authentication failed';
    case '28000':
      return `not allowed to connect (${e.message ?? 'no pg_hba.conf entry or role'})`;
    case '3D000':
      return e.message ?? 'database does not exist';
    case '57P03':
      return 'the server is starting up or shutting down';
    default:
      if (/timeout/i.test(e.message ?? '')) return 'connection timed out';
      return e.message ?? String(err);
  }
}

export interface ConnectOptions {
  /** What the database is to the user, for messages: "source" or "target". */
  role: DbRole;
  applicationName?: string;
  connectTimeoutMs?: number;
}

/**
 * Opens one client on `url` with supamigrate's session settings. Failures become a `ConnectionError`
 * whose message names the database (without password) and the reason.
 */
export async function connect(url: string, options: ConnectOptions): Promise<pg.Client> {
  const problem = checkUrl(url, `the ${options.role} URL`);
  if (problem) throw new UsageError(problem);
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName ?? 'supamigrate',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 15_000,
    keepAlive: true,
  });
  // An idle client whose server goes away emits 'error'; without a listener Node would crash the process.
  client.on('error', () => undefined);
  const where = describeUrl(url);
  try {
    await client.connect();
    await client.query(SESSION_SETTINGS_SQL);
  } catch (err) {
    await client.end().catch(() => undefined);
    const reason = scrub(describeConnectError(err), url);
    throw new ConnectionError(`Cannot connect to the ${options.role} database ${where}: ${reason}`, where, {
      cause: err,
    });
  }
  return client;
}
