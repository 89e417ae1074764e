import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrokenEdge } from '../catalog/dependency-order.js';
import type { ForeignKey, OwnedSequence } from '../catalog/types.js';
import type { EncodedColumn } from '../codec/encode-column.js';
import { UsageError } from '../errors.js';
import type { ExportFormat } from './file-layout.js';

/*
 * metadata.json: the contract between export, import and verify (documented in the README). Import and
 * verify read everything they need from here, never from the source database.
 */

export const MANIFEST_FILE = 'metadata.json';
export const MANIFEST_FORMAT_VERSION = 1;

export type ExportMethod = 'stream' | 'batch';
export type TableState = 'pending' | 'complete' | 'failed';

/** One range of a large table, read on its own connection into its own file (all in one snapshot). */
export interface ManifestPart {
  file: string;
  /** The heap blocks read: ctid from (from,0) up to (to,0); `to` null means to the end of the table. */
  blocks: [number, number | null];
  state: TableState;
  rowCount: number | null;
  bytes: number | null;
  sha256: string | null;
  seconds: number | null;
  /** The snapshot this part was read in (it may differ from the table's after --resume). */
  snapshot?: string | null;
  error?: string;
}

export interface ManifestTable {
  schema: string;
  name: string;
  /** File name inside the export directory; null when the table is split into `parts`. */
  file: string | null;
  /** A large table read in parallel ranges: one file each. Their rows together are the table's. */
  parts?: ManifestPart[];
  state: TableState;
  rowCount: number;
  method: ExportMethod;
  bytes: number | null;
  sha256: string | null;
  seconds: number | null;
  kind: 'table' | 'partitioned';
  columns: EncodedColumn[];
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  ownedSequences: OwnedSequence[];
  rowLevelSecurity: boolean;
  /** The snapshot the table was read in: after `export --resume`, tables kept from the earlier run keep theirs. */
  snapshot?: string | null;
  /** When its rows were read. */
  exportedAt?: string;
  error?: string;
}

export interface ManifestFile {
  file: string;
  state: TableState;
  rowCount: number;
  bytes: number | null;
  sha256: string | null;
  columns: EncodedColumn[];
  error?: string;
}

export interface ExportManifest {
  formatVersion: typeof MANIFEST_FORMAT_VERSION;
  tool: { name: 'supamigrate'; version: string };
  exportedAt: string;
  completedAt: string | null;
  source: { serverVersion: string; database: string; user: string; url: string };
  /** The snapshot every table was read in (pg_export_snapshot), or null when read in one transaction. */
  snapshot: string | null;
  format: ExportFormat;
  options: Record<string, unknown>;
  tables: ManifestTable[];
  /** Foreign keys set aside to break cycles: their tables come before the tables they reference. */
  brokenForeignKeys: BrokenEdge[];
  authUsers: ManifestFile | null;
  authIdentities: ManifestFile | null;
  notes: string[];
}

/** A file holding (some of) a table's rows, as import and verify read it. */
export interface TableFile {
  file: string;
  rowCount: number;
  bytes: number | null;
  sha256: string | null;
}

/** The files of a table: its one file, or its parts in order. */
export function tableFiles(table: ManifestTable): TableFile[] {
  if (table.parts) {
    return table.parts.map((p) => ({
      file: p.file,
      rowCount: p.rowCount ?? 0,
      bytes: p.bytes,
      sha256: p.sha256,
    }));
  }
  return [{ file: table.file ?? '', rowCount: table.rowCount, bytes: table.bytes, sha256: table.sha256 }];
}

/** Writes metadata.json under a temporary name and renames it, so a reader never sees half of it. */
export async function writeManifest(dir: string, manifest: ExportManifest): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  const temp = join(dir, `.${MANIFEST_FILE}.partial`);
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** Reads and checks metadata.json; a missing or unreadable one is a `UsageError` naming the file. */
export async function readManifest(dir: string): Promise<ExportManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `${path} not found: not an export directory (run supamigrate export first, or check --input-dir)`
        : `Cannot read ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(text) as ExportManifest;
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON (${(err as Error).message}): the export is damaged`, {
      cause: err,
    });
  }
  if (manifest?.formatVersion !== MANIFEST_FORMAT_VERSION || !Array.isArray(manifest.tables)) {
    throw new UsageError(
      `${path} is not a supamigrate metadata.json of format version ${MANIFEST_FORMAT_VERSION}`,
    );
  }
  return manifest;
}
