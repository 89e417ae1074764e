import type { Command } from 'commander';
import type { AppSchemas } from '../../catalog/app-schemas.js';
import { describeEdge } from '../../catalog/dependency-order.js';
import { DEFAULT_STREAMING_THRESHOLD } from '../../catalog/select-tables.js';
import {
  DEFAULT_SPLIT_ROWS,
  exportDatabase,
  type ExportEvent,
  type ExportResult,
} from '../../export/export-database.js';
import { parseExportSettings, type ExportOptions } from '../../export/settings.js';
import { chooseDatabase } from '../database.js';
import { plural } from '../terminal.js';
import { displayName } from '../../pg/sql.js';
import { formatBytes, formatCount, formatRate, textTable } from '../format.js';
import { defaultJobs, SettingsProblems } from '../../settings.js';
import { checkSettings, collect, list } from '../options.js';
import { ProgressDisplay } from '../progress.js';
import { action, EXIT_FAILED, interruption } from '../run.js';

interface ExportFlags {
  dbUrl?: string;
  outputDir: string;
  schema?: string[];
  table?: string[];
  excludeTable?: string[];
  largeTables?: string[];
  streamingThreshold?: string;
  skipLarge?: boolean;
  skipLargeObjects?: boolean;
  skipAuth?: boolean;
  dryRun?: boolean;
  format: string;
  compress?: string;
  jobs?: string;
  splitRows?: string;
  force?: boolean;
  resume?: boolean;
  retries?: string;
  ioTimeout?: string;
  json?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export every table to JSON files in foreign-key order, plus the Supabase auth users')
    .option(
      '--db-url <url>',
      'source database, URL or host=… dbname=… (default: $SUPABASE_DB_URL, $DATABASE_URL, PG* variables)',
    )
    .option('-o, --output-dir <path>', 'where to write the files', './migration-data')
    .option('--schema <name>', 'export the tables of this schema (repeatable; default: public)', collect)
    .option('--table <name>', 'export only this table, name or schema.name (repeatable)', collect)
    .option('--exclude-table <name>', 'leave this table out (repeatable)', collect)
    .option(
      '--large-tables <list>',
      'tables that always stream, and that --skip-large leaves out (comma-separated)',
      list,
    )
    .option(
      '--streaming-threshold <n>',
      `stream tables with more rows than this (default: ${DEFAULT_STREAMING_THRESHOLD})`,
    )
    .option('--skip-large', 'leave the --large-tables out')
    .option(
      '--skip-large-objects',
      'export oid columns that name large objects as their values alone (the objects are not exported)',
    )
    .option('--skip-auth', 'do not export auth.users and auth.identities')
    .option('--format <format>', 'json (one array per file) or ndjson (one row per line)', 'json')
    .option(
      '--compress <method>',
      'compress the data files: gzip, gzip:<1-9> (level, default 6) or none (files end in .gz; import, verify and users read them)',
    )
    .option('-j, --jobs <n>', `tables exported at once, sharing one snapshot (default: ${defaultJobs()})`)
    .option(
      '--split-rows <n>',
      `read tables of at least this many rows in --jobs parallel ranges (default: ${DEFAULT_SPLIT_ROWS})`,
    )
    .option('--force', 'replace an export already in the output directory')
    .option(
      '--resume',
      "finish an interrupted export: keep its complete files, export the rest (with the first run's choices)",
    )
    .option(
      '--retries <n>',
      'retry a table after a transient error, on a new connection in the same snapshot',
      '2',
    )
    .option(
      '--io-timeout <seconds>',
      'close a connection that carries no data for this long while working, and retry (0: never; default: 300)',
    )
    .option('--dry-run', 'list the tables in dependency order with exact row counts; write nothing')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      `
Examples:
  SUPABASE_DB_URL=postgresql://postgres:PASS@db.abc.supabase.co:5432/postgres supamigrate export
  supamigrate export --db-url postgresql://localhost/app --dry-run
  supamigrate export --table public.devices --table alerts --skip-auth -o ./one-table
  supamigrate export --schema public --schema billing --format ndjson --jobs 4
  supamigrate export --compress gzip -o ./migration-data`,
    )
    .action(action((flags: ExportFlags, command: Command) => runExport(flags, command)));
}

async function runExport(flags: ExportFlags, command?: Command): Promise<number> {
  // The library checks every option and owns every default; this maps flags, picks the database the
  // way psql users expect, and refuses --force with --resume.
  const check = new SettingsProblems();
  if (flags.resume && command) check.problems.push(...resumeConflicts(command));
  const options: ExportOptions = {
    dbUrl: chooseDatabase('source', flags.dbUrl, check),
    outputDir: flags.outputDir,
    schemas: flags.schema,
    tables: flags.table,
    excludeTables: flags.excludeTable,
    largeTables: flags.largeTables,
    streamingThreshold: flags.streamingThreshold,
    skipLarge: flags.skipLarge,
    skipLargeObjects: flags.skipLargeObjects,
    skipAuth: flags.skipAuth,
    // With --resume, the format is the first run's unless given (then it must be the same).
    format: flags.resume && command?.getOptionValueSource('format') !== 'cli' ? undefined : flags.format,
    compress: flags.compress,
    jobs: flags.jobs,
    splitRows: flags.splitRows,
    dryRun: flags.dryRun,
    force: flags.force,
    resume: flags.resume,
    retries: flags.retries,
    ioTimeout: flags.ioTimeout,
    signal: interruption.signal,
  };
  checkSettings(check, () => parseExportSettings(options));
  const display = new ProgressDisplay(process.stderr, 'exporting');
  let result: ExportResult;
  try {
    result = await exportDatabase({
      ...options,
      onEvent: flags.dryRun ? undefined : progressHandler(display),
    });
  } finally {
    display.stop();
  }

  if (result.nothingToResume) {
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ outputDir: result.outputDir, complete: true, nothingToResume: result.nothingToResume })}\n`,
      );
    } else console.log(result.nothingToResume);
    return 0;
  }
  if (result.dryRun) {
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ tables: result.tables, brokenForeignKeys: result.brokenForeignKeys, schemas: result.schemas })}\n`,
      );
    } else {
      printPlan(result);
    }
    return 0;
  }
  const manifest = result.manifest!;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        outputDir: result.outputDir,
        complete: result.failures.length === 0,
        tables: manifest.tables.map(
          ({ columns: _c, foreignKeys: _f, ownedSequences: _s, primaryKey: _p, ...t }) => t,
        ),
        authUsers: manifest.authUsers && { ...manifest.authUsers, columns: undefined },
        authIdentities: manifest.authIdentities && { ...manifest.authIdentities, columns: undefined },
        brokenForeignKeys: manifest.brokenForeignKeys,
        failures: result.failures,
        notes: manifest.notes,
      })}\n`,
    );
  } else {
    printSummary(result);
  }
  return result.failures.length > 0 ? EXIT_FAILED : 0;
}

function progressHandler(display: ProgressDisplay) {
  return (event: ExportEvent) => {
    if (display.show(event)) return;
    switch (event.type) {
      case 'plan':
        display.log(
          `Exporting ${plural(event.tables.length, 'table')} (${plural(
            event.tables.reduce((n, t) => n + t.rowCount, 0),
            'row',
          )}) in one snapshot${event.snapshot ? ` (${event.snapshot})` : ''}`,
        );
        break;
      case 'table-done':
        display.finish(
          displayName(event),
          `✓ ${displayName(event)}: ${formatCount(event.result.rowCount)} rows, ${formatBytes(event.result.bytes)}, ${event.result.seconds.toFixed(1)} s (${formatRate(event.result.rowCount, event.result.seconds)})`,
        );
        break;
    }
  };
}

function printPlan(result: ExportResult): void {
  const rows = result.tables.map((t, i) => [
    String(i + 1),
    displayName(t),
    formatCount(t.rowCount),
    t.parts ? `${t.method}, ${t.parts} parts` : t.method,
  ]);
  console.log(`Dry run: ${plural(result.tables.length, 'table')} in dependency order (nothing written)\n`);
  console.log(textTable(['#', 'table', 'rows', 'method'], rows, [0, 2]));
  if (result.brokenForeignKeys.length > 0) {
    console.log('\nForeign-key cycles broken (these references point to a later table):');
    for (const edge of result.brokenForeignKeys) console.log(`  ${describeEdge(edge)}`);
  }
  if (result.schemas) printSchemas(result.schemas);
}

/** The application schemas chosen by default, and those left out with why. */
export function printSchemas(schemas: AppSchemas): void {
  console.log(`\nSchemas included: ${schemas.included.map((s) => s.name).join(', ') || 'none'}`);
  const left = schemas.excluded.filter((s) => !/^pg_(toast|temp)/.test(s.name));
  console.log(`Schemas left out: ${left.map((s) => `${s.name} (${s.why})`).join(', ')}`);
}

function printSummary(result: ExportResult): void {
  const manifest = result.manifest!;
  const entries = [
    ...manifest.tables.map((t) => ({ label: displayName(t), ...t })),
    ...(manifest.authUsers ? [{ label: 'auth.users', ...manifest.authUsers, seconds: null }] : []),
    ...(manifest.authIdentities
      ? [{ label: 'auth.identities', ...manifest.authIdentities, seconds: null }]
      : []),
  ];
  const rows = entries.map((t) => [
    t.label,
    t.state === 'complete' ? formatCount(t.rowCount) : t.state,
    t.bytes === null ? '-' : formatBytes(t.bytes),
    t.seconds === null ? '' : t.seconds.toFixed(2),
    'parts' in t && t.parts ? `${t.parts.length} parts: ${t.parts[0]!.file} …` : (t.file ?? ''),
  ]);
  console.log(`\n${textTable(['table', 'rows', 'bytes', 'seconds', 'file'], rows, [1, 2, 3])}`);
  const total = manifest.tables.reduce((n, t) => n + (t.state === 'complete' ? t.rowCount : 0), 0);
  if (result.failures.length === 0) {
    console.log(
      `\nExported ${plural(manifest.tables.length, 'table')} (${plural(total, 'row')}) to ${result.outputDir}; each read once, in one snapshot.`,
    );
  } else {
    console.log(`\nExport INCOMPLETE: ${result.failures.length} failed:`);
    for (const f of result.failures) console.log(`  ✗ ${f.table}: ${f.error}`);
  }
  for (const note of manifest.notes) console.log(`note: ${note}`);
}

/**
 * `--resume` finishes an export with the first run's choices: options that repeat them are fine, options
 * that differ are refused by the library (naming each); --force, which would replace the export, here.
 */
function resumeConflicts(command: Command): string[] {
  return command.getOptionValueSource('force') === 'cli'
    ? [
        '--resume cannot be combined with --force (which replaces the export instead of finishing it): leave one out',
      ]
    : [];
}
