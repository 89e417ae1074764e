import type { ExportMethod, ManifestFile, ManifestPart, ManifestTable } from './manifest-schema.js';

/*
 * The state changes of metadata.json's entries: pending → complete or failed, and back to pending when
 * `export --resume` reads a part again. Entries change in place: the manifest object holding them is the
 * one written after every table, so a change is on disk with the next write.
 */

type Entry = ManifestTable | ManifestPart | ManifestFile;

/** What export knows of a table before reading it (a catalog table with encoded columns). */
export type TableDescription = Pick<
  ManifestTable,
  | 'schema'
  | 'name'
  | 'kind'
  | 'columns'
  | 'primaryKey'
  | 'foreignKeys'
  | 'ownedSequences'
  | 'rowLevelSecurity'
>;

export interface TablePlan {
  /** The table's one file; ignored when it is split into `parts`. */
  file: string;
  /** A split table: each range's file and heap blocks, in order. */
  parts?: { file: string; blocks: ManifestPart['blocks'] }[] | null;
  /** count(*) in the snapshot. */
  rowCount: number;
  method: ExportMethod;
  snapshot: string | null;
}

/** A file written: what a complete entry records of it. */
export interface Written {
  rowCount: number;
  bytes: number;
  sha256: string;
  seconds: number;
}

/** A table's entry before any of it is read: pending, with its file or its pending parts. */
export function newTableEntry(table: TableDescription, plan: TablePlan): ManifestTable {
  const parts = plan.parts ?? null;
  return {
    snapshot: plan.snapshot,
    schema: table.schema,
    name: table.name,
    file: parts ? null : plan.file,
    ...(parts ? { parts: parts.map((p) => newPartEntry(p.file, p.blocks, plan.snapshot)) } : {}),
    state: 'pending',
    rowCount: plan.rowCount,
    method: plan.method,
    bytes: null,
    sha256: null,
    seconds: null,
    kind: table.kind,
    columns: table.columns,
    primaryKey: table.primaryKey,
    foreignKeys: table.foreignKeys,
    ownedSequences: table.ownedSequences,
    rowLevelSecurity: table.rowLevelSecurity,
  };
}

export function newPartEntry(
  file: string,
  blocks: ManifestPart['blocks'],
  snapshot: string | null,
): ManifestPart {
  return {
    file,
    blocks,
    state: 'pending',
    rowCount: null,
    bytes: null,
    sha256: null,
    seconds: null,
    snapshot,
  };
}

/** An auth file's entry (auth_users.json, auth_identities.json) before it is read. */
export function newFileEntry(file: string, columns: ManifestFile['columns']): ManifestFile {
  return { file, state: 'pending', rowCount: 0, bytes: null, sha256: null, columns };
}

/** A part is complete: its file is under its final name with these rows, bytes and sha256. */
export function markPartComplete(
  part: ManifestPart,
  written: Written,
  snapshot: string | null,
): ManifestPart {
  return Object.assign(part, {
    state: 'complete' as const,
    rowCount: written.rowCount,
    bytes: written.bytes,
    sha256: written.sha256,
    seconds: round(written.seconds),
    snapshot,
  });
}

/** The rows and bytes of a split table: the sums of its parts'. */
export function partTotals(entry: ManifestTable): { rowCount: number; bytes: number } {
  const parts = entry.parts ?? [];
  return {
    rowCount: parts.reduce((n, p) => n + (p.rowCount ?? 0), 0),
    bytes: parts.reduce((n, p) => n + (p.bytes ?? 0), 0),
  };
}

/** Whether all parts were read in one snapshot (parts of a resumed export may not be). */
export function inOneSnapshot(entry: ManifestTable): boolean {
  const first = entry.parts?.[0];
  return !entry.parts || entry.parts.every((p) => p.snapshot === first?.snapshot);
}

/**
 * A table is complete: all its files are. `sha256` is its one file's (a split table's are its parts').
 * `now` is when its rows were read, recorded as `exportedAt`.
 */
export function markTableComplete(
  entry: ManifestTable,
  done: { rowCount: number; bytes: number; seconds: number; sha256?: string },
  now: Date = new Date(),
): ManifestTable {
  if (done.sha256 !== undefined) entry.sha256 = done.sha256;
  return Object.assign(entry, {
    state: 'complete' as const,
    rowCount: done.rowCount,
    bytes: done.bytes,
    seconds: round(done.seconds),
    exportedAt: now.toISOString(),
  });
}

/** An auth file is complete. */
export function markFileComplete(
  entry: ManifestFile,
  written: { bytes: number; sha256: string },
): ManifestFile {
  return Object.assign(entry, { state: 'complete' as const, bytes: written.bytes, sha256: written.sha256 });
}

/**
 * Marks an entry failed with `message`. The first failure is the one kept: returns false (and changes
 * nothing) when the entry had already failed, so that a table is reported once however many parts fail.
 */
export function markFailed(entry: Entry, message: string): boolean {
  if (entry.state === 'failed') return false;
  Object.assign(entry, { state: 'failed' as const, error: message });
  return true;
}

/** `export --resume`: a part whose file cannot be kept is read again, from nothing. */
export function resetPart(part: ManifestPart): ManifestPart {
  Object.assign(part, {
    state: 'pending' as const,
    rowCount: null,
    bytes: null,
    sha256: null,
    seconds: null,
  });
  delete part.error;
  return part;
}

/** `export --resume`: a split table some of whose parts are kept is pending again until the rest are read. */
export function reopenTable(entry: ManifestTable): ManifestTable {
  entry.state = 'pending';
  delete entry.error;
  return entry;
}

export function isComplete(entry: Entry | null | undefined): boolean {
  return entry?.state === 'complete';
}

/** Seconds are kept to the millisecond. */
const round = (n: number) => Math.round(n * 1000) / 1000;
