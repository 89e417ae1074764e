import type { EncodedTable } from '../codec/encode-column.js';
import { UsageError } from '../errors.js';
import { checkExportFiles, type ExpectedFile } from '../format/file-integrity.js';
import { readManifest, type ExportManifest, type ManifestTable } from '../format/manifest.js';
import { inOneSnapshot, isComplete } from '../format/manifest-state.js';
import type { ExportPlan } from './plan.js';

/** The export --resume finishes: its metadata.json must be there. */
export async function previousExport(dir: string): Promise<ExportManifest> {
  return readManifest(dir).catch((err: unknown) => {
    throw new UsageError(`nothing to resume in ${dir}: ${(err as Error).message}`, { cause: err });
  });
}

/**
 * --resume of an export that is complete, every file still matching its sha256: a message saying there is
 * nothing to resume (null when something is left to do).
 */
export async function nothingToResume(dir: string, previous: ExportManifest): Promise<string | null> {
  if (previous.completedAt === null) return null;
  const files: ExpectedFile[] = [
    ...previous.tables.flatMap((t) =>
      t.parts
        ? t.parts.map((p) => ({ label: `${t.schema}.${t.name}`, ...p }))
        : [{ label: `${t.schema}.${t.name}`, file: t.file!, bytes: t.bytes, sha256: t.sha256 }],
    ),
    ...[previous.authUsers, previous.authIdentities].flatMap((f) => (f ? [{ label: f.file, ...f }] : [])),
  ];
  if ((await checkExportFiles(dir, files)).length > 0) return null;
  return `nothing to resume: the export in ${dir} is complete (completed ${previous.completedAt}; every file matches its sha256)`;
}

/**
 * --resume against another database than the export's (another server, or another database on it, or the
 * database dropped and created again) is refused: its kept files and the new ones would describe two
 * databases. The system identifier is compared when both runs could read it.
 */
export function checkSameSource(
  dir: string,
  previous: ExportManifest['source'],
  now: ExportManifest['source'],
) {
  const differs = (a: unknown, b: unknown) =>
    a !== undefined && a !== null && b !== undefined && b !== null && a !== b;
  const describe = (s: ExportManifest['source']) =>
    `database "${s.database}"${s.databaseOid !== undefined ? ` (oid ${s.databaseOid})` : ''}${s.systemIdentifier ? ` of system ${s.systemIdentifier}` : ''}`;
  if (
    previous.database !== now.database ||
    differs(previous.systemIdentifier, now.systemIdentifier) ||
    differs(previous.databaseOid, now.databaseOid)
  ) {
    throw new UsageError(
      `cannot resume: the export in ${dir} is of ${describe(previous)}, not of ${describe(now)}: resume it against the database it came from, or start over with --force`,
    );
  }
}

/**
 * --resume: the earlier run's entry for this table when it can be kept whole: it must be complete, describe
 * the same columns, and every file of it must still match its sha256. A split table is kept only when all
 * its parts are (and were read in one snapshot): parts read in two snapshots can miss rows an UPDATE moved
 * from one block range to another, so when any part must be read again, every part is.
 */
export async function keepable(
  dir: string,
  previous: ExportManifest,
  info: EncodedTable,
): Promise<ManifestTable | null> {
  const entry = previous.tables.find((t) => t.schema === info.schema && t.name === info.name);
  if (!entry || !isComplete(entry) || !inOneSnapshot(entry)) return null;
  const sameColumns =
    JSON.stringify(entry.columns.map((c) => [c.name, c.type])) ===
    JSON.stringify(info.columns.map((c) => [c.name, c.type]));
  if (!sameColumns) return null;
  const label = `${info.schema}.${info.name}`;
  const files: ExpectedFile[] = entry.parts
    ? entry.parts.map((p) => ({ label, ...p }))
    : [{ label, file: entry.file!, bytes: entry.bytes, sha256: entry.sha256 }];
  if (entry.parts && !entry.parts.every(isComplete)) return null;
  return (await checkExportFiles(dir, files)).length === 0 ? entry : null;
}

/** The files of the earlier run that the resumed one does not keep (its tables read again, or gone). */
export function filesNotKept(previous: ExportManifest, plan: ExportPlan): string[] {
  const kept = new Set(plan.tables.flatMap((t) => (t.kept ? [t.kept] : [])));
  return previous.tables
    .filter((t) => !kept.has(t))
    .flatMap((t) => (t.parts ? t.parts.map((p) => p.file) : t.file ? [t.file] : []));
}

/** What a resumed manifest says of the run it finishes. */
export function resumeNote(previous: ExportManifest, plan: ExportPlan, snapshot: string | null): string {
  const kept = plan.tables.filter((p) => isComplete(p.kept)).length;
  return `resumed ${new Date().toISOString()}: ${kept} table(s) kept from the run of ${previous.exportedAt} (snapshot ${previous.snapshot ?? 'none'}), the rest read in snapshot ${snapshot ?? 'none'}; rows written in between may make them disagree (each table records its snapshot; verify against the source to check)`;
}
