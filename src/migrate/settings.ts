import { parseS3Settings, type S3Options, type S3Settings } from '../storage/s3-settings.js';
import { parseExportSettings, type ExportOptions, type ExportSettings } from '../export/settings.js';
import type { UserMap } from '../format/user-map.js';
import { parseImportSettings, type ImportOptions, type ImportSettings } from '../import/settings.js';
import { parseConninfo, withEnvironment } from '../pg/conninfo.js';
import { describeUrl } from '../pg/connect.js';
import { UsageError } from '../errors.js';
import { SettingsProblems, type NumberOption } from '../settings.js';
import type { MigrateEvent } from './events.js';

export const VERIFY_MODES = ['checksums', 'counts', 'none'] as const;
export type VerifyMode = (typeof VERIFY_MODES)[number];

export interface MigrateOptions {
  /** The source database. */
  dbUrl: string;
  /** The target database: empty, or with the source's application tables, empty (or `truncate`). */
  targetUrl: string;
  /** Default: the source's application schemas. */
  schemas?: string[];
  tables?: string[];
  excludeTables?: string[];
  /** Leave auth.users and auth.identities out of the work directory. */
  skipAuth?: boolean;
  skipLargeObjects?: boolean;
  /** After the data: `checksums` (default: source, files and target compared row by row), `counts`, `none`. */
  verify?: VerifyMode | string;
  userMap?: UserMap;
  userColumns?: string[];
  unmatched?: string;
  /** Empty the target's tables first (they may hold rows only then). */
  truncate?: boolean;
  /** Connections at once, on each side. Default: cores. */
  jobs?: NumberOption;
  splitRows?: NumberOption;
  /** Write the export directory here and keep it. Default: a private directory, removed on success. */
  keepFiles?: string;
  /** With keepFiles: compress its data files (gzip, gzip:<1-9>, none). */
  compress?: string;
  /** Finish an interrupted migrate (same databases and options). */
  resume?: boolean;
  /** Connect, check and plan; write nothing. */
  dryRun?: boolean;
  retries?: NumberOption;
  ioTimeout?: NumberOption;
  /** Where the private work directory goes (default: os.tmpdir()). */
  tempDir?: string;
  /**
   * Also move the files of Supabase Storage, after the data: from the source's S3 endpoint (credentials
   * from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION when not given) to the target's
   * (TARGET_AWS_ACCESS_KEY_ID/TARGET_AWS_SECRET_ACCESS_KEY/TARGET_AWS_REGION), then verified.
   */
  storage?: MigrateStorageOptions;
  signal?: AbortSignal;
  onEvent?: (event: MigrateEvent) => void;
}

export interface MigrateStorageOptions {
  source: S3Options;
  target: S3Options;
  /** --bucket-map from=to (repeatable). */
  bucketMap?: string[];
  /** The user-map.json file (its owners and user folders): the map `userMap` was read from. */
  userMapFile?: string;
  renameUserFolders?: boolean;
}

export interface MigrateSettings {
  dbUrl: string;
  targetUrl: string;
  verify: VerifyMode;
  keepFiles: string | undefined;
  tempDir: string | undefined;
  resume: boolean;
  dryRun: boolean;
  truncate: boolean;
  userMap: UserMap | undefined;
  /** The export's settings (checked), and the options they come from (its directory: the work directory). */
  export: ExportSettings;
  exportOptions: ExportOptions;
  /** The import's settings (checked), and the options they come from. */
  import: ImportSettings;
  importOptions: ImportOptions;
  /** The storage step's sides (null: no storage step). */
  storage: {
    source: S3Settings;
    target: S3Settings;
    bucketMap: string[];
    userMapFile: string | undefined;
    renameUserFolders: boolean;
  } | null;
  signal: AbortSignal | undefined;
}

/**
 * Checks every option before anything connects, export's and import's checks included, and reports every
 * problem at once (UsageError); refuses a source and target that name the same database.
 */
export function parseMigrateSettings(options: MigrateOptions): MigrateSettings {
  const check = new SettingsProblems();
  const dbUrl = check.database(options.dbUrl, '--db-url', 'SUPABASE_DB_URL');
  const targetUrl = check.database(options.targetUrl, '--target-url', 'TARGET_DB_URL');
  const verify = check.oneOf(options.verify, '--verify', VERIFY_MODES, 'checksums');
  if (options.compress !== undefined && options.keepFiles === undefined)
    check.problems.push('--compress needs --keep-files (the files are only kept with it)');
  if (dbUrl && targetUrl && check.problems.length === 0 && sameDatabase(dbUrl, targetUrl))
    check.problems.push(sameDatabaseProblem(targetUrl));
  const given = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      const said = new Set(check.problems);
      check.problems.push(...err.problems.filter((p) => !said.has(p)));
      return undefined;
    }
  };
  const exportOptions: ExportOptions = {
    dbUrl,
    outputDir: options.keepFiles,
    schemas: options.schemas,
    tables: options.tables,
    excludeTables: options.excludeTables,
    skipAuth: options.skipAuth,
    skipLargeObjects: options.skipLargeObjects,
    compress: options.compress,
    jobs: options.jobs,
    splitRows: options.splitRows,
    retries: options.retries,
    ioTimeout: options.ioTimeout,
    resume: options.resume,
    dryRun: options.dryRun,
    signal: options.signal,
  };
  const importOptions: ImportOptions = {
    targetUrl,
    truncate: options.truncate,
    jobs: options.jobs,
    userMap: options.userMap,
    userColumns: options.userColumns,
    unmatched: options.unmatched,
    retries: options.retries,
    ioTimeout: options.ioTimeout,
    resume: options.resume,
    dryRun: options.dryRun,
    signal: options.signal,
  };
  // Their own checks, each problem once (the databases are checked above).
  const exportSettings = given(() =>
    parseExportSettings({ ...exportOptions, dbUrl: dbUrl || 'postgresql://placeholder/x' }),
  );
  const importSettings = given(() =>
    parseImportSettings({ ...importOptions, targetUrl: targetUrl || 'postgresql://placeholder/x' }),
  );
  const storage = options.storage
    ? {
        source: parseS3Settings(options.storage.source, check),
        target: parseS3Settings(options.storage.target, check, process.env, TARGET_S3),
        bucketMap: options.storage.bucketMap ?? [],
        userMapFile: options.storage.userMapFile,
        renameUserFolders: options.storage.renameUserFolders ?? false,
      }
    : null;
  if (options.storage?.renameUserFolders && !options.storage.userMapFile)
    check.problems.push('--rename-user-folders needs --user-map (the new ids the folders are renamed to)');
  check.done();
  return {
    dbUrl,
    targetUrl,
    verify,
    keepFiles: options.keepFiles,
    tempDir: options.tempDir,
    resume: options.resume ?? false,
    dryRun: options.dryRun ?? false,
    truncate: options.truncate ?? false,
    userMap: options.userMap,
    export: { ...exportSettings!, dbUrl },
    exportOptions,
    import: { ...importSettings!, targetUrl },
    importOptions,
    storage,
    signal: options.signal,
  };
}

/** The target side's S3 options, as migrate names them. */
const TARGET_S3 = { flag: '--target-s3', env: 'TARGET_AWS' };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Where a connection string goes: host (loopback names as one), port, database; null if unreadable. */
function destination(url: string): string | null {
  try {
    const params = withEnvironment(parseConninfo(url));
    const rawHost = params.hostaddr ?? params.host ?? 'localhost';
    const host = LOOPBACK.has(rawHost) || rawHost.startsWith('/') ? 'loopback' : rawHost.toLowerCase();
    const user = describeUrl(url).split('@')[0];
    return `${host}:${params.port ?? '5432'}/${params.dbname ?? user}`;
  } catch {
    return null;
  }
}

/** Whether two connection strings name the same database before connecting (same host, port and name). */
export function sameDatabase(a: string, b: string): boolean {
  const [x, y] = [destination(a), destination(b)];
  return x !== null && x === y;
}

export const sameDatabaseProblem = (targetUrl: string): string =>
  `the source and the target are the same database (${describeUrl(targetUrl)}): a migrate into its own source would load every row onto itself; give another --target-url`;
