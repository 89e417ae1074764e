import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';

/**
 * Connection strings the way libpq (psql, pg_dump) reads them: a URL (`postgresql://user:pw@host:5432/db?…`)
 * or the keyword form (`host=… port=… dbname=… user=…`), every parameter not given taken from the PG*
 * environment variables, the password from `~/.pgpass` (or PGPASSFILE) when neither gives one, and libpq's
 * meaning of `sslmode`.
 */

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The libpq keywords supamigrate understands, and the environment variable each falls back to. */
const KEYWORDS: Record<string, string | null> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  options: 'PGOPTIONS',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  channel_binding: 'PGCHANNELBINDING',
  gssencmode: 'PGGSSENCMODE',
  sslcompression: null,
  keepalives: null,
  keepalives_idle: null,
  fallback_application_name: null,
};

/** The environment variables that name a database (any of them set means "connect as psql would"). */
export const PG_TARGET_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGDATABASE'];

/** A connection string that cannot be read; the message is one line and never holds the password. */
export class ConninfoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** True when `text` is a URL rather than the keyword form. */
export const isUrlForm = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim());

function unknownKeyword(key: string): ConninfoError {
  const hint =
    key === 'ssl' ? ' (for TLS use sslmode=require, or sslmode=verify-full with sslrootcert=<CA file>)' : '';
  return new ConninfoError(`unknown connection parameter "${key}"${hint}`);
}

/** Parses a URL or keyword-form connection string into libpq keywords. Throws ConninfoError. */
export function parseConninfo(text: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  return isUrlForm(trimmed) ? parseUrl(trimmed) : parseKeywords(trimmed);
}

function parseUrl(text: string): Record<string, string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConninfoError(
      'is not a valid URL (expected postgresql://user:password@host:5432/database, or host=… dbname=… user=…)',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConninfoError(`must start with postgresql:// or postgres:// (got ${url.protocol}//…)`);
  }
  const params: Record<string, string> = {};
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (url.hostname) params.host = decode(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (url.port) params.port = url.port;
  if (url.username) params.user = decode(url.username);
  if (url.password) params.password = decode(url.password);
  const db = decode(url.pathname.replace(/^\//, ''));
  if (db) params.dbname = db;
  for (const [key, value] of url.searchParams) {
    if (!(key in KEYWORDS)) throw unknownKeyword(key);
    params[key] = value;
  }
  if (params.host?.includes(','))
    throw new ConninfoError('several hosts in one connection string are not supported');
  return params;
}

function parseKeywords(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && text[i] !== '=' && !/\s/.test(text[i]!)) i++;
    const key = text.slice(keyStart, i);
    while (i < n && /\s/.test(text[i]!)) i++;
    if (text[i] !== '=') {
      throw new ConninfoError(
        `is neither a URL nor keyword=value pairs: missing "=" after "${key}" (expected postgresql://… or host=… dbname=…)`,
      );
    }
    i++;
    while (i < n && /\s/.test(text[i]!)) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new ConninfoError(`unterminated quoted value of "${key}"`);
    } else {
      while (i < n && !/\s/.test(text[i]!)) {
        if (text[i] === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else value += text[i++];
      }
    }
    if (!(key in KEYWORDS)) throw unknownKeyword(key);
    params[key] = value;
  }
  return params;
}

/** The keywords of `text`, each one missing filled from its PG* environment variable (as libpq does). */
export function withEnvironment(
  params: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out = { ...params };
  for (const [key, variable] of Object.entries(KEYWORDS)) {
    if (out[key] === undefined && variable && env[variable] !== undefined && env[variable] !== '')
      out[key] = env[variable]!;
  }
  return out;
}

const defaultUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'postgres';
  }
};

/** Where the connection goes, with libpq's defaults: `user@host:port/dbname`, never the password. */
export function describeParams(params: Record<string, string>): string {
  const user = params.user ?? defaultUser();
  const host = params.host ?? params.hostaddr ?? 'localhost';
  const shownHost = host.includes(':') && !host.startsWith('/') ? `[${host}]` : host;
  return `${user}@${shownHost}:${params.port ?? '5432'}/${params.dbname ?? user}`;
}

/** The connection string with its password replaced by `***`, in the form it was given. Never throws. */
export function redactConninfo(text: string): string {
  try {
    if (isUrlForm(text)) {
      const parsed = new URL(text.trim());
      if (parsed.password) parsed.password = '***';
      for (const key of [...parsed.searchParams.keys()]) {
        if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
      }
      return parsed.toString();
    }
    const params = parseKeywords(text);
    return Object.entries(params)
      .map(([k, v]) => `${k}=${/pass/i.test(k) && k !== 'passfile' ? '***' : quoteValue(v)}`)
      .join(' ');
  } catch {
    return '<unparseable connection string>';
  }
}

const quoteValue = (v: string) =>
  /^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Reads the password for this connection from a .pgpass file, as libpq does; undefined when none applies. */
export function passwordFromPassfile(
  params: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): { password?: string; file: string; ignored?: string } {
  const file = params.passfile ?? env.PGPASSFILE ?? join(homedir(), '.pgpass');
  let text: string;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) return { file, ignored: 'not a regular file' };
    if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0)
      return { file, ignored: 'it has group or world access; chmod 0600 it' };
    text = readFileSync(file, 'utf8');
  } catch {
    return { file };
  }
  const rawHost = params.host ?? params.hostaddr ?? 'localhost';
  const host = rawHost.startsWith('/') ? 'localhost' : rawHost;
  const user = params.user ?? defaultUser();
  const wanted = [host, params.port ?? '5432', params.dbname ?? user, user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields: string[] = [];
    let field = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) field += line[++i];
      else if (c === ':' && fields.length < 4) {
        fields.push(field);
        field = '';
      } else field += c;
    }
    fields.push(field);
    if (fields.length < 5) continue;
    if (wanted.every((w, i) => fields[i] === '*' || fields[i] === w)) return { password: fields[4], file };
  }
  return { file };
}

/** What the pg driver needs, built from libpq parameters. */
export interface ResolvedConnection {
  params: Record<string, string>;
  host: string;
  port: number;
  user: string;
  database: string;
  password: string | undefined;
  /** Why no password could be read from the password file, if one was found but ignored. */
  passfileNote?: string;
  sslmode: SslMode;
  /** The TLS options to use when the connection is encrypted (null: never encrypt). */
  tls: ConnectionOptions | null;
  /** Whether the server's certificate is checked, for messages. */
  verify: 'none' | 'ca' | 'full';
  applicationName?: string;
  connectTimeoutMs?: number;
  options?: string;
  where: string;
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ConninfoError(
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`,
    );
  }
}

/**
 * Resolves a connection string (URL or keyword form, possibly empty) against the environment: PG*
 * variables, .pgpass, sslmode. Reads the certificate files it names. Throws ConninfoError.
 */
export function resolveConnection(text: string, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const params = withEnvironment(parseConninfo(text), env);
  const user = params.user ?? defaultUser();
  const database = params.dbname ?? user;
  const host = params.hostaddr ?? params.host ?? 'localhost';
  const port = Number(params.port ?? '5432');
  if (!/^\d+$/.test(params.port ?? '5432') || port < 1 || port > 65535)
    throw new ConninfoError(`port must be a number from 1 to 65535 (got "${params.port}")`);
  const sslmode = (params.sslmode ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode))
    throw new ConninfoError(`sslmode must be one of ${SSL_MODES.join(', ')} (got "${params.sslmode}")`);
  let password = params.password;
  let passfileNote: string | undefined;
  if (password === undefined) {
    const found = passwordFromPassfile(params, env);
    password = found.password;
    if (found.ignored) passfileNote = `${found.file} was ignored: ${found.ignored}`;
  }

  const socket = host.startsWith('/');
  let tls: ConnectionOptions | null = null;
  let verify: ResolvedConnection['verify'] = 'none';
  if (sslmode !== 'disable' && !socket) {
    const pgDir = join(homedir(), '.postgresql');
    const rootcert =
      params.sslrootcert ?? (existsSync(join(pgDir, 'root.crt')) ? join(pgDir, 'root.crt') : undefined);
    tls = {};
    // libpq: with sslmode=require, a root certificate that is given (or present) is checked as with verify-ca.
    const mode = sslmode === 'require' && rootcert ? 'verify-ca' : sslmode;
    if (mode === 'verify-ca' || mode === 'verify-full') {
      if (!rootcert) {
        throw new ConninfoError(
          `sslmode=${sslmode} needs the CA certificate to check the server against: add sslrootcert=/path/to/ca.crt (on Supabase: the certificate from Database Settings → SSL Configuration), or sslrootcert=system for the system's CAs, or use sslmode=require to encrypt without checking`,
        );
      }
      if (rootcert !== 'system') tls.ca = readFile(rootcert, 'sslrootcert');
      tls.rejectUnauthorized = true;
      const name = params.host && !params.host.startsWith('/') ? params.host : host;
      if (mode === 'verify-full') {
        verify = 'full';
        if (isIP(name) === 0) tls.servername = name;
        tls.checkServerIdentity = (_hostname, cert) => checkServerIdentity(name, cert);
      } else {
        verify = 'ca';
        tls.checkServerIdentity = () => undefined;
      }
    } else {
      tls.rejectUnauthorized = false;
    }
    const defaultCert = join(pgDir, 'postgresql.crt');
    const defaultKey = join(pgDir, 'postgresql.key');
    if (params.sslcert !== undefined) {
      tls.cert = readFile(params.sslcert, 'sslcert');
      tls.key = readFile(params.sslkey ?? defaultKey, 'sslkey');
    } else if (existsSync(defaultCert) && existsSync(params.sslkey ?? defaultKey)) {
      tls.cert = readFile(defaultCert, 'sslcert');
      tls.key = readFile(params.sslkey ?? defaultKey, 'sslkey');
    }
  }
  const timeout = params.connect_timeout !== undefined ? Number(params.connect_timeout) : undefined;
  return {
    params,
    host,
    port,
    user,
    database,
    password,
    passfileNote,
    sslmode,
    tls,
    verify,
    applicationName: params.application_name,
    connectTimeoutMs: timeout !== undefined && timeout > 0 ? Math.max(2, timeout) * 1000 : undefined,
    options: params.options,
    where: describeParams(params),
  };
}

/** Supabase's transaction pooler (Supavisor, port 6543) cannot hold a session: no COPY snapshot, no SET. */
export const TRANSACTION_POOLER_HINT =
  "port 6543 is Supabase's transaction pooler, which cannot hold the session supamigrate needs (COPY, one snapshot, SET): use the session pooler (same host, port 5432) or the direct connection (db.<project>.supabase.co:5432)";

export function isSupabaseTransactionPooler(params: Record<string, string>): boolean {
  const host = params.host ?? '';
  return (params.port ?? '5432') === '6543' && /(^|\.)pooler\.supabase\.com$/i.test(host);
}
