import { UsageError } from '../errors.js';
import { displayName } from '../pg/sql.js';
import type { TableInfo, TableRef } from './types.js';

/**
 * Schemas that Supabase (or PostgreSQL) manages. Their tables are never exported as application tables
 * unless the user names the schema with --schema; auth users are exported apart (auth_users.json).
 */
export const MANAGED_SCHEMAS: readonly string[] = [
  'auth',
  'storage',
  'realtime',
  'extensions',
  'graphql',
  'graphql_public',
  'vault',
  'pgsodium',
  'pgsodium_masks',
  'supabase_functions',
  'supabase_migrations',
  'net',
  'cron',
  'pgbouncer',
  'pgtle',
  'pgmq',
  'pgmq_public',
  '_realtime',
  '_analytics',
  '_supavisor',
  'supabase_admin',
  'information_schema',
  'pg_catalog',
  'pg_toast',
];

/** The seed's STREAMING_THRESHOLD: tables with more rows than this stream. */
export const DEFAULT_STREAMING_THRESHOLD = 10_000;

/**
 * Parses a table name as the user types it: `name`, `schema.name`, or with double quotes for names that
 * hold dots or capitals (`"My Schema"."Orders"`).
 */
export function parseTableName(input: string): { schema?: string; name: string } {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch === '"') {
      if (quoted && input[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  if (quoted || parts.length > 2 || parts.some((p) => p === '')) {
    throw new UsageError(`"${input}" is not a table name (use name or schema.name)`);
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}

/** Schemas whose tables are read: the --schema list, plus those named in schema.name table arguments. */
export function schemasToRead(schemas: readonly string[], tableArgs: readonly string[]): string[] {
  const named = tableArgs.map(parseTableName).flatMap((t) => (t.schema ? [t.schema] : []));
  return [...new Set([...schemas, ...named])];
}

export interface TableSelection {
  /** --schema: schemas whose tables are exported (default public). */
  schemas: readonly string[];
  /** --table: only these (name or schema.name). Empty: all tables of `schemas`. */
  tables: readonly string[];
  /** --exclude-table. */
  excludeTables: readonly string[];
  /** --skip-large: leave out the large tables. */
  skipLarge: boolean;
  largeTables: readonly string[];
  /** Relations that are not tables (views, partitions), to explain a name that matches one. */
  others?: readonly (TableRef & { what: string })[];
}

/** Whether a table is one of the user's large tables (matched by name or schema.name). */
export function isLargeTable(table: TableRef, largeTables: readonly string[]): boolean {
  return largeTables.some((arg) => matches(table, parseTableName(arg)));
}

/** Whether a table is the one a parsed name (parseTableName) designates; no schema matches any. */
export function matches(table: TableRef, pattern: { schema?: string; name: string }): boolean {
  return table.name === pattern.name && (pattern.schema === undefined || pattern.schema === table.schema);
}

/**
 * Applies --schema, --table, --exclude-table and --skip-large to the catalog's tables. Every name that
 * matches no table, or matches several, is reported at once.
 */
export function selectTables<T extends TableInfo>(all: readonly T[], selection: TableSelection): T[] {
  const problems: string[] = [];
  const resolve = (arg: string, option: string): T[] => {
    const pattern = parseTableName(arg);
    const pool = pattern.schema ? all : all.filter((t) => selection.schemas.includes(t.schema));
    const found = pool.filter((t) => matches(t, pattern));
    const other = found.length === 0 ? selection.others?.find((o) => matches(o, pattern)) : undefined;
    if (other) {
      problems.push(`${option} ${arg}: ${displayName(other)} is ${other.what}`);
    } else if (found.length === 0) {
      const near = all.filter((t) => t.name.toLowerCase() === pattern.name.toLowerCase());
      const hint = near.length > 0 ? ` (did you mean ${near.map(displayName).join(', ')}?)` : '';
      problems.push(
        `${option} ${arg}: no such table in schema ${pattern.schema ?? selection.schemas.join(', ')}${hint}`,
      );
    } else if (found.length > 1) {
      problems.push(`${option} ${arg} is ambiguous: ${found.map(displayName).join(', ')} (name the schema)`);
    }
    return found;
  };

  let chosen: T[];
  if (selection.tables.length > 0) {
    const keep = new Set(selection.tables.flatMap((arg) => resolve(arg, '--table')));
    chosen = all.filter((t) => keep.has(t));
  } else {
    chosen = all.filter((t) => selection.schemas.includes(t.schema));
  }
  const drop = new Set(selection.excludeTables.flatMap((arg) => resolve(arg, '--exclude-table')));
  if (problems.length > 0) throw new UsageError(problems);
  return chosen.filter(
    (t) => !drop.has(t) && !(selection.skipLarge && isLargeTable(t, selection.largeTables)),
  );
}
