import { closeSync, createReadStream, fstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { RowFormatError } from '../errors.js';
import { COMPRESSED_SUFFIX, openExportFile, readExportFile } from './compression.js';
import type { ExportFormat } from './file-layout.js';
import { tableFiles, type ManifestTable } from './manifest.js';
import { RowReader } from './row-reader.js';

/** Rows sampled per table, at most: a scan costs about the same on any size. */
export const SCAN_SAMPLE_ROWS = 1000;
/** Places in a table's files the sample is taken from, so rows grouped by kind (teams first) all show. */
export const SCAN_WINDOWS = 10;
/** Bytes read from one place of an uncompressed file, at most (rows can be large). */
const WINDOW_MAX_BYTES = 4 << 20;
/** Decompressed bytes read from a compressed file, at most. */
const COMPRESSED_MAX_BYTES = 64 << 20;

type Row = Record<string, unknown>;
const all = () => true;

/**
 * At most SCAN_SAMPLE_ROWS rows of a table, parsed: all of them for a small table; else rows spread over
 * its files, each file's share in proportion to its rows: an uncompressed file from SCAN_WINDOWS places
 * (entered by byte offset, starting at the line after it), a compressed one (which cannot be entered in
 * the middle) by taking rows evenly spaced by number, reading no more than COMPRESSED_MAX_BYTES of it.
 */
export async function sampleTableRows(dir: string, t: ManifestTable, format: ExportFormat): Promise<Row[]> {
  const files = tableFiles(t).filter((f) => f.file !== '');
  const total = files.reduce((n, f) => n + f.rowCount, 0);
  const rows: Row[] = [];
  for (const f of files) {
    const path = join(dir, f.file);
    const label = `${t.schema}.${t.name} (${path})`;
    if (total <= SCAN_SAMPLE_ROWS) {
      await readRows(readExportFile(path), format, label, SCAN_SAMPLE_ROWS - rows.length, all, rows);
      continue;
    }
    const share = Math.max(1, Math.round((SCAN_SAMPLE_ROWS * f.rowCount) / total));
    if (f.rowCount === 0) continue;
    if (f.rowCount <= share) {
      await readRows(readExportFile(path), format, label, share, all, rows);
    } else if (path.endsWith(COMPRESSED_SUFFIX)) {
      // Row n (from 0) is taken when it starts a new share-th of the file: `share` rows evenly spread.
      const rowCount = f.rowCount;
      const pick = (n: number) =>
        Math.floor(((n + 1) * share) / rowCount) > Math.floor((n * share) / rowCount);
      await readRows(readExportFile(path), format, label, share, pick, rows, COMPRESSED_MAX_BYTES);
    } else {
      await sampleWindows(path, format, label, share, rows);
    }
  }
  return rows;
}

/** `share` rows of an uncompressed file, from SCAN_WINDOWS places spread over its bytes. */
async function sampleWindows(
  path: string,
  format: ExportFormat,
  label: string,
  share: number,
  rows: Row[],
): Promise<void> {
  const windows = Math.min(SCAN_WINDOWS, share);
  const fd = openExportFile(path);
  const size = fstatSync(fd).size;
  closeSync(fd);
  for (let w = 0; w < windows; w++) {
    const quota = Math.floor((share * (w + 1)) / windows) - Math.floor((share * w) / windows);
    const start = Math.floor((size * w) / windows);
    // A window ends where the next begins (the row across the boundary is in neither): no row twice.
    const end = Math.floor((size * (w + 1)) / windows) - 1;
    const fdOfWindow = openExportFile(path);
    const stream = createReadStream(path, { start, end, highWaterMark: 64 * 1024, fd: fdOfWindow });
    await readRows(stream, format, label, quota, all, rows, WINDOW_MAX_BYTES, start > 0);
  }
}

/**
 * Reads rows from `stream` into `rows`, those `pick` takes by their number (from 0), until `quota` more
 * rows or `maxBytes` bytes. `resync`: the stream starts anywhere in the file; rows are read from the line after its first line
 * break (the export writes one row a line), and a layout error there (a line inside a multi-line value)
 * ends this window quietly, since what it read is only a sample.
 */
async function readRows(
  stream: Readable,
  format: ExportFormat,
  label: string,
  quota: number,
  pick: (n: number) => boolean,
  rows: Row[],
  maxBytes = Infinity,
  resync = false,
): Promise<void> {
  const reader = new RowReader(format, label);
  const goal = rows.length + quota;
  let bytes = 0;
  let synced = !resync;
  if (resync && format === 'json') reader.parse(Buffer.from('['), () => {});
  try {
    for await (const data of stream) {
      let chunk = data as Buffer;
      bytes += chunk.length;
      if (!synced) {
        const nl = chunk.indexOf(0x0a);
        if (nl < 0) continue;
        chunk = chunk.subarray(nl + 1);
        synced = true;
      }
      reader.parse(chunk, (buf, start, end, n) => {
        if (rows.length < goal && pick(n - 1)) rows.push(JSON.parse(buf.toString('utf8', start, end)) as Row);
      });
      if (rows.length >= goal || bytes >= maxBytes) break;
    }
  } catch (err) {
    if (!(resync && (err instanceof RowFormatError || err instanceof SyntaxError))) throw err;
  } finally {
    stream.destroy();
  }
}
