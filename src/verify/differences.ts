import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readExportFile } from '../format/compression.js';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import copyStreams from 'pg-copy-streams';
import { tableFiles, type ManifestTable } from '../format/manifest.js';
import type { ValueSql } from '../codec/row-sql.js';
import { copyEscape } from '../codec/copy-text.js';
import { quoteIdent } from '../pg/sql.js';
import { keyedHashesSql, type ChecksumTable } from '../codec/checksum.js';
import { RowScanner, rowValuesText } from '../format/row-reader.js';

/** A row that differs between two sides: its key is the primary key values as JSON, or the row's md5. */
export interface DifferingRow {
  key: string;
  difference: string;
}

interface Keyed {
  k: string;
  h: string;
}

/** Reads a query's rows in batches through a cursor: constant memory whatever the table's size. */
async function* cursorRows(client: pg.Client, sql: string): AsyncGenerator<Keyed> {
  const cursor = client.query(new Cursor<Keyed>(sql));
  try {
    for (;;) {
      const rows = await cursor.read(5000);
      if (rows.length === 0) return;
      yield* rows;
    }
  } finally {
    await cursor.close();
  }
}

/** The keyed row hashes of a database side, sorted by key bytes. */
export const databaseKeyed = (client: pg.Client, table: ChecksumTable, valueOf?: ValueSql) =>
  cursorRows(client, keyedHashesSql(table, valueOf));

/**
 * The keyed row hashes of a file, sorted by key bytes. The file is not sorted, so its (key, hash) pairs
 * go into a temporary table of `scratch` (a connection that may create one) and come back sorted by
 * the server, keeping the client's memory constant.
 */
export async function* fileKeyed(
  scratch: pg.Client,
  dir: string,
  table: ManifestTable,
  format: 'json' | 'ndjson',
): AsyncGenerator<Keyed> {
  const temp = quoteIdent('supamigrate_file_keys');
  await scratch.query(`DROP TABLE IF EXISTS pg_temp.${temp}`);
  await scratch.query(`CREATE TEMP TABLE ${temp} (k text, h text)`);
  const keyOf = (buf: Buffer, start: number, end: number, row: number, h: string) =>
    table.primaryKey.length > 0 ? rowValuesText(buf, start, end, table.primaryKey, row) : h;
  for (const file of tableFiles(table)) {
    const path = join(dir, file.file);
    await pipeline(
      readExportFile(path),
      new RowScanner(path, format, (buf, start, end, row) => {
        const h = createHash('md5').update(buf.subarray(start, end)).digest('hex');
        return `${copyEscape(keyOf(buf, start, end, row, h))}\t${h}\n`;
      }),
      scratch.query(copyStreams.from(`COPY ${temp} (k, h) FROM STDIN`)),
    );
  }
  try {
    yield* cursorRows(scratch, `SELECT k, h FROM ${temp} ORDER BY k COLLATE "C"`);
  } finally {
    await scratch.query(`DROP TABLE IF EXISTS pg_temp.${temp}`);
  }
}

const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Walks two sorted keyed streams side by side and returns up to `limit` rows that are on one side only,
 * or on both with different content.
 */
export async function differingRows(
  a: AsyncIterable<Keyed>,
  b: AsyncIterable<Keyed>,
  names: [string, string],
  limit = 10,
): Promise<DifferingRow[]> {
  const found: DifferingRow[] = [];
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  let [ra, rb] = await Promise.all([ia.next(), ib.next()]);
  try {
    while ((!ra.done || !rb.done) && found.length < limit) {
      const order = ra.done ? 1 : rb.done ? -1 : compareKeys(ra.value.k, rb.value.k);
      if (order < 0) {
        found.push({ key: ra.value!.k, difference: `only in ${names[0]}` });
        ra = await ia.next();
      } else if (order > 0) {
        found.push({ key: rb.value!.k, difference: `only in ${names[1]}` });
        rb = await ib.next();
      } else {
        if (ra.value.h !== rb.value!.h)
          found.push({ key: ra.value.k, difference: `differs between ${names[0]} and ${names[1]}` });
        [ra, rb] = await Promise.all([ia.next(), ib.next()]);
      }
    }
  } finally {
    await Promise.all([ia.return?.(), ib.return?.()]);
  }
  return found;
}
