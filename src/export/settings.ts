import type { ExportEvent } from './events.js';
import { DEFAULT_STREAMING_THRESHOLD } from '../catalog/select-tables.js';
import type { ExportFormat } from '../format/file-layout.js';
import { compressionName, parseCompression, type Compression } from '../format/compression.js';
import type { ExportManifest } from '../format/manifest.js';
import { DEFAULT_IO_TIMEOUT } from '../pg/io-timeout.js';
import { DEFAULT_RETRIES } from '../pg/retry.js';
import type { SharedSnapshot } from '../pg/snapshot.js';
import type { EncodedTable } from '../codec/encode-column.js';
import type { TypeDefinitions } from '../catalog/type-definitions.js';
import { UsageError } from '../errors.js';
import { defaultJobs, SettingsProblems, type NumberOption } from '../settings.js';

/** Tables with at least this many rows are read in parallel ranges (when --jobs allows). */
export const DEFAULT_SPLIT_ROWS = 250_000;

export interface ExportOptions {
  dbUrl: string;
  /** Default: ./migration-data */
  outputDir?: string;
  /** Default: the application's schemas (readAppSchemas: every schema not Supabase's, PostgreSQL's or an extension's). */
  schemas?: string[];
  tables?: string[];
  excludeTables?: string[];
  skipLarge?: boolean;
  skipAuth?: boolean;
  /**
   * Export the values of oid columns that name large objects (pg_largeobject) without the objects: the
   * target's oids will name nothing. Without it, such a column stops the export. Default false.
   */
  skipLargeObjects?: boolean;
  /** Tables that always stream, and that --skip-large leaves out. Default: none. */
  largeTables?: string[];
  /** Tables with more rows than this stream (default 10,000). */
  streamingThreshold?: NumberOption;
  format?: ExportFormat | string;
  /**
   * Compress the data files: `gzip` or `gzip:<1-9>` (level; default 6), or `none` (the default). Files are
   * named `….json.gz`; import, verify and users read them as they are.
   */
  compress?: string;
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
  /**
   * Export the auth users before the tables (default: after), so that a reader loading tables as they
   * complete has the users first (migrate). The files are the same.
   */
  authUsersFirst?: boolean;
  /**
   * Read in this snapshot, which the caller opened and closes (migrate, whose direct copies read in it too);
   * default: the export opens its own.
   */
  snapshot?: SharedSnapshot;
  /**
   * Tables written by no file (method `direct`): migrate copies them from the source's COPY straight into
   * the target's, in the same snapshot. Only with a snapshot that can be shared. `types` gives the source's
   * definition of a column type (read in the snapshot).
   */
  direct?: (table: EncodedTable, types: TypeDefinitions) => boolean;
  /** Stops the export: unfinished files are removed, metadata.json says what is complete. */
  signal?: AbortSignal;
  onEvent?: (event: ExportEvent) => void;
}

/** ExportOptions checked, with every default filled in. */
export interface ExportSettings {
  dbUrl: string;
  outputDir: string;
  /** Empty until the source is read when `appSchemas`. */
  schemas: string[];
  /** No --schema given: the source's application schemas are exported (resolved after connecting). */
  appSchemas: boolean;
  tables: string[];
  excludeTables: string[];
  skipLarge: boolean;
  skipAuth: boolean;
  skipLargeObjects: boolean;
  largeTables: string[];
  streamingThreshold: number;
  format: ExportFormat;
  compression: Compression | null;
  jobs: number;
  splitRows: number;
  dryRun: boolean;
  force: boolean;
  resume: boolean;
  retries: number;
  ioTimeout: number;
  authUsersFirst: boolean;
  snapshot: SharedSnapshot | undefined;
  direct: ExportOptions['direct'];
  signal: AbortSignal | undefined;
}

/** Checks the options before anything connects; every problem is reported at once (UsageError). */
export function parseExportSettings(options: ExportOptions): ExportSettings {
  const check = new SettingsProblems();
  const dbUrl = check.database(options.dbUrl, '--db-url', 'SUPABASE_DB_URL');
  const settings: ExportSettings = {
    dbUrl,
    outputDir: options.outputDir ?? './migration-data',
    schemas: options.schemas ?? [],
    appSchemas: !options.schemas?.length,
    tables: options.tables ?? [],
    excludeTables: options.excludeTables ?? [],
    skipLarge: options.skipLarge ?? false,
    skipAuth: options.skipAuth ?? false,
    skipLargeObjects: options.skipLargeObjects ?? false,
    largeTables: options.largeTables ?? [],
    streamingThreshold: check.integer(
      options.streamingThreshold,
      '--streaming-threshold',
      0,
      DEFAULT_STREAMING_THRESHOLD,
    ),
    format: check.oneOf(options.format, '--format', ['json', 'ndjson'] as const, 'json'),
    compression: compressionOption(options.compress, check),
    jobs: check.integer(options.jobs, '--jobs', 1, defaultJobs()),
    splitRows: check.integer(options.splitRows, '--split-rows', 1, DEFAULT_SPLIT_ROWS),
    dryRun: options.dryRun ?? false,
    force: options.force ?? false,
    resume: options.resume ?? false,
    retries: check.integer(options.retries, '--retries', 0, DEFAULT_RETRIES),
    ioTimeout: check.integer(options.ioTimeout, '--io-timeout', 0, DEFAULT_IO_TIMEOUT),
    authUsersFirst: options.authUsersFirst ?? false,
    snapshot: options.snapshot,
    direct: options.direct,
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

function compressionOption(value: string | undefined, check: SettingsProblems): Compression | null {
  if (value === undefined) return null;
  const parsed = parseCompression(value);
  if (parsed && 'problem' in parsed) {
    check.problems.push(parsed.problem);
    return null;
  }
  return parsed;
}

/**
 * A resumed export keeps the choices of the run it finishes: its tables, schemas and format. An option
 * given that differs from the recorded choice is refused (a UsageError naming each), never ignored.
 */
export function resumedSettings(
  settings: ExportSettings,
  previous: ExportManifest,
  given: ExportOptions = { dbUrl: settings.dbUrl },
): ExportSettings {
  const o = previous.options;
  const differ: string[] = [];
  const compare = (flag: string, value: unknown, recorded: unknown) => {
    if (value === undefined || recorded === undefined) return;
    if (JSON.stringify(value) !== JSON.stringify(recorded))
      differ.push(`${flag} ${JSON.stringify(value)} (it used ${JSON.stringify(recorded)})`);
  };
  compare('format', given.format, previous.format);
  compare(
    'compress',
    given.compress === undefined ? undefined : compressionName(settings.compression),
    o.compress ?? 'none',
  );
  compare('schemas', given.schemas?.length ? given.schemas : undefined, o.schemas);
  compare('tables', given.tables, o.tables);
  compare('excludeTables', given.excludeTables, o.excludeTables);
  compare('skipLarge', given.skipLarge, o.skipLarge);
  compare('skipAuth', given.skipAuth, o.skipAuth);
  compare('skipLargeObjects', given.skipLargeObjects, o.skipLargeObjects ?? false);
  compare('largeTables', given.largeTables, o.largeTables);
  compare(
    'streamingThreshold',
    given.streamingThreshold === undefined ? undefined : settings.streamingThreshold,
    o.streamingThreshold,
  );
  if (differ.length > 0) {
    throw new UsageError(
      `cannot resume the export in ${settings.outputDir} with other choices than its first run: ${differ.join(', ')}; leave them out, or start over with --force`,
    );
  }
  return {
    ...settings,
    schemas: o.schemas ?? settings.schemas,
    appSchemas: o.schemas ? false : settings.appSchemas,
    tables: o.tables ?? settings.tables,
    excludeTables: o.excludeTables ?? settings.excludeTables,
    skipLarge: o.skipLarge ?? settings.skipLarge,
    skipAuth: o.skipAuth ?? settings.skipAuth,
    skipLargeObjects: o.skipLargeObjects ?? settings.skipLargeObjects,
    largeTables: o.largeTables ?? settings.largeTables,
    streamingThreshold: o.streamingThreshold ?? settings.streamingThreshold,
    format: previous.format,
    compression: recordedCompression(o.compress),
  };
}

/** What metadata.json records of the options (export --resume reads them back). */
export const recordedOptions = (s: ExportSettings): ExportManifest['options'] => ({
  schemas: s.schemas,
  tables: s.tables,
  excludeTables: s.excludeTables,
  skipLarge: s.skipLarge,
  skipAuth: s.skipAuth,
  skipLargeObjects: s.skipLargeObjects,
  largeTables: s.largeTables,
  streamingThreshold: s.streamingThreshold,
  jobs: s.jobs,
  compress: compressionName(s.compression),
});

const recordedCompression = (recorded: string | undefined): Compression | null => {
  const parsed = parseCompression(recorded ?? 'none');
  return parsed && 'problem' in parsed ? null : parsed;
};
