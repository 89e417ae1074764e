import type pg from 'pg';
import type { TableInfo } from '../catalog/types.js';
import { databaseChecksum, rowKeySql, type Checksum, type ChecksumTable } from '../codec/checksum.js';
import type { EncodedColumn } from '../codec/encode-column.js';
import { fromTable } from '../codec/row-sql.js';
import type { ValueSql } from '../codec/row-sql.js';
import { firstOf, targetForm } from '../codec/target-form.js';
import { describeError } from '../errors.js';
import { fileChecksum } from '../format/file-checksum.js';
import type { ManifestTable } from '../format/manifest.js';
import { databaseKeyed, differingRows, fileKeyed, type DifferingRow } from './differences.js';
import { loadFilesAsTarget } from './files-as-target.js';

export type Side = 'source' | 'files' | 'target';

export interface TableVerification {
  schema: string;
  name: string;
  status: 'match' | 'mismatch' | 'error';
  /** The rows metadata.json says the file holds. */
  expectedRows: number;
  sides: Partial<Record<Side, Checksum>>;
  /** Why it does not match, one line each: "source and target differ", "file changed since export". */
  problems: string[];
  /** How it was compared, when not plainly: columns compared in the target's form (json → jsonb). */
  notes: string[];
  /** Up to 10 rows that differ, by primary key (or row hash for tables without one). */
  examples: (DifferingRow & { between: string })[];
}

export interface TableContext {
  dir: string;
  format: 'json' | 'ndjson';
  source: pg.Client | null;
  target: pg.Client | null;
  /** A connection that may create temporary tables: the target's when there is one, else the source's. */
  scratch: pg.Client | null;
  /** The table in the target's catalog (undefined: not compared with a target; null: missing there). */
  targetTable: TableInfo | null | undefined;
  /** The target's user columns mapped back to the old ids (with a user map). */
  userValues: ValueSql | undefined;
  /** Problems found with the table's files (sizes, sha256). */
  fileProblems: string[];
}

/**
 * Compares one table on every side given: row count and order-independent checksum of the canonical row
 * text. A target column whose type is an accepted widening is read back into the source's form (a cast)
 * or, where that cannot be done (json → jsonb), source and files are compared with it in the target's form.
 */
export async function verifyTable(table: ManifestTable, ctx: TableContext): Promise<TableVerification> {
  const result: TableVerification = {
    schema: table.schema,
    name: table.name,
    status: 'match',
    expectedRows: table.rowCount,
    sides: {},
    problems: [...ctx.fileProblems],
    notes: [],
    examples: [],
  };
  const mapped = (column: EncodedColumn) => ctx.userValues?.(column) !== undefined;
  const form = ctx.targetTable ? targetForm(table.columns, ctx.targetTable.columns, mapped) : null;
  if (ctx.targetTable === null) result.problems.push('no such table in the target');
  if (form) result.problems.push(...form.problems);
  const target = form && form.problems.length === 0 ? ctx.target : null;
  const targetValues = firstOf(ctx.userValues, form?.target);
  const asTarget = form?.sourceAsTarget && target && table.method !== 'direct' ? form : null;
  let filesAsTarget: Awaited<ReturnType<typeof loadFilesAsTarget>> | null = null;
  const involved = connections(ctx);
  // A savepoint on each connection: a failure in this table leaves the next tables' transactions usable.
  for (const c of involved) await c.query('SAVEPOINT supamigrate_table');
  try {
    const [source, files, there] = await Promise.all([
      ctx.source ? databaseChecksum(ctx.source, table) : undefined,
      table.method === 'direct' ? undefined : fileChecksum(ctx.dir, table, ctx.format),
      target ? databaseChecksum(target, table, targetValues) : undefined,
    ]);
    if (source) result.sides.source = source;
    if (files) result.sides.files = files;
    else
      result.notes.push(
        'copied directly from the source to the target (no file): compared source with target',
      );
    if (!files) {
      if (!source || !there)
        throw new Error('copied directly by migrate, with no file: give both --db-url and --target-url');
      result.expectedRows = source.rows;
    }
    if (there) result.sides.target = there;
    const compared = { source, files, target: there };
    if (asTarget) {
      // Read in the target's form: source with the widened columns cast to the target's type, files
      // loaded into a temporary table of the target's types.
      filesAsTarget = await loadFilesAsTarget(
        ctx.scratch!,
        ctx.dir,
        table,
        ctx.format,
        asTarget.asTargetTypes,
      );
      compared.files = await databaseChecksum(ctx.scratch!, filesAsTarget.table, form!.target);
      if (ctx.source) compared.source = await databaseChecksum(ctx.source, table, asTarget.sourceAsTarget!);
      result.notes.push('compared with the target in the target’s form (a json column is jsonb there)');
    }
    const pairs = comparePairs(result, table, source, files, compared);
    if (target && form?.castLoses) await findLossyRows(result, target, table, form.castLoses, targetValues);
    if (result.problems.length > 0) result.status = 'mismatch';
    const pair = pairs[0];
    const forms = {
      source: asTarget ? asTarget.sourceAsTarget! : undefined,
      target: targetValues,
      files: filesAsTarget?.table,
    };
    if (pair && ctx.scratch) await listExamples(result, table, pair, ctx, forms);
    await filesAsTarget?.drop();
    for (const c of involved) await c.query('RELEASE SAVEPOINT supamigrate_table');
  } catch (err) {
    for (const c of involved) await c.query('ROLLBACK TO SAVEPOINT supamigrate_table').catch(() => undefined);
    return { ...result, status: 'error', problems: [...result.problems, describeError(err)] };
  }
  return result;
}

/** Records each pair of sides that differ; the files against the target in the form they were compared. */
function comparePairs(
  result: TableVerification,
  table: ManifestTable,
  source: Checksum | undefined,
  files: Checksum | undefined,
  compared: { source?: Checksum; files?: Checksum; target?: Checksum },
): [Side, Side][] {
  if (files && files.rows !== table.rowCount)
    result.problems.push(`the file holds ${files.rows} rows, metadata.json says ${table.rowCount}`);
  const differ = (a?: Checksum, b?: Checksum) => a && b && (a.rows !== b.rows || a.hash !== b.hash);
  const pairs: [Side, Side, Checksum, Checksum][] = [];
  if (differ(source, files)) pairs.push(['source', 'files', source!, files!]);
  if (differ(compared.files, compared.target))
    pairs.push(['files', 'target', compared.files!, compared.target!]);
  if (differ(compared.source, compared.target) && pairs.length === 0)
    pairs.push(['source', 'target', compared.source!, compared.target!]);
  for (const [a, b, ca, cb] of pairs) {
    result.problems.push(
      ca.rows !== cb.rows
        ? `${a} has ${ca.rows} rows, ${b} has ${cb.rows}`
        : `${a} and ${b} hold different data (${ca.rows} rows each)`,
    );
  }
  return pairs.map(([a, b]) => [a, b]);
}

/**
 * Rows of the target whose widened columns hold values the export's type cannot (a numeric(16,8) value with
 * 8 decimals where the export had numeric(14,6)): read back by a cast they would look like the export's.
 */
async function findLossyRows(
  result: TableVerification,
  client: pg.Client,
  table: ManifestTable,
  condition: string,
  targetValues: ValueSql,
): Promise<void> {
  const { rows } = await client.query<{ k: string; n: string }>(
    `SELECT k, n FROM (SELECT ${rowKeySql(table, targetValues)} AS k, count(*) OVER ()::int8 AS n
       FROM ${fromTable(table)} WHERE ${condition}) s ORDER BY k COLLATE "C" LIMIT 10`,
  );
  if (rows.length === 0) return;
  result.problems.push(
    `${rows[0]!.n} row(s) of the target hold values the export's column types cannot hold (wider than the source's): ${rows.map((r) => r.k).join(', ')}`,
  );
  result.examples.push(
    ...rows.map((r) => ({
      key: r.k,
      difference: 'target value not of the export’s type',
      between: 'files/target',
    })),
  );
}

/** Up to 10 rows that differ between the first pair of sides that differ. */
async function listExamples(
  result: TableVerification,
  table: ManifestTable,
  pair: [Side, Side],
  ctx: TableContext,
  forms: { source: ValueSql | undefined; target: ValueSql; files: ChecksumTable | undefined },
): Promise<void> {
  // With the target involved, a table compared in the target's form lists its examples in that form too.
  const inTargetForm = forms.files !== undefined && pair.includes('target');
  const keyed = (side: Side) =>
    side === 'source'
      ? databaseKeyed(ctx.source!, table, inTargetForm ? forms.source : undefined)
      : side === 'target'
        ? databaseKeyed(ctx.target!, table, forms.target)
        : inTargetForm
          ? databaseKeyed(ctx.scratch!, forms.files!, forms.target)
          : fileKeyed(ctx.scratch!, ctx.dir, table, ctx.format);
  const involved = connections(ctx);
  for (const c of involved) await c.query('SAVEPOINT supamigrate_examples');
  try {
    const rows = await differingRows(keyed(pair[0]), keyed(pair[1]), pair);
    result.examples.push(...rows.map((r) => ({ ...r, between: `${pair[0]}/${pair[1]}` })));
    for (const c of involved) await c.query('RELEASE SAVEPOINT supamigrate_examples');
  } catch (err) {
    result.problems.push(`(could not list example rows: ${describeError(err)})`);
    for (const c of involved)
      await c.query('ROLLBACK TO SAVEPOINT supamigrate_examples').catch(() => undefined);
  }
}

const connections = (ctx: TableContext): pg.Client[] => [
  ...new Set([ctx.source, ctx.target, ctx.scratch].filter((c): c is pg.Client => c !== null)),
];
