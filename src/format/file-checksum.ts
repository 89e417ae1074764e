import { rowHash64, toHex, type Checksum } from '../codec/checksum.js';
import { exportPath } from './export-path.js';
import { tableFiles, type ManifestTable } from './manifest.js';
import { forEachFileRow } from './row-reader.js';

/** A table's checksum over its export files: the same sum as the database's, row by row over the file bytes. */
export async function fileChecksum(
  dir: string,
  table: ManifestTable,
  format: 'json' | 'ndjson',
): Promise<Checksum> {
  let sum = 0n;
  let rows = 0;
  for (const file of tableFiles(table)) {
    rows += await forEachFileRow(exportPath(dir, file.file), format, (buf, start, end) => {
      sum += rowHash64(buf, start, end);
    });
  }
  return { rows, hash: toHex(sum) };
}
