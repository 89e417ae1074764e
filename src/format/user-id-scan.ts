import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { displayName } from '../pg/sql.js';
import { tableFiles, type ManifestTable } from './manifest.js';
import type { ExportFormat } from './file-layout.js';
import { RowReader } from './row-reader.js';
import { isAuthUsersId } from './user-columns.js';

/** Rows read per table: the first ones of its (first) file, so a scan costs the same on any size. */
export const SCAN_SAMPLE_ROWS = 1000;
/** The share of sampled non-null values that must be user ids for a column to be proposed. */
export const SCAN_MIN_SHARE = 0.5;

export const SCAN_RULE = `a uuid or text column (or array of them) without a foreign key into auth.users is proposed when at least ${SCAN_MIN_SHARE * 100}% of its non-null values among the first ${SCAN_SAMPLE_ROWS} rows of its export file are ids of the exported auth.users, or when it is (part of) the table's primary key and in some of those rows holds the same user id as a column of the row with a foreign key into auth.users (a personal account whose id is its owner's); so is every column whose foreign key references a proposed column (or a column with a foreign key into auth.users), whatever its values`;

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
  /** `values`, or the column its foreign key references (`public.accounts.id`). */
  foundBy: 'values' | { references: string };
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
 * in SCAN_RULE), and the columns that reference them by foreign key. Reads at most SCAN_SAMPLE_ROWS rows
 * (and the file chunk they are in) per table. Proposes only: import rewrites the columns a user names.
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
        (c.encoding === 'text' || (c.encoding === 'array' && c.elementEncoding === 'text')),
    );
    if (candidates.length === 0) continue;
    const keyColumns = new Set(t.primaryKey);
    const sample = await sampleRows(join(dir, tableFiles(t)[0]!.file), format, displayName(t));
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
 * Adds, until nothing changes, every column whose foreign key references a user column (proposed, or
 * with a foreign key into auth.users): rewriting the referenced ids without them would break the key.
 */
function addReferencing(
  tables: readonly ManifestTable[],
  proposed: ScannedColumn[],
  scanned: readonly ScannedColumn[],
  byForeignKey: readonly string[],
): void {
  const isUserColumn = (name: string) =>
    byForeignKey.includes(name) || proposed.some((p) => label(p) === name);
  for (let added = true; added;) {
    added = false;
    for (const t of tables.filter((x) => x.state === 'complete')) {
      for (const fk of t.foreignKeys) {
        fk.columns.forEach((column, i) => {
          const target = `${fk.references.schema}.${fk.references.table}.${fk.references.columns[i]}`;
          const self = label({ schema: t.schema, table: t.name, column });
          if (!isUserColumn(target) || isUserColumn(self)) return;
          const values = scanned.find((s) => label(s) === self);
          const info = t.columns.find((c) => c.name === column);
          proposed.push({
            schema: t.schema,
            table: t.name,
            column,
            isArray: info?.encoding === 'array',
            sampled: values?.sampled ?? 0,
            userIds: values?.userIds ?? 0,
            examples: values?.examples ?? [],
            sameAsOwner: values?.sameAsOwner ?? 0,
            foundBy: { references: target },
          });
          added = true;
        });
      }
    }
  }
}

/** The first SCAN_SAMPLE_ROWS rows of an export file, parsed; reading stops there. */
async function sampleRows(
  path: string,
  format: ExportFormat,
  name: string,
): Promise<Record<string, unknown>[]> {
  const reader = new RowReader(format, `${name} (${path})`);
  const rows: Record<string, unknown>[] = [];
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) {
      reader.parse(chunk as Buffer, (buf, start, end) => {
        if (rows.length < SCAN_SAMPLE_ROWS)
          rows.push(JSON.parse(buf.toString('utf8', start, end)) as Record<string, unknown>);
      });
      if (rows.length >= SCAN_SAMPLE_ROWS) break;
    }
  } finally {
    stream.destroy();
  }
  return rows;
}
