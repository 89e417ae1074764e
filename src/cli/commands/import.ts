import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { describeViolation } from '../../import/foreign-keys.js';
import { importDatabase, type ImportEvent, type ImportResult } from '../../import/import-database.js';
import { parseImportSettings, type ImportOptions } from '../../import/settings.js';
import { displayName } from '../../pg/sql.js';
import { formatCount, formatRate, textTable } from '../format.js';
import { defaultJobs, SettingsProblems } from '../../settings.js';
import { chooseDatabase } from '../database.js';
import { addUserMapOptions, checkSettings, collect, type UserMapFlags } from '../options.js';
import { plural } from '../terminal.js';
import { readUserMap } from '../../format/user-map.js';
import { ProgressDisplay } from '../progress.js';
import { scanUsers, type UserIdScan } from '../../users/scan.js';
import { scanReport } from '../user-scan.js';
import { action, EXIT_FAILED, EXIT_USAGE, interruption } from '../run.js';

interface ImportFlags extends UserMapFlags {
  targetUrl?: string;
  inputDir: string;
  table?: string[];
  excludeTable?: string[];
  truncate?: boolean;
  onConflict?: string;
  jobs?: string;
  dryRun?: boolean;
  json?: boolean;
  resume?: boolean;
  retries?: string;
  ioTimeout?: string;
}

export function registerImport(program: Command): void {
  const command = program
    .command('import')
    .description('load an export into a target database that already has the schema')
    .option(
      '--target-url <url>',
      'target database, URL or host=… dbname=… (default: $TARGET_DB_URL, $DATABASE_URL, PG* variables)',
    )
    .option('-i, --input-dir <path>', 'the export directory', './migration-data')
    .option('--table <name>', 'import only this table, name or schema.name (repeatable)', collect)
    .option('--exclude-table <name>', 'leave this table out (repeatable)', collect)
    .option('--truncate', 'empty the target tables first')
    .option(
      '--on-conflict <mode>',
      'error: refuse non-empty tables (default); skip: leave out rows whose key exists',
    )
    .option('-j, --jobs <n>', `tables loaded at once, parents always first (default: ${defaultJobs()})`);
  addUserMapOptions(command);
  command
    .option(
      '--resume',
      'skip the files an earlier run of this import committed (supamigrate.import_progress in the target)',
    )
    .option(
      '--retries <n>',
      'retry a file after a transient error (connection lost, server restart), with backoff (default: 2)',
    )
    .option(
      '--io-timeout <seconds>',
      'close a connection that carries no data for this long while working, and retry (0: never; default: 300)',
    )
    .option('--dry-run', 'check everything and print the plan; write nothing')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      `
Examples:
  TARGET_DB_URL=postgresql://app:PASS@new-host:5432/app supamigrate import
  supamigrate import --target-url postgresql://localhost/app --dry-run
  supamigrate import -i ./migration-data --truncate --exclude-table audit_log
  supamigrate import --user-map user-map.json --user-columns public.event_logs.actor_id --unmatched keep`,
    )
    .action(action((flags: ImportFlags) => runImport(flags)));
}

async function runImport(flags: ImportFlags): Promise<number> {
  // The library checks every option and owns every default; this maps flags and picks the database the
  // way psql users expect.
  const check = new SettingsProblems();
  const options: ImportOptions = {
    targetUrl: chooseDatabase('target', flags.targetUrl, check),
    inputDir: flags.inputDir,
    tables: flags.table,
    excludeTables: flags.excludeTable,
    truncate: flags.truncate,
    onConflict: flags.onConflict,
    jobs: flags.jobs,
    dryRun: flags.dryRun,
    userColumns: flags.userColumns,
    unmatched: flags.unmatched,
    resume: flags.resume,
    retries: flags.retries,
    ioTimeout: flags.ioTimeout,
    signal: interruption.signal,
  };
  // Every option is checked before the user map is read and anything connects.
  checkSettings(check, () =>
    parseImportSettings({ ...options, userMap: flags.userMap ? { mappings: [], unmatched: [] } : undefined }),
  );
  const userMap = flags.userMap ? await readUserMap(flags.userMap) : undefined;

  const display = new ProgressDisplay(process.stderr, 'importing');
  let result: ImportResult;
  try {
    result = await importDatabase({ ...options, userMap, onEvent: progressHandler(display) });
  } finally {
    display.stop();
  }
  // A dry run with a user map also proposes the columns holding user ids without a foreign key.
  // (An export without auth users has no ids to look for: the plan is shown without it.)
  const scan =
    result.dryRun && userMap
      ? await scanUsers({
          inputDir: flags.inputDir,
          tables: flags.table,
          excludeTables: flags.excludeTable,
        }).catch((err: unknown) => (err instanceof UsageError ? undefined : Promise.reject(err)))
      : undefined;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ...result, complete: !result.dryRun && result.failures.length === 0 && result.violations.length === 0, ...(scan ? { userIdScan: scan } : {}) })}\n`,
    );
  } else if (result.dryRun) {
    printPlan(result);
    if (scan) printScan(scan, flags);
  } else {
    printSummary(result);
  }
  if (result.dryRun) return result.problems.length > 0 ? EXIT_USAGE : 0;
  return result.failures.length > 0 || result.violations.length > 0 ? EXIT_FAILED : 0;
}

export function progressHandler(display: ProgressDisplay) {
  return (event: ImportEvent) => {
    if (display.show(event)) return;
    switch (event.type) {
      case 'plan':
        display.verb = 'importing';
        display.log(
          `Importing ${plural(event.tables.length, 'table')} (${plural(
            event.tables.reduce((n, t) => n + t.rowCount, 0),
            'row',
          )}) as ${event.role}; triggers kept from firing by ${event.triggerMode === 'replica' ? 'session_replication_role = replica' : 'ALTER TABLE … DISABLE TRIGGER USER per table (foreign keys are still checked)'}`,
        );
        break;
      case 'table-done':
        display.finish(
          displayName(event),
          `✓ ${displayName(event)}: ${formatCount(event.result.inserted)} rows, ${event.result.seconds.toFixed(1)} s (${formatRate(event.result.rows, event.result.seconds)})`,
        );
        break;
    }
  };
}

function printPlan(result: ImportResult): void {
  console.log(`Dry run: ${plural(result.tables.length, 'table')} in load order (nothing written)\n`);
  const rows = result.tables.map((t, i) => [
    String(i + 1),
    displayName(t),
    formatCount(t.rowCount),
    t.truncate ? 'truncate first' : t.nonEmpty ? 'NOT EMPTY' : 'empty',
    t.files.length > 1 ? `${t.files.length} parts: ${t.files[0]} …` : t.files[0]!,
  ]);
  console.log(textTable(['#', 'table', 'rows', 'target', 'file'], rows, [0, 2]));
  console.log(
    `\nTriggers: ${result.triggerMode === 'replica' ? 'session_replication_role = replica' : 'ALTER TABLE … DISABLE TRIGGER USER per table'} (as ${result.role})`,
  );
  printUserColumns(result, 'to rewrite');
  for (const note of result.notes) console.log(`note: ${note}`);
  if (result.problems.length > 0) {
    console.log(`\n${result.problems.length} problem(s) would stop the import:`);
    for (const p of result.problems) console.log(`  ✗ ${p}`);
  } else console.log('\nNo problems found: the import can run.');
}

function printScan(scan: UserIdScan, flags: ImportFlags): void {
  console.log(`\nUser ids in columns without a foreign key (users scan):`);
  for (const line of scanReport(scan, `import -i ${flags.inputDir} --user-map ${flags.userMap}`))
    console.log(line);
  const given = new Set(flags.userColumns ?? []);
  const missing = scan.proposed
    .map((c) => `${c.schema}.${c.table}.${c.column}`)
    .filter((c) => !given.has(c) && !(c.startsWith('public.') && given.has(c.slice('public.'.length))));
  if (missing.length > 0)
    console.log(`note: not in your --user-columns, so kept as they are: ${missing.join(', ')}`);
}

function printSummary(result: ImportResult): void {
  const loaded = new Map(result.loaded.map((l) => [displayName(l), l]));
  const failed = new Map(result.failures.map((f) => [f.table, f.error]));
  const rows = result.tables.map((t) => {
    const l = loaded.get(displayName(t));
    return [
      displayName(t),
      l ? formatCount(l.inserted) : 'FAILED',
      l && l.inserted !== l.rows ? formatCount(l.rows - l.inserted) : '',
      l ? l.seconds.toFixed(2) : '',
    ];
  });
  console.log(`\n${textTable(['table', 'rows', 'skipped', 'seconds'], rows, [1, 2, 3])}`);
  printUserColumns(result, 'rewritten');
  console.log(
    `\nSequences set (each past the largest value of its column, or to the source's position): ${result.sequences.length}`,
  );
  if (result.violations.length > 0) {
    console.log(
      `\nForeign keys VIOLATED in the target: ${result.violations.length} (rows that reference nothing):`,
    );
    for (const v of result.violations) console.log(`  ✗ ${describeViolation(v)}`);
  }
  if (result.failures.length === 0 && result.violations.length === 0) {
    console.log(
      `Imported ${plural(result.loaded.length, 'table')}; every table's row count matches metadata.json.`,
    );
  } else if (result.failures.length === 0) {
    console.log(
      `Imported ${plural(result.loaded.length, 'table')}, but the target's foreign keys do not hold: load the referenced rows (or fix the references) before using it.`,
    );
  } else {
    console.log(
      `\nImport INCOMPLETE: ${result.failures.length} table(s) failed (a failed load is rolled back unless its line says otherwise):`,
    );
    for (const [table, error] of failed) console.log(`  ✗ ${table}: ${error}`);
  }
}

function printUserColumns(result: ImportResult, verb: string): void {
  if (result.userColumns.length === 0) return;
  console.log(`\nUser-id columns ${verb}:`);
  const rows = result.userColumns.map((c) => [
    `${displayName({ schema: c.schema, name: c.table })}.${c.column}${c.isArray ? '[]' : ''}`,
    c.foundBy,
    formatCount(c.rewritten),
    formatCount(c.unmatched),
    formatCount(c.notUserIds),
  ]);
  console.log(
    textTable(['column', 'found by', 'rewritten', 'unmatched', 'not user ids (kept)'], rows, [2, 3, 4]),
  );
}
