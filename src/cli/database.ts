import { PG_TARGET_VARIABLES } from '../pg/conninfo.js';
import { checkUrl, describeUrl, type DbRole } from '../pg/connect.js';
import type { SettingsProblems } from '../settings.js';

/**
 * Which database a command uses, first found wins:
 *   1. the option (`--db-url` for the source, `--target-url` for the target);
 *   2. the command's own variable (`SUPABASE_DB_URL` for the source, `TARGET_DB_URL` for the target);
 *   3. `DATABASE_URL`;
 *   4. the PG* variables psql reads (PGHOST, PGPORT, PGUSER, PGDATABASE, PGHOSTADDR).
 * Whichever is chosen, parameters it leaves out still come from the PG* variables (PGPASSWORD, PGSSLMODE, …)
 * and the password from ~/.pgpass (PGPASSFILE), as with libpq. Verify takes only 1 and 2: with two sides,
 * a shared variable could not say which side it means.
 */
export const DATABASE_SOURCES: Record<DbRole, { option: string; variable: string }> = {
  source: { option: '--db-url', variable: 'SUPABASE_DB_URL' },
  target: { option: '--target-url', variable: 'TARGET_DB_URL' },
};

/** Where each chosen database came from, for --verbose. */
export const chosenDatabases: { role: DbRole; where: string; from: string }[] = [];

const quote = (v: string) =>
  /^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function chooseDatabase(
  role: DbRole,
  option: string | undefined,
  check: SettingsProblems,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const names = DATABASE_SOURCES[role];
  const candidates: [string | undefined, string][] = [
    [option, names.option],
    [env[names.variable], names.variable],
    [env.DATABASE_URL, 'DATABASE_URL'],
  ];
  for (const [value, from] of candidates) {
    if (value === undefined || (value === '' && from !== names.option)) continue;
    const problem = value === '' ? `${from} is empty` : checkUrl(value, from);
    if (problem) check.problems.push(problem);
    else chosenDatabases.push({ role, where: describeUrl(value), from });
    return value;
  }
  const set = PG_TARGET_VARIABLES.filter((v) => env[v]);
  if (set.length > 0) {
    const keywords: Record<string, string> = {
      PGHOST: 'host',
      PGHOSTADDR: 'hostaddr',
      PGPORT: 'port',
      PGUSER: 'user',
      PGDATABASE: 'dbname',
    };
    const conninfo = set.map((v) => `${keywords[v]}=${quote(env[v]!)}`).join(' ');
    const problem = checkUrl(conninfo, set.join(', '));
    if (problem) check.problems.push(problem);
    else chosenDatabases.push({ role, where: describeUrl(conninfo), from: set.join(', ') });
    return conninfo;
  }
  check.problems.push(
    `no database given: pass ${names.option} <url> or set ${names.variable} (or DATABASE_URL, or PGHOST/PGDATABASE/PGUSER as for psql)`,
  );
  return '';
}
