import { writeFile } from 'node:fs/promises';
import type pg from 'pg';
import { readAppSchemas, type AppSchemas } from '../catalog/app-schemas.js';
import { companionTables } from '../catalog/companion-tables.js';
import { describeError, IntegrityError, UsageError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { isTransient } from '../pg/retry.js';
import type { Statement } from './ddl.js';
import { planSchema, type SchemaReport } from './plan.js';
import { rolesNamed } from './platform.js';
import { readSourceSchema } from './read-source.js';
import { parseSchemaSettings, type SchemaOptions, type SchemaSettings } from './settings.js';
import { NO_TARGET, readTarget } from './target.js';

export type { SchemaOptions, SchemaReport, Statement };

export interface SchemaResult {
  dryRun: boolean;
  /** The schemas whose objects are created, and those left out with why. */
  schemas: AppSchemas;
  statements: Statement[];
  /** The statements as one SQL script (what --out writes). */
  script: string;
  report: SchemaReport;
  /** Whether the target was written (false: dry run, no target, or problems found before writing). */
  written: boolean;
  userIdType: 'uuid' | 'text';
}

/**
 * Creates the source's application schemas in the target, without pg_dump: schemas, extensions, types,
 * sequences, tables, keys, functions, defaults and checks, views, indexes, foreign keys, triggers,
 * row-level security and policies, comments, grants; with what a Supabase app needs of its platform
 * (auth helpers, a minimal auth.users, the API roles). Every problem found in the target (objects it
 * has, roles or extensions it cannot have) is reported before anything is written; the statements run in
 * one transaction, so a failure leaves the target as it was.
 *
 * ```ts
 * const result = await createSchema({ dbUrl: process.env.SUPABASE_DB_URL!, targetUrl: process.env.TARGET_DB_URL! });
 * if (result.report.problems.length > 0) console.error(result.report.problems.join('\n'));
 * ```
 */
export async function createSchema(options: SchemaOptions): Promise<SchemaResult> {
  const settings = parseSchemaSettings(options);
  const source = await connect(settings.dbUrl, { role: 'source', ioTimeout: settings.ioTimeout });
  let schemas: AppSchemas;
  let read;
  try {
    schemas = await chosenSchemas(source, settings);
    const names = schemas.included.map((s) => s.name);
    read = await readSourceSchema(source, names, await companionTables(source, names));
  } finally {
    await source.end().catch(() => undefined);
  }
  const target = settings.targetUrl
    ? await connect(settings.targetUrl, { role: 'target', ioTimeout: settings.ioTimeout })
    : undefined;
  try {
    const facts = target
      ? await readTarget(
          target,
          [...read.schemas, ...read.companionSchemas],
          rolesNamed(read).map((r) => settings.roleMap[r] ?? r),
          read.extensions.map((e) => e.name),
          read.extensions.map((e) => e.schema),
        )
      : NO_TARGET;
    const plan = planSchema(read, facts, settings);
    const result: SchemaResult = {
      dryRun: settings.dryRun,
      schemas,
      statements: plan.statements,
      script: toScript(plan.statements),
      report: plan.report,
      written: false,
      userIdType: settings.userIdType,
    };
    if (settings.out && !settings.dryRun && plan.report.problems.length === 0)
      await writeFile(settings.out, result.script);
    if (target && !settings.dryRun && plan.report.problems.length === 0) {
      await apply(target, plan.statements);
      result.written = true;
    }
    return result;
  } finally {
    await target?.end().catch(() => undefined);
  }
}

/** --schema as given (each must exist), or the source's application schemas. */
async function chosenSchemas(client: pg.Client, settings: SchemaSettings): Promise<AppSchemas> {
  const all = await readAppSchemas(client);
  if (!settings.schemas) return all;
  const known = new Set([...all.included, ...all.excluded].map((s) => s.name));
  const missing = settings.schemas.filter((s) => !known.has(s));
  if (missing.length > 0)
    throw new UsageError(missing.map((s) => `schema "${s}" does not exist in the source database`));
  const given = new Set(settings.schemas);
  return {
    included: settings.schemas.map((name) => ({ name, why: 'named with --schema' })),
    excluded: [...all.included, ...all.excluded]
      .filter((s) => !given.has(s.name))
      .map((s) => ({
        name: s.name,
        why: s.why === 'an application schema' ? 'not named with --schema' : s.why,
      })),
  };
}

/** The script: one statement each, with a comment naming what it creates; runs with psql -1 -f. */
export function toScript(statements: Statement[]): string {
  const head = [
    '-- Written by supamigrate schema. Run in one transaction: psql -v ON_ERROR_STOP=1 -1 -f <file>',
    'set check_function_bodies = false;',
    "set search_path = '';",
    '',
  ];
  return `${head.join('\n')}${statements.map((s) => `-- ${s.step}: ${s.object}\n${s.sql.trim()};\n`).join('\n')}`;
}

/**
 * Runs the statements in one transaction; the first failure rolls everything back and names the object.
 * The whole script goes in one round trip (a few hundred tables are a few thousand statements, and one by
 * one the round trips were most of the time); when it fails, it is rolled back and run again one statement
 * at a time, only to name the object that fails.
 */
async function apply(client: pg.Client, statements: Statement[]): Promise<void> {
  const script = [
    'begin',
    'set local check_function_bodies = false',
    "set local search_path = ''",
    // A statement's last line may be a comment: the separator goes on a line of its own.
    ...statements.map((s) => s.sql.trim()),
    'commit',
  ].join('\n;\n');
  try {
    await client.query(script);
    return;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    if (isTransient(err)) throw err;
  }
  await client.query('begin');
  try {
    await client.query('set local check_function_bodies = false');
    await client.query("set local search_path = ''");
    for (const s of statements) {
      try {
        await client.query(s.sql);
      } catch (err) {
        throw new IntegrityError(
          `cannot create ${s.object} in the target: ${describeError(err)}; nothing was written (rolled back)`,
          { cause: err },
        );
      }
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}
