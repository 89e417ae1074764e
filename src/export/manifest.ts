import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrokenEdge } from '../catalog/dependency-order.js';
import type { ColumnInfo, ForeignKey, OwnedSequence } from '../catalog/types.js';
import { UsageError } from '../errors.js';
import type { ExportFormat } from './row-framing.js';

/*
 * metadata.json: the contract between export, import and verify (documented in the README). Import and
 * verify read everything they need from here, never from the source database.
 */

export const MANIFEST_FILE = 'metadata.json';
export const MANIFEST_FORMAT_VERSION = 1;

export type ExportMethod = 'stream' | 'batch';
export type TableState = 'pending' | 'complete' | 'failed';

export interface ManifestTable {
  schema: string;
  name: string;
  /** File name inside the export directory. */
  file: string;
  state: TableState;
  rowCount: number;
  method: ExportMethod;
  bytes: number | null;
  sha256: string | null;
  seconds: number | null;
  kind: 'table' | 'partitioned';
  columns: ColumnInfo[];
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  ownedSequences: OwnedSequence[];
  rowLevelSecurity: boolean;
  error?: string;
}

export interface ManifestFile {
  file: string;
  state: TableState;
  rowCount: number;
  bytes: number | null;
  sha256: string | null;
  columns: ColumnInfo[];
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
