import type { EncodedTable } from '../codec/encode-column.js';
import { UsageError } from '../errors.js';
import { checkExportFiles } from '../format/file-integrity.js';
import { readManifest, type ExportManifest, type ManifestTable } from '../format/manifest.js';
import { isComplete, reopenTable, resetPart } from '../format/manifest-state.js';
import type { ExportPlan } from './plan.js';

/** The export --resume finishes: its metadata.json must be there. */
export async function previousExport(dir: string): Promise<ExportManifest> {
  return readManifest(dir).catch((err: unknown) => {
    throw new UsageError(`nothing to resume in ${dir}: ${(err as Error).message}`, { cause: err });
  });
}

/**
 * --resume: the earlier run's entry for this table, if any of it can be kept: it must describe the same
 * columns, and its complete files must still match their sha256. Parts that cannot be kept are reset to
 * pending, to be read again.
 */
export async function keepable(
  dir: string,
  previous: ExportManifest,
  info: EncodedTable,
): Promise<ManifestTable | null> {
  const entry = previous.tables.find((t) => t.schema === info.schema && t.name === info.name);
  if (!entry) return null;
  const sameColumns =
    JSON.stringify(entry.columns.map((c) => [c.name, c.type])) ===
    JSON.stringify(info.columns.map((c) => [c.name, c.type]));
  if (!sameColumns) return null;
  const intact = async (file: { file: string; bytes: number | null; sha256: string | null }) =>
    (await checkExportFiles(dir, [{ label: info.name, ...file }])).length === 0;
  if (!entry.parts)
    return isComplete(entry) && (await intact({ ...entry, file: entry.file! })) ? entry : null;
  let keptParts = 0;
  for (const part of entry.parts) {
    if (isComplete(part) && (await intact(part))) keptParts++;
    else resetPart(part);
  }
  if (keptParts === 0) return null;
  if (keptParts < entry.parts.length) reopenTable(entry);
  return entry;
}

/** What a resumed manifest says of the run it finishes. */
export function resumeNote(previous: ExportManifest, plan: ExportPlan, snapshot: string | null): string {
  const kept = plan.tables.filter((p) => isComplete(p.kept)).length;
  return `resumed ${new Date().toISOString()}: ${kept} table(s) kept from the run of ${previous.exportedAt} (snapshot ${previous.snapshot ?? 'none'}), the rest read in snapshot ${snapshot ?? 'none'}; rows written in between may make them disagree (each table records its snapshot; verify against the source to check)`;
}
