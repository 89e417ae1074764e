import { displayName } from '../pg/sql.js';
import { SCAN_RULE, type ScannedColumn, type UserIdScan } from '../users/scan.js';
import { formatCount, textTable } from './format.js';

const name = (c: ScannedColumn) =>
  `${displayName({ schema: c.schema, name: c.table })}.${c.column}${c.isArray ? '[]' : ''}`;

function why(c: ScannedColumn): string {
  if (c.foundBy !== 'values')
    return 'references' in c.foundBy
      ? `references ${c.foundBy.references}`
      : `referenced by ${c.foundBy.referencedBy}`;
  const share = c.sampled > 0 ? Math.round((100 * c.userIds) / c.sampled) : 0;
  return c.sameAsOwner > 0
    ? `${share}% user ids; equals its row's owner in ${formatCount(c.sameAsOwner)} row(s)`
    : `${share}% user ids`;
}

/** The scan as text: columns found, why, with counts and examples, and the --user-columns to give. */
export function scanReport(scan: UserIdScan, importArgs = 'import --user-map user-map.json'): string[] {
  const lines: string[] = [];
  if (scan.byForeignKey.length > 0)
    lines.push(
      `Columns with a foreign key into auth.users (rewritten by import --user-map without asking): ${scan.byForeignKey.join(', ')}`,
    );
  const table = (columns: readonly ScannedColumn[]) =>
    textTable(
      ['column', 'why', 'sampled', 'user ids', 'examples'],
      columns.map((c) => [
        name(c),
        why(c),
        formatCount(c.sampled),
        formatCount(c.userIds),
        c.examples.join(' '),
      ]),
      [2, 3],
    );
  if (scan.proposed.length === 0) {
    lines.push('No other column holds user ids (none to add with --user-columns).');
  } else {
    lines.push(
      `\nColumns holding user ids without a foreign key into auth.users, and those referencing them:`,
    );
    lines.push(table(scan.proposed));
    lines.push(`\nTo rewrite them too (nothing is rewritten unless you name it):`);
    lines.push(`  supamigrate ${importArgs} --user-columns ${scan.userColumns}`);
  }
  if (scan.below.length > 0) {
    lines.push(`\nAlso holding some user ids, too few to propose (name them yourself if they are user ids):`);
    lines.push(table(scan.below));
  }
  lines.push(`\nRule: ${SCAN_RULE}.`);
  return lines;
}
