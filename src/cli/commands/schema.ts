import type { Command } from 'commander';
import { readUserMap } from '../../format/user-map.js';
import { createSchema, type SchemaResult } from '../../schema/schema.js';
import { parseSchemaSettings, type SchemaOptions } from '../../schema/settings.js';
import { SettingsProblems } from '../../settings.js';
import { chooseDatabase } from '../database.js';
import { checkSettings, collect, list } from '../options.js';
import { printSchemas } from './export.js';
import { action, EXIT_FAILED } from '../run.js';

interface SchemaFlags {
  dbUrl?: string;
  targetUrl?: string;
  out?: string;
  schema?: string[];
  dryRun?: boolean;
  ifNotExists?: boolean;
  roleMap?: string[];
  userIdType?: string;
  userMap?: string;
  userColumns?: string[];
  authForeignKeys?: string;
  ioTimeout?: string;
  json?: boolean;
}

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description(
      "create the source's application schemas in the target (tables, keys, views, functions, triggers, policies, grants), ready for import; no pg_dump needed",
    )
    .option('--db-url <url>', 'the source database (default: $SUPABASE_DB_URL when set)')
    .option('--target-url <url>', 'the database to create the schema in (default: $TARGET_DB_URL when set)')
    .option('--out <file.sql>', 'write the script to this file (with --target-url: as well)')
    .option(
      '--schema <name>',
      "a schema to create (repeatable; default: the source's application schemas)",
      collect,
    )
    .option('--dry-run', 'print the script and the report; write nothing')
    .option('--if-not-exists', 'leave objects the target already has as they are, create the rest')
    .option(
      '--role-map <from=to>',
      "give a source role's grants and policies to a target role (repeatable)",
      collect,
    )
    .option(
      '--user-id-type <type>',
      'uuid or text: the type of user-id columns and auth.uid() (default: uuid, text when the --user-map has other ids)',
    )
    .option(
      '--user-map <file>',
      'the user map import will use: new ids that are not uuids make user-id columns text',
    )
    .option('--user-columns <list>', 'more user-id columns (schema.table.column), as for import', list)
    .option(
      '--auth-foreign-keys <keep|drop>',
      'keep (default: a minimal auth.users import fills) or drop the foreign keys into auth.users',
    )
    .option(
      '--io-timeout <seconds>',
      'close a connection that carries no data for this long (0: never; default: 300)',
    )
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
Exit codes: 0 created (or written), 1 problems found in the target (nothing written) or a statement failed (rolled back), 2 usage or connection error.

Examples:
  supamigrate schema --db-url "$SUPABASE_DB_URL" --target-url "$TARGET_DB_URL"
  supamigrate schema --db-url "$SUPABASE_DB_URL" --out schema.sql
  supamigrate schema --target-url "$TARGET_DB_URL" --dry-run
  supamigrate schema --target-url "$TARGET_DB_URL" --role-map authenticated=app_user --role-map anon=web_anon
  supamigrate schema --target-url "$TARGET_DB_URL" --user-map user-map.json   # Clerk ids: user-id columns as text`,
    )
    .action(action((flags: SchemaFlags) => runSchema(flags)));
}

async function runSchema(flags: SchemaFlags): Promise<number> {
  const check = new SettingsProblems();
  const options: SchemaOptions = {
    dbUrl: chooseDatabase('source', flags.dbUrl, check),
    targetUrl: flags.targetUrl ?? process.env.TARGET_DB_URL,
    out: flags.out,
    schemas: flags.schema,
    dryRun: flags.dryRun,
    ifNotExists: flags.ifNotExists,
    roleMap: flags.roleMap,
    userIdType: flags.userIdType,
    userColumns: flags.userColumns,
    authForeignKeys: flags.authForeignKeys,
    ioTimeout: flags.ioTimeout,
  };
  checkSettings(check, () => parseSchemaSettings(options));
  if (flags.userMap) options.userMap = await readUserMap(flags.userMap);
  const result = await createSchema(options);
  if (flags.json) {
    const { script: _script, ...rest } = result;
    process.stdout.write(`${JSON.stringify(rest)}\n`);
  } else {
    if (result.dryRun) process.stdout.write(result.script);
    printReport(result, flags);
  }
  printProblems(result.report.problems);
  return result.report.problems.length > 0 ? EXIT_FAILED : 0;
}

/** Problems go to stderr, as other commands' errors do: one line each, all at once. */
function printProblems(problems: string[]): void {
  if (problems.length === 0) return;
  console.error(
    `supamigrate: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} found before writing (nothing was written):`,
  );
  for (const p of problems) console.error(`  - ${p}`);
}

function printReport(result: SchemaResult, flags: SchemaFlags): void {
  const r = result.report;
  printSchemas(result.schemas);
  const section = (title: string, lines: string[]) => {
    if (lines.length === 0) return;
    console.log(`\n${title}:`);
    for (const line of lines) console.log(`  ${line}`);
  };
  section('Extensions', r.extensions);
  section('Roles', r.roles);
  section('Supabase auth', r.auth);
  section(`User ids (${result.userIdType})`, r.userIds);
  section('Not moved, or to do by hand', r.notMoved);
  section('Already in the target', r.existing);
  const count = result.statements.length;
  if (r.problems.length > 0) return;
  if (result.written) console.log(`\nCreated: ${count} statements in one transaction.`);
  else if (result.dryRun) console.log(`\nDry run: ${count} statements (nothing written).`);
  if (flags.out && !result.dryRun) console.log(`Script written to ${flags.out} (${count} statements).`);
}
