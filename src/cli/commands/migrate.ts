import type { Command } from 'commander';
import { readUserMap } from '../../format/user-map.js';
import { migrate, type MigrateEvent, type MigrateResult } from '../../migrate/migrate.js';
import { parseMigrateSettings, type MigrateOptions } from '../../migrate/settings.js';
import { displayName } from '../../pg/sql.js';
import { defaultJobs, SettingsProblems } from '../../settings.js';
import { chooseDatabase } from '../database.js';
import { formatBytes, formatCount, formatRate, textTable } from '../format.js';
import { addUserMapOptions, checkSettings, collect, type UserMapFlags } from '../options.js';
import { ProgressDisplay } from '../progress.js';
import { action, EXIT_FAILED, interruption } from '../run.js';
import { plural } from '../terminal.js';

interface MigrateFlags extends S3SideFlags, UserMapFlags {
  dbUrl?: string;
  targetUrl?: string;
  schema?: string[];
  table?: string[];
  excludeTable?: string[];
  skipAuth?: boolean;
  skipLargeObjects?: boolean;
  verify?: string;
  truncate?: boolean;
  jobs?: string;
  splitRows?: string;
  keepFiles?: string;
  compress?: string;
  resume?: boolean;
  dryRun?: boolean;
  retries?: string;
  ioTimeout?: string;
  json?: boolean;
  bucketMap?: string[];
  renameUserFolders?: boolean;
}

export function registerMigrate(program: Command): void {
  const command = program
    .command('migrate')
    .description(
      'schema, data, sequences, foreign-key check and verify, source → target, in one resumable run',
    )
    .option(
      '--db-url <url>',
      'source database, URL or host=… dbname=… (default: $SUPABASE_DB_URL, $DATABASE_URL, PG* variables)',
    )
    .option('--target-url <url>', 'target database (default: $TARGET_DB_URL, $DATABASE_URL, PG* variables)')
    .option(
      '--schema <name>',
      'move the tables of this schema (repeatable; default: the application schemas)',
      collect,
    )
    .option('--table <name>', 'move only this table, name or schema.name (repeatable)', collect)
    .option('--exclude-table <name>', 'leave this table out (repeatable)', collect)
    .option('--skip-auth', 'do not move auth.users and auth.identities')
    .option(
      '--skip-large-objects',
      'move oid columns that name large objects as their values alone (the objects are not moved)',
    )
    .option('--verify <mode>', 'after the data: checksums (default), counts or none');
  addUserMapOptions(command);
  command
    .option('--truncate', 'empty the target tables first (without it, tables holding rows stop the run)')
    .option('-j, --jobs <n>', `connections at once on each side (default: ${defaultJobs()})`)
    .option('--split-rows <n>', 'read tables of at least this many rows in --jobs parallel ranges')
    .option(
      '--keep-files <dir>',
      'write the export directory here and keep it (default: a private temporary directory, removed at success)',
    )
    .option('--compress <method>', 'with --keep-files: gzip, gzip:<1-9> or none')
    .option(
      '--resume',
      'finish an interrupted migrate (the same command line): finished tables are not moved again',
    )
    .option('--retries <n>', 'retry a table after a transient error, on a new connection (default: 2)')
    .option(
      '--io-timeout <seconds>',
      'close a connection that carries no data for this long while working, and retry (0: never; default: 300)',
    )
    .option('--dry-run', 'connect, check both databases and plan; write nothing')
    .option('--json', 'print the result as one JSON object on stdout (progress stays on stderr)')
    .option(
      '--bucket-map <from=to>',
      'storage: put bucket from into bucket to at the target (repeatable)',
      collect,
    )
    .option(
      '--rename-user-folders',
      "storage: with --user-map, rename keys whose first folder is a user's old id",
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 migrated and verified, 1 something failed or differs, 2 usage or connection error.

Examples:
  supamigrate migrate --db-url "$SUPABASE_DB_URL" --target-url postgresql://app@new-host/app
  supamigrate migrate --db-url "$SUPABASE_DB_URL" --target-url "$TARGET_DB_URL" --dry-run
  supamigrate migrate --db-url … --target-url … --user-map user-map.json --keep-files ./migration-data
  supamigrate migrate --db-url … --target-url … --resume          # after an interruption
  supamigrate migrate --db-url … --target-url … --s3-endpoint https://abcdefgh.supabase.co/storage/v1/s3 \\
    --target-s3-endpoint https://s3.eu-central-1.amazonaws.com --target-s3-region eu-central-1`,
    )
    .action(action((flags: MigrateFlags) => runMigrate(flags)));
  addS3Options(command);
}

async function runMigrate(flags: MigrateFlags): Promise<number> {
  const check = new SettingsProblems();
  const options: MigrateOptions = {
    dbUrl: chooseDatabase('source', flags.dbUrl, check),
    targetUrl: chooseDatabase('target', flags.targetUrl, check),
    schemas: flags.schema,
    tables: flags.table,
    excludeTables: flags.excludeTable,
    skipAuth: flags.skipAuth,
    skipLargeObjects: flags.skipLargeObjects,
    verify: flags.verify,
    userColumns: flags.userColumns,
    unmatched: flags.unmatched,
    truncate: flags.truncate,
    jobs: flags.jobs,
    splitRows: flags.splitRows,
    keepFiles: flags.keepFiles,
    compress: flags.compress,
    resume: flags.resume,
    dryRun: flags.dryRun,
    retries: flags.retries,
    ioTimeout: flags.ioTimeout,
    signal: interruption.signal,
    storage: storageOptions(flags, check),
  };
  // Every option is checked before the user map is read and anything connects.
  checkSettings(check, () =>
    parseMigrateSettings({
      ...options,
      userMap: flags.userMap ? { mappings: [], unmatched: [] } : undefined,
    }),
  );
  const userMap = flags.userMap ? await readUserMap(flags.userMap) : undefined;
  const display = new ProgressDisplay(process.stderr, 'loading', 'connecting to the source and the target');
  let result: MigrateResult;
  try {
    result = await migrate({ ...options, userMap, onEvent: progressHandler(display) });
  } finally {
    display.stop();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(jsonResult(result))}\n`);
  else printSummary(result);
  return result.complete || result.dryRun ? 0 : EXIT_FAILED;
}

/** The S3 flags of both sides, as migrate and demo take them. */
export interface S3SideFlags {
  s3Endpoint?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  s3Region?: string;
  targetS3Endpoint?: string;
  targetS3AccessKeyId?: string;
  targetS3SecretAccessKey?: string;
  targetS3Region?: string;
}

/** Both S3 sides, when either endpoint is given (both are needed); undefined when neither is. */
export function s3Sides(flags: S3SideFlags, check: SettingsProblems) {
  if (!flags.s3Endpoint && !flags.targetS3Endpoint) return undefined;
  if (!flags.s3Endpoint || !flags.targetS3Endpoint)
    check.problems.push(
      `${flags.s3Endpoint ? '--target-s3-endpoint' : '--s3-endpoint'}: missing (moving the storage files needs both the source's and the target's S3 endpoint)`,
    );
  return {
    source: {
      endpoint: flags.s3Endpoint,
      accessKeyId: flags.s3AccessKeyId,
      secretAccessKey: flags.s3SecretAccessKey,
      region: flags.s3Region,
    },
    target: {
      endpoint: flags.targetS3Endpoint,
      accessKeyId: flags.targetS3AccessKeyId,
      secretAccessKey: flags.targetS3SecretAccessKey,
      region: flags.targetS3Region,
    },
  };
}

/** The S3 options of both sides (migrate and demo); `endpoints` says what each endpoint is for. */
export function addS3Options(
  command: Command,
  endpoints = {
    source:
      "also move Supabase Storage's files, from this S3 endpoint (https://<ref>.supabase.co/storage/v1/s3); needs --target-s3-endpoint",
    target: 'the S3 endpoint the files go to (AWS S3, R2, MinIO, Supabase)',
  },
): void {
  command
    .option('--s3-endpoint <url>', endpoints.source)
    .option('--s3-access-key-id <id>', 'source S3 access key id (default: $AWS_ACCESS_KEY_ID)')
    .option('--s3-secret-access-key <key>', 'source S3 secret (default: $AWS_SECRET_ACCESS_KEY)')
    .option('--s3-region <region>', 'source S3 region (default: $AWS_REGION)')
    .option('--target-s3-endpoint <url>', endpoints.target)
    .option('--target-s3-access-key-id <id>', 'target S3 access key id (default: $TARGET_AWS_ACCESS_KEY_ID)')
    .option(
      '--target-s3-secret-access-key <key>',
      'target S3 secret (default: $TARGET_AWS_SECRET_ACCESS_KEY)',
    )
    .option('--target-s3-region <region>', 'target S3 region (default: $TARGET_AWS_REGION)');
}

/** The storage step's options, when either S3 endpoint is given. */
function storageOptions(flags: MigrateFlags, check: SettingsProblems): MigrateOptions['storage'] {
  const sides = s3Sides(flags, check);
  if (!sides) return undefined;
  return {
    ...sides,
    bucketMap: flags.bucketMap,
    userMapFile: flags.userMap,
    renameUserFolders: flags.renameUserFolders,
  };
}

const STEP_PHASES: Record<string, string> = {
  connect: 'connecting to the source and the target',
  schema: 'creating the schema in the target',
  data: 'exporting and loading',
  'foreign keys': 'checking foreign keys',
  sequences: 'setting sequences',
  verify: 'verifying',
  storage: 'moving the storage files',
};

function progressHandler(display: ProgressDisplay) {
  return (e: MigrateEvent) => {
    switch (e.type) {
      case 'step':
        if (e.status === 'start') display.phase(STEP_PHASES[e.step] ?? e.step);
        else if (e.status === 'skipped') display.log(`– ${e.step}: skipped (${e.detail})`);
        else if (e.detail) display.log(`✓ ${e.step}: ${e.detail}`);
        break;
      case 'note':
        display.log(`note: ${e.message}`);
        break;
      case 'verify':
        display.checkedTable();
        if (e.table.status !== 'match')
          display.log(`✗ ${displayName(e.table)}: ${e.table.problems.join('; ')}`);
        break;
      case 'export': {
        // The status line and the bars follow the load (the import's events); the export's tables are
        // told as lines when written.
        const event = e.event;
        if (event.type === 'phase' || event.type === 'note' || event.type === 'table-failed')
          display.show(event);
        if (event.type === 'plan') display.log(describePlan(event.tables));
        if (event.type === 'table-done')
          display.log(
            `  exported ${displayName(event)}: ${formatCount(event.result.rowCount)} rows, ${formatBytes(event.result.bytes)}, ${event.result.seconds.toFixed(1)} s`,
          );
        break;
      }
      case 'import': {
        const event = e.event;
        if (event.type === 'phase' && event.phase === 'loading') return;
        if (display.show(event)) return;
        if (event.type === 'plan')
          display.log(
            `Loading ${plural(event.tables.length, 'table')} as ${event.role}; triggers kept from firing by ${event.triggerMode === 'replica' ? 'session_replication_role = replica' : 'ALTER TABLE … DISABLE TRIGGER USER'}`,
          );
        if (event.type === 'table-done')
          display.finish(
            displayName(event),
            `  loaded ${displayName(event)}: ${formatCount(event.result.inserted)} rows, ${event.result.seconds.toFixed(1)} s (${formatRate(event.result.rows, event.result.seconds)})`,
          );
        break;
      }
    }
  };
}

function jsonResult(r: MigrateResult) {
  return {
    complete: r.complete,
    dryRun: r.dryRun,
    workDir: r.workDir,
    workDirKept: r.workDirKept,
    steps: r.steps,
    schemaCreated: r.schemaCreated,
    // rowCount: what the export read, or for a table copied directly what its copy counted (the planner's
    // estimate, with `estimated`, when the copy is not this run's: a dry run, or an earlier run's).
    tables: (r.export?.manifest?.tables ?? r.export?.tables ?? []).map((t) => {
      const copied = r.import?.loaded.find((l) => l.schema === t.schema && l.name === t.name);
      const direct = t.method === 'direct';
      return {
        schema: t.schema,
        name: t.name,
        method: t.method,
        rowCount: direct && copied ? copied.rows : t.rowCount,
        ...(direct && !copied ? { estimated: true } : {}),
      };
    }),
    import: r.import && {
      loaded: r.import.loaded,
      failures: r.import.failures,
      violations: r.import.violations,
      sequences: r.import.sequences,
      userColumns: r.import.userColumns,
      notes: r.import.notes,
    },
    verify: r.verify && {
      mode: r.verify.mode,
      ok: r.verify.result.ok,
      tables: r.verify.result.tables,
    },
    storage: r.storage,
    failures: r.failures,
  };
}

function printSummary(r: MigrateResult): void {
  const rows = r.steps.map((s) => [
    s.step,
    s.status,
    s.status === 'skipped' ? '' : s.seconds.toFixed(1),
    s.detail ?? '',
  ]);
  console.log(`\n${textTable(['step', 'status', 'seconds', 'what'], rows, [2])}`);
  if (r.dryRun) {
    console.log(`\nDry run: nothing written.`);
    for (const t of r.export?.tables ?? [])
      console.log(
        `  ${displayName(t)}  about ${plural(t.rowCount, 'row')}, ${t.method === 'direct' ? 'copied directly' : 'through files'}`,
      );
    return;
  }
  for (const note of r.import?.notes ?? []) console.log(`note: ${note}`);
  const tables = r.export?.manifest?.tables ?? [];
  const rowsMoved = r.import?.rowsLoaded ?? 0;
  const copied = tables.filter((t) => t.method === 'direct').length;
  if (r.complete) {
    const verified =
      r.verify?.mode === 'checksums'
        ? `${copied === tables.length ? 'source and target' : 'source, files and target'} have the same row counts and checksums`
        : r.verify?.mode === 'counts'
          ? 'source and target have the same row counts'
          : 'not verified (--verify none)';
    console.log(`\nMigrated ${plural(tables.length, 'table')} (${plural(rowsMoved, 'row')}); ${verified}.`);
    if (r.storage)
      console.log(
        `Storage: ${plural(r.storage.objects, 'object')} (${formatBytes(r.storage.bytes)}) moved; the target's keys, sizes and content hashes match the export and the source's rows.`,
      );
    if (r.workDirKept) console.log(`The export is kept in ${r.workDir}.`);
    return;
  }
  console.log(`\nMigrate INCOMPLETE: ${plural(r.failures.length, 'problem')}:`);
  for (const f of r.failures) console.log(`  ✗ ${f}`);
  console.log(
    `The work directory ${r.workDir} is kept: fix the cause, then run the same command with --resume.`,
  );
}

/** The export's plan, as migrate does it: how many tables go through files, how many are copied directly. */
function describePlan(tables: readonly { rowCount: number; method: string }[]): string {
  const copied = tables.filter((t) => t.method === 'direct');
  const rows = (list: readonly { rowCount: number }[]) =>
    `about ${plural(
      list.reduce((n, t) => n + t.rowCount, 0),
      'row',
    )}`;
  const files = tables.length - copied.length;
  return [
    copied.length > 0
      ? `Copying ${plural(copied.length, 'table')} (${rows(copied)}) directly from the source's COPY into the target's`
      : null,
    files > 0 || copied.length === 0
      ? `Exporting ${plural(files, 'table')} (${rows(tables.filter((t) => t.method !== 'direct'))}) to files`
      : null,
  ]
    .filter((line) => line !== null)
    .join('; ')
    .concat(', in one snapshot');
}
