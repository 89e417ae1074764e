import type { ManifestTable } from './manifest.js';
import type { ExportFormat } from './file-layout.js';
import { SCAN_SAMPLE_ROWS, SCAN_WINDOWS, sampleTableRows } from './scan-sample.js';
import { isAuthUsersId } from './user-columns.js';

export { SCAN_SAMPLE_ROWS } from './scan-sample.js';
/** The share of sampled non-null values that must be user ids for a column to be proposed. */
export const SCAN_MIN_SHARE = 0.5;

export const SCAN_RULE = `a uuid or text column (or array of them) without a foreign key into auth.users is proposed when at least ${SCAN_MIN_SHARE * 100}% of its non-null values among ${SCAN_SAMPLE_ROWS.toLocaleString('en-US')} rows of its export files (all rows of a smaller table; else rows from ${SCAN_WINDOWS} places spread over its files) are ids of the exported auth.users, or when it is (part of) the table's primary key and in some of those rows holds the same user id as a column of the row with a foreign key into auth.users (a personal account whose id is its owner's); so is, whatever its values, every column whose foreign key references a proposed column (or a column with a foreign key into auth.users), and every column a proposed column references by foreign key (its user ids may lie outside the sample): one side of a foreign key is never rewritten without the other`;

/** A column the scan found, with what its sample held. */
export interface ScannedColumn {
  schema: string;
  table: string;
  column: string;
  isArray: boolean;
  /** Non-null values sampled (array elements count one by one). */
  sampled: number;
  /** How many of them are auth user ids. */
  userIds: number;
  /** A few of the user ids it holds. */
  examples: string[];
  /** Primary-key columns: rows in which it holds the same user id as the row's column with a foreign key into auth.users. */
  sameAsOwner: number;
  /**
   * `values`; or the proposed column its foreign key references (`public.accounts.id`); or a proposed
   * column whose foreign key references it (`public.projects.account_id`).
   */
  foundBy: 'values' | { references: string } | { referencedBy: string };
}

export interface UserIdScan {
  /** Columns with a foreign key into auth.users: import rewrites them without being asked. */
  byForeignKey: string[];
  /** Columns to name in --user-columns: found by their values, or referencing such a column. */
  proposed: ScannedColumn[];
  /** Columns holding some user ids, too few to propose (shown so a user can decide). */
  below: ScannedColumn[];
  /** The --user-columns value for `proposed`. */
  userColumns: string;
}

const label = (t: { schema: string; table: string; column: string }) => `${t.schema}.${t.table}.${t.column}`;

/**
 * Finds the columns of an export whose values are user ids without a foreign key saying so (by the rule
 * in SCAN_RULE), and the columns joined to them by foreign key. Reads at most SCAN_SAMPLE_ROWS rows (see
 * sampleTableRows) per table. Proposes only: import rewrites the columns a user names.
 */
export async function scanUserIdColumns(
  dir: string,
  format: ExportFormat,
  tables: readonly ManifestTable[],
  userIds: ReadonlySet<string>,
): Promise<UserIdScan> {
  const byForeignKey: string[] = [];
  const scanned: ScannedColumn[] = [];
  for (const t of tables.filter((x) => x.state === 'complete' && x.schema !== 'auth')) {
    const fkColumns = new Set(t.foreignKeys.filter(isAuthUsersId).map((fk) => fk.columns[0]!));
    for (const c of fkColumns) byForeignKey.push(label({ schema: t.schema, table: t.name, column: c }));
    const candidates = t.columns.filter(
      (c) =>
        !fkColumns.has(c.name) &&
        // A generated column is computed by the target from the others: never rewritten itself.
        !c.generated &&
        (c.encoding === 'text' || (c.encoding === 'array' && c.elementEncoding === 'text')),
    );
    if (candidates.length === 0) continue;
    const keyColumns = new Set(t.primaryKey);
    const sample = await sampleTableRows(dir, t, format);
    for (const c of candidates) {
      const found: ScannedColumn = {
        schema: t.schema,
        table: t.name,
        column: c.name,
        isArray: c.encoding === 'array',
        sampled: 0,
        userIds: 0,
        examples: [],
        sameAsOwner: 0,
        foundBy: 'values',
      };
      for (const row of sample) {
        const value = row[c.name];
        if (
          keyColumns.has(c.name) &&
          typeof value === 'string' &&
          userIds.has(value) &&
          [...fkColumns].some((f) => row[f] === value)
        )
          found.sameAsOwner++;
        for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) {
          if (typeof v !== 'string') continue;
          found.sampled++;
          if (!userIds.has(v)) continue;
          found.userIds++;
          if (found.examples.length < 3 && !found.examples.includes(v)) found.examples.push(v);
        }
      }
      if (found.userIds > 0) scanned.push(found);
    }
  }
  const proposed = scanned.filter((c) => c.userIds >= c.sampled * SCAN_MIN_SHARE || c.sameAsOwner > 0);
  addReferencing(tables, proposed, scanned, byForeignKey);
  return {
    byForeignKey,
    proposed,
    below: scanned.filter((c) => !proposed.some((p) => label(p) === label(c))),
    userColumns: proposed.map(label).join(','),
  };
}

/**
 * Adds, until nothing changes, both sides of every foreign key one side of which is a user column: a column
 * whose foreign key references a proposed column (or one with a foreign key into auth.users), and a column
 * a proposed column references. Rewriting the ids on one side only would break the key.
 */
function addReferencing(
  tables: readonly ManifestTable[],
  proposed: ScannedColumn[],
  scanned: readonly ScannedColumn[],
  byForeignKey: readonly string[],
): void {
  const isUserColumn = (name: string) =>
    byForeignKey.includes(name) || proposed.some((p) => label(p) === name);
  const isProposed = (name: string) => proposed.some((p) => label(p) === name);
  const complete = tables.filter((x) => x.state === 'complete' && x.schema !== 'auth');
  const add = (t: ManifestTable, column: string, foundBy: ScannedColumn['foundBy']) => {
    const values = scanned.find((s) => label(s) === label({ schema: t.schema, table: t.name, column }));
    proposed.push({
      schema: t.schema,
      table: t.name,
      column,
      isArray: t.columns.find((c) => c.name === column)?.encoding === 'array',
      sampled: values?.sampled ?? 0,
      userIds: values?.userIds ?? 0,
      examples: values?.examples ?? [],
      sameAsOwner: values?.sameAsOwner ?? 0,
      foundBy,
    });
  };
  for (let added = true; added;) {
    added = false;
    for (const t of complete) {
      for (const fk of t.foreignKeys) {
        fk.columns.forEach((column, i) => {
          const target = `${fk.references.schema}.${fk.references.table}.${fk.references.columns[i]}`;
          const self = label({ schema: t.schema, table: t.name, column });
          if (isUserColumn(target) && !isUserColumn(self)) {
            add(t, column, { references: target });
            added = true;
          }
          const referenced = complete.find(
            (r) => r.schema === fk.references.schema && r.name === fk.references.table,
          );
          const referencedColumn = fk.references.columns[i];
          if (isProposed(self) && !isUserColumn(target) && referenced && referencedColumn !== undefined) {
            add(referenced, referencedColumn, { referencedBy: self });
            added = true;
          }
        });
      }
    }
  }
}
