import { matches, parseTableName } from '../catalog/select-tables.js';
import { UsageError } from '../errors.js';
import { displayName } from '../pg/sql.js';
import type { ManifestTable } from './manifest.js';

/**
 * The export's tables that --table (all when none) and --exclude-table leave, in the export's order: what
 * import and verify work on. Names are matched as export matches them (name or schema.name, exact case
 * first); a name that matches nothing, or several tables, is a problem, and all are reported together.
 */
export function selectEntries(
  tables: readonly ManifestTable[],
  include: readonly string[],
  exclude: readonly string[] = [],
): ManifestTable[] {
  const problems: string[] = [];
  const match = (arg: string, option: string) => {
    const found = tables.filter((t) => matches(t, parseTableName(arg)));
    if (found.length === 0) problems.push(`${option} ${arg}: no such table in the export`);
    if (found.length > 1)
      problems.push(`${option} ${arg} is ambiguous: ${found.map(displayName).join(', ')}`);
    return found;
  };
  const keep = include.length > 0 ? new Set(include.flatMap((a) => match(a, '--table'))) : new Set(tables);
  const drop = new Set(exclude.flatMap((a) => match(a, '--exclude-table')));
  if (problems.length > 0) throw new UsageError(problems);
  return tables.filter((t) => keep.has(t) && !drop.has(t));
}
