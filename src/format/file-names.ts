import { createHash } from 'node:crypto';
import type { ExportFormat } from './file-layout.js';

/**
 * The file name of a table's export: `schema.table.json`. Characters that are not safe in a file name on
 * every system are written as %XX; two names equal but for case get a numbered suffix, so the export
 * can be copied to a case-insensitive file system.
 */
export function tableFileName(
  table: { schema: string; name: string },
  format: ExportFormat,
  taken: Set<string>,
): string {
  const safe = (s: string) =>
    [...s]
      .map((ch) => (/[A-Za-z0-9_-]/.test(ch) ? ch : encodeURIComponent(ch).replace(/[!'()*.~]/g, hex)))
      .join('');
  let stem = `${safe(table.schema)}.${safe(table.name)}`;
  // File names are limited to 255 bytes: a long (often non-ASCII, so %-encoded) name is cut and made
  // unique again with a hash of the full name.
  if (stem.length > 180) {
    stem = `${stem.slice(0, 160).replace(/%[0-9A-F]?$/, '')}~${createHash('sha1')
      .update(JSON.stringify([table.schema, table.name]))
      .digest('hex')
      .slice(0, 10)}`;
  }
  let name = `${stem}.${format}`;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${stem}~${n}.${format}`;
  taken.add(name.toLowerCase());
  return name;
}

const hex = (ch: string) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
