import { join } from 'node:path';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { TableInfo } from '../catalog/types.js';
import type { EncodedColumn } from '../codec/encode-column.js';
import { IntegrityError } from '../errors.js';
import { writeFileAtomically, type WrittenFile } from '../format/atomic-write.js';
import { compressor, type Compression } from '../format/compression.js';
import type { ExportFormat } from '../format/file-layout.js';
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
 * Writes one table's rows to its file, piping `COPY … TO STDOUT` to it in constant memory: the columns'
 * text, whose JSON the client builds by `forms` (the source server does no more than for pg_dump), or,
 * without forms (a table without columns), `(FORMAT binary)` of each row's JSON built by the server. Both
 * give the same bytes. The file is complete, and its row count checked, before it gets its name.
 */
export async function exportTable(client: pg.Client, target: TableExportTarget): Promise<TableExportResult> {
  const started = performance.now();
  const path = join(target.dir, target.file);
  let rowCount: number;
  let written: WrittenFile;
  const compress = target.compression ? [compressor(target.compression)] : [];
  const forms = target.forms;
  if (forms && target.table.columns.length > 0) {
    const query = columnsQuery(target.table, forms, target.where);
    const copy = client.query(copyStreams.to(`COPY (${query}) TO STDOUT`));
    const rows = new CopyTextToRows(target.format, target.table.columns, forms, target.onRows);
    written = await writeFileAtomically(path, [copy, rows, ...compress], target.signal);
    rowCount = rows.rowCount;
    if (copy.rowCount !== rowCount) {
      throw new IntegrityError(`wrote ${rowCount} rows but COPY sent ${copy.rowCount}`);
    }
  } else {
    const sql = exportQuery({ ...target.table, columns: [...target.table.columns] }, target.where);
    const copy = client.query(copyStreams.to(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
    const rows = new CopyBinaryToRows(target.format, target.onRows);
    written = await writeFileAtomically(path, [copy, rows, ...compress], target.signal);
    rowCount = rows.rowCount;
  }
  if (target.expectedRows !== null && rowCount !== target.expectedRows) {
    throw new IntegrityError(
      `wrote ${rowCount} rows but counted ${target.expectedRows} in the same snapshot: the export of this table is not trustworthy`,
    );
  }
  return { ...written, rowCount, seconds: (performance.now() - started) / 1000 };
}
