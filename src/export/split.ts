import type pg from 'pg';
import type { TableInfo } from '../catalog/types.js';

/** A range of heap blocks: ctid from (from,0) up to (to,0), `to` null for the rest of the table. */
export type BlockRange = [number, number | null];

export interface SplitOptions {
  /** Connections available: a table is split into this many ranges. */
  jobs: number;
  /** Tables with fewer rows are not split. */
  minRows: number;
}

/** Blocks of a relation's main fork, as they stand in the snapshot's instant. */
const BLOCKS_SQL = /* SQL */ `
  select (pg_catalog.pg_relation_size($1::oid) / current_setting('block_size')::int8)::int8 as blocks,
         current_setting('server_version_num')::int as version`;

/**
 * Splits a large ordinary table into `jobs` ranges of heap blocks of about the same size, so that several
 * connections sharing the export's snapshot read it at once (a TID range scan each, PostgreSQL 14+). The
 * last range is open-ended: rows in blocks added after planning are still visible to the snapshot's
 * rules, and are read. Returns null when the table is better read in one piece.
 */
export async function splitTable(
  client: pg.Client,
  table: Pick<TableInfo, 'oid' | 'kind'>,
  rowCount: number,
  options: SplitOptions,
): Promise<BlockRange[] | null> {
  if (options.jobs < 2 || table.kind !== 'table' || rowCount < options.minRows) return null;
  const { rows } = await client.query<{ blocks: string; version: number }>(BLOCKS_SQL, [table.oid]);
  const blocks = Number(rows[0]!.blocks);
  // Before PostgreSQL 14 a ctid range is a filter over a full scan: splitting would read the table N times.
  if (rows[0]!.version < 140000 || blocks < options.jobs * 16) return null;
  const step = Math.ceil(blocks / options.jobs);
  return Array.from({ length: options.jobs }, (_, i): BlockRange => [
    i * step,
    i === options.jobs - 1 ? null : (i + 1) * step,
  ]);
}

/** The WHERE clause of a range (integers only, so it can stand in a COPY statement). */
export function rangeCondition([from, to]: BlockRange): string {
  const lower = `t.ctid >= '(${Math.trunc(from)},0)'::tid`;
  return to === null ? lower : `${lower} AND t.ctid < '(${Math.trunc(to)},0)'::tid`;
}

/** `public.readings.json` → `public.readings.part01.json`. */
export function partFileName(file: string, index: number, count: number): string {
  const digits = String(count).length;
  return file.replace(
    /(\.n?d?json(?:\.gz)?)$/,
    `.part${String(index + 1).padStart(Math.max(2, digits), '0')}$1`,
  );
}
