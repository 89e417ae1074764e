import { Readable } from 'node:stream';
import { join } from 'node:path';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { TableInfo } from '../catalog/types.js';
import type { EncodedColumn } from '../codec/encode-column.js';
import { IntegrityError } from '../errors.js';
import { writeFileAtomically, type WrittenFile } from '../format/atomic-write.js';
import { compressor, type Compression } from '../format/compression.js';
import type { ExportMethod } from '../format/manifest.js';
import { RowFramer, type ExportFormat } from '../format/file-layout.js';
import { CopyBinaryToRows } from './copy-binary.js';
import { columnsQuery, exportQuery } from '../codec/row-sql.js';
import type { ColumnForm } from '../codec/text-to-json.js';
import { CopyTextToRows } from './copy-text-rows.js';

export interface TableExportTarget {
  table: Pick<TableInfo, 'schema' | 'name' | 'kind'> & { columns: readonly EncodedColumn[] };
  dir: string;
  file: string;
  format: ExportFormat;
  /** Compress the file as it is written (its name ends in .gz). */
  compression?: Compression | null;
  method: ExportMethod;
  /** The exact count read in the same snapshot: the file must hold exactly this many rows (null: a part). */
  expectedRows: number | null;
  /**
   * How the client builds each column's JSON from COPY text (src/codec/text-to-json.ts); without it the
   * server builds each row's JSON.
   */
  forms?: readonly ColumnForm[];
  /** Only the rows of this condition (a block range of a split table). */
  where?: string;
  onRows?: (rows: number) => void;
  /** Aborting stops the copy and removes the unfinished file. */
  signal?: AbortSignal;
}

export interface TableExportResult extends WrittenFile {
  rowCount: number;
  seconds: number;
}

/**
 * Writes one table's rows to its file. `stream` pipes `COPY … TO STDOUT` to the file in constant memory:
 * with `forms`, the columns' text, whose JSON the client builds (the source server does what pg_dump makes
 * it do), or else `(FORMAT binary)` of the JSON the server builds; `batch` reads all rows with one query first (for small tables it saves the COPY set-up).
 * Both write the same bytes. The file is complete, and its row count checked, before it gets its name.
 */
export async function exportTable(client: pg.Client, target: TableExportTarget): Promise<TableExportResult> {
  const started = performance.now();
  const sql = exportQuery({ ...target.table, columns: [...target.table.columns] }, target.where);
  const path = join(target.dir, target.file);
  let rowCount: number;
  let written: WrittenFile;
  const compress = target.compression ? [compressor(target.compression)] : [];
  const forms = target.forms;
  if (target.method === 'stream' && forms && target.table.columns.length > 0) {
    const query = columnsQuery(target.table, forms, target.where);
    const copy = client.query(copyStreams.to(`COPY (${query}) TO STDOUT`));
    const rows = new CopyTextToRows(target.format, target.table.columns, forms, target.onRows);
    written = await writeFileAtomically(path, [copy, rows, ...compress], target.signal);
    rowCount = rows.rowCount;
    if (copy.rowCount !== rowCount) {
      throw new IntegrityError(`wrote ${rowCount} rows but COPY sent ${copy.rowCount}`);
    }
  } else if (target.method === 'stream') {
    const copy = client.query(copyStreams.to(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
    const rows = new CopyBinaryToRows(target.format, target.onRows);
    written = await writeFileAtomically(path, [copy, rows, ...compress], target.signal);
    rowCount = rows.rowCount;
  } else {
    const result = await client.query<[string]>({ text: sql, rowMode: 'array' });
    const framer = new RowFramer(target.format);
    written = await writeFileAtomically(
      path,
      [Readable.from(batchChunks(result.rows, framer)), ...compress],
      target.signal,
    );
    rowCount = framer.rowCount;
    target.onRows?.(rowCount);
  }
  if (target.expectedRows !== null && rowCount !== target.expectedRows) {
    throw new IntegrityError(
      `wrote ${rowCount} rows but counted ${target.expectedRows} in the same snapshot: the export of this table is not trustworthy`,
    );
  }
  return { ...written, rowCount, seconds: (performance.now() - started) / 1000 };
}

function* batchChunks(rows: [string][], framer: RowFramer): Generator<Buffer> {
  yield framer.start();
  const parts: Buffer[] = [];
  for (const [json] of rows) {
    parts.push(framer.beforeRow(), Buffer.from(json), framer.afterRow());
    if (parts.length >= 3000) yield Buffer.concat(parts.splice(0));
  }
  if (parts.length > 0) yield Buffer.concat(parts);
  yield framer.end();
}
