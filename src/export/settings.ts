import type { ExportEvent } from './events.js';
import { DEFAULT_STREAMING_THRESHOLD } from '../catalog/select-tables.js';
import type { ExportFormat } from '../format/file-layout.js';
import type { ExportManifest } from '../format/manifest.js';
import { DEFAULT_IO_TIMEOUT } from '../pg/io-timeout.js';
import { DEFAULT_RETRIES } from '../pg/retry.js';
import { defaultJobs, SettingsProblems, type NumberOption } from '../settings.js';

/** Tables with at least this many rows are read in parallel ranges (when --jobs allows). */
export const DEFAULT_SPLIT_ROWS = 250_000;

export interface ExportOptions {
  dbUrl: string;
  /** Default: ./migration-data */
  outputDir?: string;
  /** Default: public */
  schemas?: string[];
  tables?: string[];
  excludeTables?: string[];
  skipLarge?: boolean;
  skipAuth?: boolean;
  /** Tables that always stream, and that --skip-large leaves out. Default: none. */
  largeTables?: string[];
  /** Tables with more rows than this stream (default 10,000). */
  streamingThreshold?: NumberOption;
  format?: ExportFormat | string;
  /** Connections reading at once (tables, or ranges of large tables), all sharing one snapshot. Default: cores. */
  jobs?: NumberOption;
  /** Tables with at least this many rows are split into `jobs` ranges read in parallel. */
  splitRows?: NumberOption;
  dryRun?: boolean;
  /** Replace an export already in outputDir. */
  force?: boolean;
  /**
   * Finish an interrupted export in outputDir: complete tables (and parts) whose files still match their
   * sha256 are kept, the rest is exported again, with the original run's choices of tables and format.
   */
  resume?: boolean;
  /** Retry a table (or part) after a transient error, on a new connection in the same snapshot. Default 2. */
  retries?: NumberOption;
  /**
   * Seconds a query or COPY in flight may go without a byte in or out before its connection is closed and
   * the work fails as a transient error (retried under `retries`). 0: never. Default 300.
   */
  ioTimeout?: NumberOption;
  /** Stops the export: unfinished files are removed, metadata.json says what is complete. */
  signal?: AbortSignal;
  onEvent?: (event: ExportEvent) => void;
}

/** ExportOptions checked, with every default filled in. */
export interface ExportSettings {
  dbUrl: string;
  outputDir: string;
  schemas: string[];
  tables: string[];
  excludeTables: string[];
  skipLarge: boolean;
  skipAuth: boolean;
  largeTables: string[];
  streamingThreshold: number;
  format: ExportFormat;
  jobs: number;
  splitRows: number;
  dryRun: boolean;
  force: boolean;
  resume: boolean;
  retries: number;
  ioTimeout: number;
  signal: AbortSignal | undefined;
}

/** Checks the options before anything connects; every problem is reported at once (UsageError). */
export function parseExportSettings(options: ExportOptions): ExportSettings {
  const check = new SettingsProblems();
  const dbUrl = check.database(options.dbUrl, '--db-url', 'SUPABASE_DB_URL');
  const settings: ExportSettings = {
    dbUrl,
    outputDir: options.outputDir ?? './migration-data',
    schemas: options.schemas?.length ? options.schemas : ['public'],
    tables: options.tables ?? [],
    excludeTables: options.excludeTables ?? [],
    skipLarge: options.skipLarge ?? false,
    skipAuth: options.skipAuth ?? false,
    largeTables: options.largeTables ?? [],
    streamingThreshold: check.integer(
      options.streamingThreshold,
      '--streaming-threshold',
      0,
      DEFAULT_STREAMING_THRESHOLD,
    ),
    format: check.oneOf(options.format, '--format', ['json', 'ndjson'] as const, 'json'),
    jobs: check.integer(options.jobs, '--jobs', 1, defaultJobs()),
    splitRows: check.integer(options.splitRows, '--split-rows', 1, DEFAULT_SPLIT_ROWS),
    dryRun: options.dryRun ?? false,
    force: options.force ?? false,
    resume: options.resume ?? false,
    retries: check.integer(options.retries, '--retries', 0, DEFAULT_RETRIES),
    ioTimeout: check.integer(options.ioTimeout, '--io-timeout', 0, DEFAULT_IO_TIMEOUT),
    signal: options.signal,
  };
  if (settings.resume && settings.force) {
    check.problems.push('--resume finishes the export in the directory and --force replaces it: choose one');
  }
  if (settings.skipLarge && settings.largeTables.length === 0) {
    check.problems.push('--skip-large needs --large-tables: which tables are the large ones');
  }
  check.done();
  return settings;
}

/** A resumed export keeps the choices of the run it finishes: its tables, schemas and format. */
export function resumedSettings(settings: ExportSettings, previous: ExportManifest): ExportSettings {
  const o = previous.options;
  return {
    ...settings,
    schemas: o.schemas ?? settings.schemas,
    tables: o.tables ?? settings.tables,
    excludeTables: o.excludeTables ?? settings.excludeTables,
    skipLarge: o.skipLarge ?? settings.skipLarge,
    skipAuth: o.skipAuth ?? settings.skipAuth,
    largeTables: o.largeTables ?? settings.largeTables,
    streamingThreshold: o.streamingThreshold ?? settings.streamingThreshold,
    format: previous.format,
  };
}

/** What metadata.json records of the options (export --resume reads them back). */
export const recordedOptions = (s: ExportSettings): ExportManifest['options'] => ({
  schemas: s.schemas,
  tables: s.tables,
  excludeTables: s.excludeTables,
  skipLarge: s.skipLarge,
  skipAuth: s.skipAuth,
  largeTables: s.largeTables,
  streamingThreshold: s.streamingThreshold,
  jobs: s.jobs,
});
