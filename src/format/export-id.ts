import { createHash } from 'node:crypto';
import type { ExportManifest } from './manifest.js';

/**
 * The export's identity: when it was taken, in which snapshot, and a digest of its table entries (names,
 * files, row counts, sha256), so the progress of another export (or of this directory exported again) is
 * never taken for this one's.
 */
export function exportId(manifest: Pick<ExportManifest, 'exportedAt' | 'snapshot' | 'tables'>): string {
  const entries = manifest.tables.map((t) => [
    t.schema,
    t.name,
    t.rowCount,
    t.file ?? null,
    t.sha256 ?? null,
    (t.parts ?? []).map((p) => [p.file, p.rowCount, p.sha256 ?? null]),
  ]);
  const digest = createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
  return `${manifest.exportedAt} ${manifest.snapshot ?? '-'} ${digest}`;
}
