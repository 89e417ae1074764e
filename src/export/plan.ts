import type pg from 'pg';
import { OTHER_RELATIONS_SQL, SCHEMAS_SQL } from '../catalog/catalog.sql.js';
import { companionTables } from '../catalog/companion-tables.js';
import { dependencyOrder, type BrokenEdge } from '../catalog/dependency-order.js';
import { readCatalog, readSequenceState } from '../catalog/read-catalog.js';
import { isLargeTable, schemasToRead, selectTables } from '../catalog/select-tables.js';
import { largeObjectColumns, type LargeObjectColumn } from '../catalog/large-objects.js';
import type { TableInfo } from '../catalog/types.js';
import { readTypeDefinitions, type TypeDefinitions } from '../catalog/type-definitions.js';
import { encodeTable, type EncodedTable } from '../codec/encode-column.js';
import { countQuery } from '../codec/row-sql.js';
import { columnForms, type ColumnForm } from '../codec/text-to-json.js';
import { describeError, TableError, UsageError } from '../errors.js';
import type { ExportManifest, ExportMethod, ManifestTable } from '../format/manifest.js';
import { displayName } from '../pg/sql.js';
import { keepable } from './resume.js';
import type { ExportSettings } from './settings.js';
import { splitTable, type BlockRange } from './split.js';

/** A table as the plan shows it (the dry run's output). */
export interface PlannedTable {
  schema: string;
  name: string;
  rowCount: number;
  method: ExportMethod;
  /** Ranges read in parallel, each into its own file (absent: one file). */
  parts?: number;
  /** `reltuples`, what the planner believed; -1 when never analysed. */
  estimatedRows: number;
  /**
   * Whether rowCount is count(*) in the snapshot (the dry run) or the planner's estimate (a run: each table
   * is read once, and its file's row count is what COPY read in the snapshot).
   */
  exact: boolean;
}

/** A table of the plan with what the run needs. */
export interface PlannedExport extends PlannedTable {
  info: EncodedTable;
  /** How the client builds each column's JSON from the COPY text of a streamed table. */
  forms: ColumnForm[];
  ranges: BlockRange[] | null;
  /** --resume: the earlier run's entry, kept (complete) or partly kept (some parts complete). */
  kept?: ManifestTable;
}

export interface ExportPlan {
  tables: PlannedExport[];
  brokenForeignKeys: BrokenEdge[];
  /** Oid columns naming large objects, exported as numbers alone (--skip-large-objects). */
  largeObjects: LargeObjectColumn[];
  /** The definition of each column type that is not built in (metadata.json's typeDefinitions). */
  typeDefinitions: Record<string, string>;
}

/** The seed's rule: a table streams when it has more rows than the threshold or is one of the large tables. */
export function exportMethod(
  table: { schema: string; name: string },
  rowCount: number,
  largeTables: readonly string[],
  threshold: number,
): ExportMethod {
  return rowCount > threshold || isLargeTable(table, largeTables) ? 'stream' : 'batch';
}

/**
 * Plans the export in the snapshot: the selected tables in foreign-key order, each with its exact count,
 * its method, and its ranges when it is large enough to be read in parallel; with --resume, what the
 * earlier run completed is kept.
 */
export async function planExport(
  client: pg.Client,
  settings: ExportSettings,
  previous: ExportManifest | null,
  canSplit: boolean,
): Promise<ExportPlan> {
  const selected = await selectedTables(client, settings);
  const largeObjects = await largeObjectColumns(client, selected);
  if (largeObjects.length > 0 && !settings.skipLargeObjects) {
    const columns = largeObjects.map((c) => `${c.schema}.${c.table}.${c.column} names ${c.objects}`);
    throw new UsageError(
      `large objects cannot be exported: ${columns.join(', ')} (oid values of pg_largeobject); give --skip-large-objects to export the oid values alone (the target's will name no object), or leave the table out with --exclude-table`,
    );
  }
  const { order, brokenEdges } = dependencyOrder(selected);
  const types = await readTypeDefinitions(client);
  const tables: PlannedExport[] = [];
  const estimates = settings.dryRun ? null : await estimatedCounts(client, order);
  for (const table of order) {
    const info = encodeTable(table);
    const forms = columnForms(table.columns);
    const kept = previous ? await keepable(settings.outputDir, previous, info) : null;
    if (kept) {
      tables.push({
        ...summary(info, kept.rowCount, kept.method, kept.parts?.length, true),
        info,
        forms,
        ranges: kept.parts ? kept.parts.map((p) => p.blocks) : null,
        kept,
      });
      continue;
    }
    // A run reads each table once: the plan goes by the planner's estimate; the dry run counts.
    const exact = settings.dryRun;
    const estimate = estimates ? estimates.get(info.oid) : null;
    const rowCount = estimate === null ? await exactCount(client, info) : (estimate ?? 0);
    // Unknown size (never analysed, or partitioned): stream, which takes any size in constant memory.
    const method =
      canSplit && settings.direct?.(info, types)
        ? 'direct'
        : estimate === undefined
          ? 'stream'
          : exportMethod(info, rowCount, settings.largeTables, settings.streamingThreshold);
    const ranges =
      method === 'stream' && canSplit
        ? // Unknown size: one file (ranges need a size to be worth it; autovacuum analyses big tables).
          await splitTable(client, info, estimate === undefined ? 0 : rowCount, {
            jobs: settings.jobs,
            minRows: settings.splitRows,
          })
        : null;
    tables.push({ ...summary(info, rowCount, method, ranges?.length, exact), info, forms, ranges });
  }
  return {
    tables,
    brokenForeignKeys: brokenEdges,
    largeObjects,
    typeDefinitions: definitionsOf(order, types),
  };
}

/** The definitions of the tables' column types that are not built in, by type name. */
function definitionsOf(tables: readonly TableInfo[], types: TypeDefinitions): Record<string, string> {
  const used = new Set(tables.flatMap((t) => t.columns.map((c) => c.type)));
  return Object.fromEntries(
    [...used]
      .sort()
      .map((type) => [type, types(type)])
      .filter(([type, definition]) => definition !== type),
  );
}

/** The plan as the dry run and the `plan` event show it. */
export const planSummary = (plan: ExportPlan): PlannedTable[] =>
  plan.tables.map(({ info: _info, forms: _forms, ranges: _ranges, kept: _kept, ...rest }) => rest);

const summary = (
  info: EncodedTable,
  rowCount: number,
  method: ExportMethod,
  parts: number | undefined,
  exact: boolean,
) => ({
  schema: info.schema,
  name: info.name,
  rowCount,
  exact,
  method,
  estimatedRows: info.estimatedRows,
  ...(parts ? { parts } : {}),
});

/** The tables of the selected schemas that --table, --exclude-table and --skip-large leave. */
/** The tables an export of `settings` reads: --schema, --table, --exclude-table applied, and companions. */
export async function selectedTables(
  client: pg.Client,
  settings: Pick<ExportSettings, 'schemas' | 'tables' | 'excludeTables' | 'skipLarge' | 'largeTables'>,
): Promise<TableInfo[]> {
  const readSchemas = schemasToRead(settings.schemas, settings.tables);
  const existing = new Set(
    (await client.query<{ name: string }>(SCHEMAS_SQL, [readSchemas])).rows.map((r) => r.name),
  );
  const missing = readSchemas.filter((s) => !existing.has(s));
  if (missing.length > 0) {
    throw new UsageError(missing.map((s) => `schema "${s}" does not exist in the source database`));
  }
  const catalog = await readCatalog(client, readSchemas);
  const named = settings.tables.length > 0 || settings.excludeTables.length > 0;
  const others = named
    ? (await client.query<{ schema: string; name: string; what: string }>(OTHER_RELATIONS_SQL, [readSchemas]))
        .rows
    : [];
  const chosen = selectTables(catalog, { ...settings, others });
  return settings.tables.length > 0 ? chosen : [...chosen, ...(await companions(client, settings.schemas))];
}

/** Tables outside the chosen schemas their foreign keys need (storage.objects): exported with them. */
async function companions(client: pg.Client, schemas: string[]): Promise<TableInfo[]> {
  const refs = await companionTables(client, schemas);
  if (refs.length === 0) return [];
  const catalog = await readCatalog(client, [...new Set(refs.map((r) => r.schema))]);
  return catalog.filter((t) => refs.some((r) => r.schema === t.schema && r.name === t.name));
}

/*
 * The planner's way: rows per page when last analysed, times the pages the table has now (so a table
 * that grew since its statistics is not taken for a small one), summed over a partitioned table's
 * partitions. Null when a table (or partition) that holds pages was never analysed.
 */
const ESTIMATE_SQL = /* SQL */ `
  select t.oid::int8 as oid,
         (select case when bool_and(pages = 0 or (reltuples >= 0 and relpages > 0))
                      then sum(case when pages > 0 and relpages > 0 then reltuples / relpages * pages else 0 end)::int8::text
                 end
            from (select c.reltuples, c.relpages, pg_catalog.pg_relation_size(c.oid)
                                                  / pg_catalog.current_setting('block_size')::int as pages
                    from pg_catalog.pg_class c
                   where (c.oid = t.oid and c.relkind = 'r')
                      or c.oid in (select relid from pg_catalog.pg_partition_tree(t.oid::regclass) where isleaf)) leaf
         ) as n
    from unnest($1::oid[]) as t(oid)`;

/** Each table's estimated row count (undefined: unknown), read in the snapshot without reading them: one query. */
async function estimatedCounts(
  client: pg.Client,
  tables: readonly Pick<TableInfo, 'oid'>[],
): Promise<Map<number, number | undefined>> {
  const { rows } = await client.query<{ oid: string; n: string | null }>(ESTIMATE_SQL, [
    tables.map((t) => t.oid),
  ]);
  return new Map(rows.map((r) => [Number(r.oid), r.n === null ? undefined : Number(r.n)]));
}

/** Exact row count, in the export's snapshot. */
export async function exactCount(
  client: pg.Client,
  table: Pick<TableInfo, 'schema' | 'name' | 'kind'>,
): Promise<number> {
  try {
    return Number((await client.query<{ n: string }>(countQuery(table))).rows[0]!.n);
  } catch (err) {
    throw new TableError(displayName(table), `cannot count rows: ${describeError(err)}`, { cause: err });
  }
}

/**
 * Where each sequence stands, so the import can set the target's no lower (as pg_dump's setval does).
 * Recorded on the tables to export afresh (kept tables keep the positions their run read).
 */
export async function readSequencePositions(client: pg.Client, plan: ExportPlan): Promise<void> {
  for (const { info, kept } of plan.tables) {
    if (kept) continue;
    // One query at a time: they share the snapshot's connection.
    const positioned: typeof info.ownedSequences = [];
    for (const seq of info.ownedSequences) {
      const state = await readSequenceState(client, seq).catch(() => null);
      positioned.push({ ...seq, lastValue: state?.lastValue?.toString() ?? null });
    }
    info.ownedSequences = positioned;
  }
}
