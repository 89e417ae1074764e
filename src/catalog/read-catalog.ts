import type pg from 'pg';
import {
  COLUMNS_SQL,
  CONSTRAINTS_SQL,
  OWNED_SEQUENCES_SQL,
  SEQUENCE_STATE_SQL,
  TABLES_SQL,
  TYPES_SQL,
} from './catalog.sql.js';
import { qualifiedName, withEmptySearchPath } from '../pg/sql.js';
import type { ColumnInfo, ForeignKey, OwnedSequence, TableInfo } from './types.js';
import { missingTypeOids, valueTypeOf, type RawTypeRow } from './type-walk.js';

interface RawTableRow {
  oid: string;
  schema: string;
  name: string;
  relkind: string;
  reltuples: number;
  rls: boolean;
}

interface RawColumnRow {
  table_oid: string;
  name: string;
  type: string;
  type_oid: string;
  not_null: boolean;
  generated: string;
  identity: string;
  has_default: boolean;
}

interface RawConstraintRow {
  table_oid: string;
  name: string;
  type: 'p' | 'f';
  deferrable: boolean;
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[];
}

interface RawOwnedSequenceRow {
  table_oid: string;
  column_name: string;
  schema: string;
  name: string;
}

interface RawSequenceStateRow {
  name: string;
  increment: string;
  start: string;
  min: string;
  max: string;
  last_value: string | null;
}

export interface SequenceState {
  increment: bigint;
  start: bigint;
  min: bigint;
  max: bigint;
  lastValue: bigint | null;
}

/** Where a sequence stands (`schema.name`); null when it cannot be read. */
export async function readSequenceState(
  client: pg.Client,
  sequence: { schema: string; name: string },
): Promise<SequenceState | null> {
  const row = (await client.query<RawSequenceStateRow>(SEQUENCE_STATE_SQL, [qualifiedName(sequence)]))
    .rows[0];
  if (!row) return null;
  return {
    increment: BigInt(row.increment),
    start: BigInt(row.start),
    min: BigInt(row.min),
    max: BigInt(row.max),
    lastValue: row.last_value === null ? null : BigInt(row.last_value),
  };
}

/**
 * Reads every exportable table of `schemas` from pg_catalog: columns with their value types,
 * primary and foreign keys, owned sequences. Tables come sorted by schema and name.
 */
export async function readCatalog(client: pg.Client, schemas: readonly string[]): Promise<TableInfo[]> {
  // Types are recorded qualified (extensions.citext), whatever the role's search_path.
  return withEmptySearchPath(client, () => readTables(client, schemas));
}

async function readTables(client: pg.Client, schemas: readonly string[]): Promise<TableInfo[]> {
  const tables = (await client.query<RawTableRow>(TABLES_SQL, [schemas])).rows;
  if (tables.length === 0) return [];
  const oids = tables.map((t) => t.oid);
  const columns = (await client.query<RawColumnRow>(COLUMNS_SQL, [oids])).rows;
  const constraints = (await client.query<RawConstraintRow>(CONSTRAINTS_SQL, [oids])).rows;
  const sequences = (await client.query<RawOwnedSequenceRow>(OWNED_SEQUENCES_SQL, [oids])).rows;
  const types = await loadTypes(
    client,
    columns.map((c) => c.type_oid),
  );
  return tables.map((t) =>
    parseTable(
      t,
      columns.filter((c) => c.table_oid === t.oid),
      constraints.filter((c) => c.table_oid === t.oid),
      sequences.filter((s) => s.table_oid === t.oid),
      types,
    ),
  );
}

async function loadTypes(client: pg.Client, oids: string[]): Promise<Map<string, RawTypeRow>> {
  const types = new Map<string, RawTypeRow>();
  let wanted = [...new Set(oids)];
  while (wanted.length > 0) {
    const rows = (await client.query<RawTypeRow>(TYPES_SQL, [wanted])).rows;
    for (const row of rows) types.set(row.oid, row);
    const next = missingTypeOids(oids.concat(rows.map((r) => r.oid)), types);
    if (next.every((oid) => wanted.includes(oid))) break;
    wanted = next;
  }
  return types;
}

function parseTable(
  raw: RawTableRow,
  columns: RawColumnRow[],
  constraints: RawConstraintRow[],
  sequences: RawOwnedSequenceRow[],
  types: ReadonlyMap<string, RawTypeRow>,
): TableInfo {
  const primaryKey = constraints.find((c) => c.type === 'p')?.columns ?? [];
  const foreignKeys: ForeignKey[] = constraints
    .filter((c) => c.type === 'f')
    .map((c) => ({
      name: c.name,
      columns: c.columns,
      references: { schema: c.ref_schema ?? '', table: c.ref_table ?? '', columns: c.ref_columns },
      deferrable: c.deferrable,
    }));
  const ownedSequences: OwnedSequence[] = sequences.map((s) => ({
    schema: s.schema,
    name: s.name,
    column: s.column_name,
  }));
  return {
    oid: Number(raw.oid),
    schema: raw.schema,
    name: raw.name,
    kind: raw.relkind === 'p' ? 'partitioned' : 'table',
    estimatedRows: raw.reltuples,
    columns: columns.map((c) => parseColumn(c, types)),
    primaryKey,
    foreignKeys,
    ownedSequences,
    rowLevelSecurity: raw.rls,
  };
}

function parseColumn(raw: RawColumnRow, types: ReadonlyMap<string, RawTypeRow>): ColumnInfo {
  return {
    name: raw.name,
    type: raw.type,
    valueType: valueTypeOf(raw.type_oid, types),
    nullable: !raw.not_null,
    generated: raw.generated === 's' ? 'stored' : null,
    identity: raw.identity === 'a' ? 'always' : raw.identity === 'd' ? 'by default' : null,
    hasDefault: raw.has_default,
  };
}
