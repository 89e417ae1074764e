import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { TableInfo } from '../catalog/types.js';
import type { EncodedColumn } from './encode-column.js';
import { columnJson, fromTable, rowJson, type ValueSql } from './row-sql.js';

/** What the checksum SQL needs of a table. */
export type ChecksumTable = Pick<TableInfo, 'schema' | 'name' | 'kind' | 'primaryKey'> & {
  columns: readonly EncodedColumn[];
};

/*
 * A table's content checksum: the sum, modulo 2^64, of the first 64 bits of the md5 of every row's JSON
 * text (the export's canonical form), taken over its UTF-8 bytes whatever the server's encoding (as the
 * files hold it). A sum does not depend on row order and, unlike XOR, counts duplicate
 * rows. The database computes it in SQL over the same row text the export writes; the files are hashed
 * row by row; so a database row and its exported row hash alike.
 */

export interface Checksum {
  rows: number;
  /** 16 hex digits. */
  hash: string;
}

export const toHex = (sum: bigint) => BigInt.asUintN(64, sum).toString(16).padStart(16, '0');

/** SQL: one row with `n` (count) and `h` (the sum as numeric text). */
export function checksumSql(table: ChecksumTable, valueOf?: ValueSql): string {
  return `SELECT count(*)::int8 AS n, coalesce(sum(('x' || substr(md5(convert_to(s.j, 'UTF8')), 1, 16))::bit(64)::int8), 0)::text AS h
            FROM (SELECT ${rowJson(table.columns, 't', valueOf)} AS j FROM ${fromTable(table)}) s`;
}

/** SQL: every row's key (primary key values, or the row hash without one) and md5, sorted by key bytes. */
export function keyedHashesSql(table: ChecksumTable, valueOf?: ValueSql): string {
  const row = rowJson(table.columns, 't', valueOf);
  const key = rowKeySql(table, valueOf);
  return `SELECT k, h FROM (SELECT ${key} AS k, md5(convert_to(${row}, 'UTF8')) AS h FROM ${fromTable(table)}) s ORDER BY k COLLATE "C"`;
}

/** A row's key as verify names it: its primary key values as a JSON array, or the md5 of the row. */
export function rowKeySql(table: ChecksumTable, valueOf?: ValueSql): string {
  const pk = table.primaryKey.map((name) => table.columns.find((c) => c.name === name)!);
  return pk.length > 0
    ? `'[' || ${pk.map((c) => columnJson(c, 't', valueOf)).join(` || ',' || `)} || ']'`
    : `md5(convert_to(${rowJson(table.columns, 't', valueOf)}, 'UTF8'))`;
}

export async function databaseChecksum(
  client: pg.Client,
  table: ChecksumTable,
  valueOf?: ValueSql,
): Promise<Checksum> {
  const { rows } = await client.query<{ n: string; h: string }>(checksumSql(table, valueOf));
  return { rows: Number(rows[0]!.n), hash: toHex(BigInt(rows[0]!.h)) };
}

/** The row md5 as verify uses it: the first 64 bits, as a signed big-endian integer. */
export const rowHash64 = (buf: Buffer, start: number, end: number): bigint =>
  createHash('md5').update(buf.subarray(start, end)).digest().readBigInt64BE(0);
