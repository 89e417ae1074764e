import pg from 'pg';

/**
 * The few error classes of supamigrate. Every error a user can cause is one of these, with a message that
 * says what failed and where, in the user's terms; the CLI prints `message` on one line and exits non-zero.
 * Messages never contain a password: connection strings are always passed through `redactUrl` first.
 */

/** The user asked for something that cannot work: bad option, unknown table, missing file. Exit code 2. */
export class UsageError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[], options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('; '), options);
    this.name = this.constructor.name;
    this.problems = list;
  }
}

/** A database could not be reached or refused us (host, port, password, database name). Exit code 2. */
export class ConnectionError extends Error {
  readonly target: string;
  constructor(message: string, target: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
    this.target = target;
  }
}

/** Work on one table failed (a query, a file, a check). The run goes on or stops, and reports it. Exit 1. */
export class TableError extends Error {
  readonly table: string;
  constructor(table: string, message: string, options?: { cause?: unknown }) {
    super(`${table}: ${message}`, options);
    this.name = this.constructor.name;
    this.table = table;
  }
}

/** The data is not what it should be: a file changed since export, counts that disagree. Exit code 1. */
export class IntegrityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** One storage object failed (missing at the source, bytes not as its row says, a write): `bucket/key: why`. Exit 1. */
export class StorageObjectError extends IntegrityError {
  constructor(
    readonly bucket: string,
    readonly key: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    // The key as JSON string text: one line whatever it holds.
    super(`${bucket}/${JSON.stringify(key).slice(1, -1)}: ${problem}`, options);
  }
}

/** An export file's content is not what its format says: `row` counts from 1. Exit code 1. */
export class RowFormatError extends Error {
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The run was stopped by a signal (Ctrl-C, SIGTERM): what is complete is recorded, the rest is not. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** An error's message for the user; database errors with their detail. */
export function describeError(err: unknown): string {
  if (err instanceof pg.DatabaseError) {
    const hint = /would be affected by row-level security/.test(err.message)
      ? 'connect as a role that bypasses row-level security (a superuser, the table owner, or one with BYPASSRLS; on Supabase: postgres), or rows would be missing'
      : err.hint;
    return [err.message, err.detail && `(${err.detail})`, hint && `hint: ${hint}`].filter(Boolean).join(' ');
  }
  const code = (err as { code?: string })?.code;
  if (code === 'ENOSPC')
    return 'disk full (no space left on device); the unfinished file was removed: free some space and run the export again with --resume';
  if (err instanceof Error) return err.message;
  return String(err);
}
