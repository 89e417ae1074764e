import type { UnmatchedPolicy } from '../format/user-columns.js';
import type { UserMap } from '../format/user-map.js';
import { DEFAULT_IO_TIMEOUT } from '../pg/io-timeout.js';
import { DEFAULT_RETRIES } from '../pg/retry.js';
import { defaultJobs, SettingsProblems, type NumberOption } from '../settings.js';
import type { ImportEvent } from './events.js';
import type { ExportFeed } from './feed.js';

export interface ImportOptions {
  targetUrl: string;
  /** Default: ./migration-data */
  inputDir?: string;
  tables?: string[];
  excludeTables?: string[];
  /** Empty the target tables first (one TRUNCATE of them all). */
  truncate?: boolean;
  /** `skip`: rows whose key already exists are left out (ON CONFLICT DO NOTHING). Default `error`. */
  onConflict?: 'error' | 'skip' | string;
  /** Files loaded at once; a table never starts before the tables it references. Default: cores. */
  jobs?: NumberOption;
  dryRun?: boolean;
  /** Rewrite Supabase user ids to the new provider's (from `users map`). */
  userMap?: UserMap;
  /** Columns holding user ids without a foreign key into auth.users: schema.table.column. */
  userColumns?: string[];
  /** Ids in user columns that the map does not cover: refuse (default), keep them, or write NULL. */
  unmatched?: UnmatchedPolicy | string;
  /** Skip the tables an earlier run of this import recorded as loaded (import-state.json). */
  resume?: boolean;
  /** Retry a file this many times after a transient error (connection lost, server restart). Default 2. */
  retries?: NumberOption;
  /**
   * Seconds a query or COPY in flight may go without a byte in or out before its connection is closed and
   * the work fails as a transient error (retried under `retries`). 0: never. Default 300.
   */
  ioTimeout?: NumberOption;
  /** Stops the import: the table being loaded rolls back, import-state.json says what is loaded. */
  signal?: AbortSignal;
  onEvent?: (event: ImportEvent) => void;
  /**
   * Load each table as soon as its export completes, instead of reading metadata.json of a finished export
   * (migrate's pipeline). Not with a user map.
   */
  feed?: ExportFeed;
}

/** ImportOptions checked, with every default filled in. */
export interface ImportSettings {
  targetUrl: string;
  inputDir: string;
  tables: string[];
  excludeTables: string[];
  truncate: boolean;
  onConflict: 'error' | 'skip';
  jobs: number;
  dryRun: boolean;
  userMap: UserMap | undefined;
  userColumns: string[];
  unmatched: UnmatchedPolicy;
  resume: boolean;
  retries: number;
  ioTimeout: number;
  signal: AbortSignal | undefined;
}

/** Checks the options before anything connects; every problem is reported at once (UsageError). */
export function parseImportSettings(options: ImportOptions): ImportSettings {
  const check = new SettingsProblems();
  const targetUrl = check.database(options.targetUrl, '--target-url', 'TARGET_DB_URL');
  const settings: ImportSettings = {
    targetUrl,
    inputDir: options.inputDir ?? './migration-data',
    tables: options.tables ?? [],
    excludeTables: options.excludeTables ?? [],
    truncate: options.truncate ?? false,
    onConflict: check.oneOf(options.onConflict, '--on-conflict', ['error', 'skip'] as const, 'error'),
    jobs: check.integer(options.jobs, '--jobs', 1, defaultJobs()),
    dryRun: options.dryRun ?? false,
    userMap: options.userMap,
    userColumns: options.userColumns ?? [],
    unmatched: check.oneOf(options.unmatched, '--unmatched', ['error', 'keep', 'null'] as const, 'error'),
    resume: options.resume ?? false,
    retries: check.integer(options.retries, '--retries', 0, DEFAULT_RETRIES),
    ioTimeout: check.integer(options.ioTimeout, '--io-timeout', 0, DEFAULT_IO_TIMEOUT),
    signal: options.signal,
  };
  if (settings.userColumns.length > 0 && !settings.userMap) {
    check.problems.push('--user-columns needs --user-map (the ids to rewrite them to)');
  }
  check.done();
  return settings;
}
