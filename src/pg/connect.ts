import pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { ConnectionError, UsageError } from '../errors.js';
import {
  backendStillWorking,
  DEFAULT_IO_TIMEOUT,
  KEEPALIVE_DELAY_MS,
  lastLostConnection,
  watchInactivity,
} from './io-timeout.js';
import {
  ConninfoError,
  describeParams,
  isSupabaseTransactionPooler,
  isUrlForm,
  parseConninfo,
  redactConninfo,
  resolveConnection,
  TRANSACTION_POOLER_HINT,
  withEnvironment,
  type ResolvedConnection,
} from './conninfo.js';

/**
 * Session settings applied on every connection supamigrate makes, so that no value's text form depends on
 * the server's or the role's defaults: UTC timestamps in ISO form, shortest-exact floats, hex bytea,
 * locale-free money, and no statement or idle timeout cutting a long export short (Supabase sets both).
 * row_security = off, as pg_dump sets it: a query that row-level security would filter fails instead
 * of silently returning fewer rows. synchronize_seqscans = off, as pg_dump sets it: a table read while
 * another scan of it runs starts at its first block, so the same data gives the same file.
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
  SET synchronize_seqscans = off;
  SET array_nulls = on;
  SET xmloption = content;
  SET quote_all_identifiers = off;
`;

export type DbRole = 'source' | 'target';

/**
 * Checks a connection string's shape before anything connects (URL or keyword form); returns the problem,
 * or undefined. Also refuses Supabase's transaction pooler, which cannot hold the session an export needs.
 */
export function checkUrl(url: string, optionName: string): string | undefined {
  let params: Record<string, string>;
  try {
    params = withEnvironment(parseConninfo(url));
  } catch (err) {
    if (err instanceof ConninfoError) return `${optionName}: ${err.message}`;
    throw err;
  }
  if (isSupabaseTransactionPooler(params)) return `${optionName}: ${TRANSACTION_POOLER_HINT}`;
  return undefined;
}

/** The connection string with its password replaced by `***`, for messages and metadata. Never throws. */
export function redactUrl(url: string): string {
  return redactConninfo(url);
}

/** `user@host:port/database`, the way messages name a database (PG* variables and defaults applied). */
export function describeUrl(url: string): string {
  try {
    return describeParams(withEnvironment(parseConninfo(url)));
  } catch {
    return '<unparseable connection string>';
  }
}

/** Removes every occurrence of a password from a message (belt and braces: pg never prints it). */
export function scrub(message: string, url: string, ...passwords: (string | undefined)[]): string {
  const all = new Set<string>(passwords.filter((p): p is string => Boolean(p)));
  try {
    const p = parseConninfo(url).password;
    if (p) all.add(p);
  } catch {
    // nothing to remove
  }
  if (isUrlForm(url)) {
    try {
      const raw = new URL(url.trim()).password;
      if (raw) all.add(raw);
    } catch {
      // nothing to remove
    }
  }
  let out = message;
  for (const p of all) out = out.split(p).join('***');
  return out;
}

/** Raised (inside pg) when the server asks for a password and none was given anywhere. */
class MissingPasswordError extends Error {
  readonly code = 'SUPAMIGRATE_NO_PASSWORD';
}

const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Why a connection failed, in a user's words; with the connection's settings, the hint that fits. */
export function describeConnectError(err: unknown, connection?: ResolvedConnection): string {
  const e = err as { code?: string; message?: string };
  const reason = baseReason(e, connection);
  return connection?.port === 6543 && !/6543/.test(reason)
    ? `${reason}; if this is Supabase's transaction pooler (port 6543), use the session pooler (same host, port 5432) or the direct connection: COPY and one snapshot need a session`
    : reason;
}

function baseReason(e: { code?: string; message?: string }, connection?: ResolvedConnection): string {
  const sslmode = connection?.sslmode ?? 'prefer';
  if (
    e.code === 'SUPAMIGRATE_NO_PASSWORD' ||
    /client password must be a string|no password supplied/i.test(e.message ?? '')
  ) {
    return `the server asks for a password and none was given: put it in the URL (postgresql://user:PASSWORD@host:5432/db), in PGPASSWORD, or in ~/.pgpass${connection?.passfileNote ? ` (${connection.passfileNote})` : ''}`;
  }
  if (e.code && CERTIFICATE_CODES.has(e.code)) {
    return `the server's certificate was refused (${(e.message ?? e.code).split('\n')[0]}) under sslmode=${sslmode}: give the CA certificate that signed it with sslrootcert=<file>, or use sslmode=require to encrypt without checking it`;
  }
  if (/The server does not support SSL connections/.test(e.message ?? '')) {
    return `the server does not accept TLS, and sslmode=${sslmode} requires it (sslmode=prefer or disable connect without TLS)`;
  }
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
    case 'ENOENT':
      return connection?.host.startsWith('/')
        ? `no server socket in ${connection.host} (is the server running?)`
        : (e.message ?? 'not found');
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
      return (e.message ?? String(e)).split('\n')[0]!;
  }
}

export interface ConnectOptions {
  /** What the database is to the user, for messages: "source" or "target". */
  role: DbRole;
  applicationName?: string;
  connectTimeoutMs?: number;
  /**
   * Seconds a query or COPY in flight may go without a byte in or out before the connection is closed with
   * a transient error (`--io-timeout`; 0: never). Default 300.
   */
  ioTimeout?: number;
}

/** host:port of servers that answered "no TLS" to sslmode=prefer: later connections go without asking. */
const withoutTls = new Set<string>();

/** What the last successful connection to each database used, for `--verbose`. */
export const connectionNotes = new Map<string, string>();

/** The connection settings of `url` with the environment applied, or a UsageError naming the problem. */
export function resolveOrThrow(url: string, role: DbRole): ResolvedConnection {
  try {
    const resolved = resolveConnection(url);
    if (isSupabaseTransactionPooler(resolved.params)) {
      throw new ConnectionError(
        `Cannot use the ${role} database ${resolved.where}: ${TRANSACTION_POOLER_HINT}`,
        resolved.where,
      );
    }
    return resolved;
  } catch (err) {
    if (err instanceof ConninfoError) throw new UsageError(`the ${role} connection string: ${err.message}`);
    throw err;
  }
}

function newClient(c: ResolvedConnection, tls: ConnectionOptions | null, options: ConnectOptions) {
  return new pg.Client({
    host: c.host,
    port: c.port,
    user: c.user,
    database: c.database,
    // A function: pg then never reads .pgpass itself (with a deprecation warning), and a server that asks
    // for a password nobody gave gets a clear message instead of a SCRAM error.
    password: async () => {
      if (c.password !== undefined) return c.password;
      throw new MissingPasswordError('no password given');
    },
    ssl: tls ?? false,
    options: c.options,
    application_name: c.applicationName ?? options.applicationName ?? 'supamigrate',
    connectionTimeoutMillis: options.connectTimeoutMs ?? c.connectTimeoutMs ?? 15_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
  });
}

/**
 * Opens one client with libpq's rules (URL or keyword form, PG* variables, .pgpass, sslmode) and
 * supamigrate's session settings. Failures become a `ConnectionError` whose message names the database
 * (without password) and the reason, on one line.
 */
export async function connect(url: string, options: ConnectOptions): Promise<pg.Client> {
  const c = resolveOrThrow(url, options.role);
  const key = `${c.host}:${c.port}`;
  const attempts: (ConnectionOptions | null)[] =
    c.tls === null
      ? [null]
      : c.sslmode === 'prefer'
        ? withoutTls.has(key)
          ? [null]
          : [c.tls, null]
        : c.sslmode === 'allow'
          ? [null, c.tls]
          : [c.tls];
  for (let i = 0; i < attempts.length; i++) {
    const tls = attempts[i]!;
    const last = i === attempts.length - 1;
    const client = newClient(c, tls, options);
    // An idle client whose server goes away emits 'error'; without a listener Node would crash the process.
    client.on('error', (err: Error) => {
      if (lastLostConnection.client === client) return; // --io-timeout closed it: that says why
      lastLostConnection.client = client;
      lastLostConnection.message = `the connection to the ${options.role} database ${c.where} was lost (${scrub(err.message.split('\n')[0] ?? '', url, c.password)})`;
    });
    try {
      await client.connect();
      watchInactivity(client, options.ioTimeout ?? DEFAULT_IO_TIMEOUT, {
        describe: (seconds) =>
          `no data from the ${options.role} database ${c.where} for ${seconds} s (--io-timeout): the connection was closed`,
        stillWorking: (pid) => backendStillWorking(newClient(c, tls, options), pid),
      });
      await client.query(SESSION_SETTINGS_SQL);
      connectionNotes.set(
        c.where,
        tls === null
          ? 'without TLS'
          : `TLS, ${c.verify === 'none' ? 'certificate not checked (sslmode=require or prefer)' : c.verify === 'ca' ? 'certificate checked against the CA (verify-ca)' : 'certificate and host name checked (verify-full)'}`,
      );
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      const message = (err as Error)?.message ?? '';
      if (!last && tls !== null && /does not support SSL/.test(message)) {
        withoutTls.add(key);
        continue;
      }
      if (!last && tls === null && (err as { code?: string }).code === '28000') continue;
      const reason = scrub(describeConnectError(err, c), url, c.password);
      throw new ConnectionError(
        `Cannot connect to the ${options.role} database ${c.where}: ${reason}`,
        c.where,
        {
          cause: err,
        },
      );
    }
  }
  throw new ConnectionError(`Cannot connect to the ${options.role} database ${c.where}`, c.where);
}
