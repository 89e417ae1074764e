import type { Command } from 'commander';
import { displayName } from '../../pg/sql.js';
import { readUserMap } from '../../format/user-map.js';
import { verify, type TableVerification, type VerifyResult } from '../../verify/verify.js';
import { formatCount } from '../format.js';
import { collect, list } from '../options.js';
import { checkVerifyOptions } from '../../verify/settings.js';
import { ProgressDisplay } from '../progress.js';
import { plural } from '../terminal.js';
import { action, EXIT_FAILED } from '../run.js';

interface VerifyFlags {
  inputDir: string;
  dbUrl?: string;
  targetUrl?: string;
  userMap?: string;
  userColumns?: string[];
  table?: string[];
  ioTimeout?: string;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'prove that source, export files and target hold the same data: counts and checksums per table',
    )
    .option('-i, --input-dir <path>', 'the export directory (always compared)', './migration-data')
    .option('--db-url <url>', 'the source database (default: $SUPABASE_DB_URL when set)')
    .option('--target-url <url>', 'the target database (default: $TARGET_DB_URL when set)')
    .option(
      '--user-map <file>',
      'the user map the import used: user columns are compared after mapping (default: the one the import recorded in the target)',
    )
    .option('--user-columns <list>', 'the --user-columns the import used (default: the recorded ones)', list)
    .option('--table <name>', 'verify only this table (repeatable)', collect)
    .option(
      '--io-timeout <seconds>',
      'close a connection that carries no data for this long while working (0: never; default: 300)',
    )
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      `
Exit codes: 0 everything matches, 1 something differs, 2 usage or connection error.

Examples:
  supamigrate verify --db-url "$SUPABASE_DB_URL" --target-url "$TARGET_DB_URL"
  supamigrate verify -i ./migration-data --db-url "$SUPABASE_DB_URL"          # source against the files
  supamigrate verify --target-url "$TARGET_DB_URL"    # after import --user-map: uses the map it recorded
  supamigrate verify --target-url "$TARGET_DB_URL" --user-map user-map.json`,
    )
    .action(action((flags: VerifyFlags) => runVerify(flags)));
}

async function runVerify(flags: VerifyFlags): Promise<number> {
  const dbUrl = flags.dbUrl ?? process.env.SUPABASE_DB_URL;
  const targetUrl = flags.targetUrl ?? process.env.TARGET_DB_URL;
  const { ioTimeout } = checkVerifyOptions({
    dbUrl,
    targetUrl,
    userMap: flags.userMap,
    userColumns: flags.userColumns,
    ioTimeout: flags.ioTimeout,
  });
  const userMap = flags.userMap ? await readUserMap(flags.userMap) : undefined;
  const display = new ProgressDisplay(process.stderr, 'verifying');
  let result: VerifyResult;
  try {
    result = await verify({
      inputDir: flags.inputDir,
      dbUrl,
      targetUrl,
      userMap,
      userColumns: flags.userColumns ?? [],
      tables: flags.table ?? [],
      ioTimeout,
      onEvent: (e) => {
        display.checkedTable();
        if (!flags.json) display.print(tableLine(e.table));
      },
    });
  } finally {
    display.stop();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else printSummary(result);
  return result.ok ? 0 : EXIT_FAILED;
}

export function tableLine(t: TableVerification): string {
  const counts = Object.entries(t.sides)
    .map(([side, c]) => `${side} ${formatCount(c.rows)}`)
    .join(', ');
  if (t.status === 'match') return `✓ ${displayName(t)}  ${counts}`;
  const lines = [`✗ ${displayName(t)}  ${counts}`, ...t.problems.map((p) => `    ${p}`)];
  if (t.examples.length > 0) {
    lines.push(`    rows that differ (${t.examples[0]!.between}), by primary key:`);
    for (const e of t.examples) lines.push(`      ${e.key}  ${e.difference}`);
  }
  return lines.join('\n');
}

function printSummary(result: VerifyResult): void {
  for (const p of result.fileProblems) console.log(`✗ ${p}`);
  for (const t of result.missingFromExport)
    console.log(`✗ ${t}: in the source, not in the export (created since, or its entry removed)`);
  const bad = result.tables.filter((t) => t.status !== 'match');
  const compared = result.sides.join(', ');
  console.log(
    bad.length === 0 && result.fileProblems.length === 0 && result.missingFromExport.length === 0
      ? `\n${result.tables.length === 1 ? 'The table matches' : `All ${plural(result.tables.length, 'table')} match`} (${compared}): same row counts and content checksums.`
      : `\n${bad.length} of ${plural(result.tables.length, 'table')} differ (${compared}): ${bad.map((t) => displayName(t)).join(', ')}${result.missingFromExport.length > 0 ? `; ${plural(result.missingFromExport.length, 'source table')} not in the export` : ''}`,
  );
  for (const note of result.notes) console.log(`note: ${note}`);
}
