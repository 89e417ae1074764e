import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeJsonAtomically } from './atomic-write.js';
import {
  MANIFEST_FORMAT_VERSION,
  manifestSchema,
  type ExportManifest,
  type ManifestTable,
} from './manifest-schema.js';
import { checkIntegrity } from './manifest-digest.js';
import { parseOrRefuse, readJsonFile } from './parse-file.js';

/*
 * metadata.json: the contract between export, import and verify (documented in the README). Import and
 * verify read everything they need from here, never from the source database. Its shape is the schema
 * in manifest-schema.ts; the state changes of its entries are in manifest-state.ts.
 */

export const MANIFEST_FILE = 'metadata.json';
export { MANIFEST_FORMAT_VERSION };
export type {
  ExportManifest,
  ExportMethod,
  ManifestColumn,
  ManifestFile,
  ManifestPart,
  ManifestTable,
  RecordedOptions,
  TableState,
} from './manifest-schema.js';

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
  await writeJsonAtomically(join(dir, MANIFEST_FILE), manifest);
}

/**
 * Reads and parses metadata.json. A missing, unreadable or malformed one is a `UsageError` naming the
 * file and, for a malformed one, the path of the bad field.
 */
export async function readManifest(dir: string): Promise<ExportManifest> {
  const path = join(dir, MANIFEST_FILE);
  const json = await readJsonFile(path, {
    notFound: `${path} not found: not an export directory (run supamigrate export first, or check --input-dir)`,
    invalidJson: (reason) => `${path} is not valid JSON (${reason}): the export is damaged`,
  });
  // Another version first, on its own: its fields would otherwise be reported one by one as wrong.
  const version =
    json !== null && typeof json === 'object'
      ? (json as { formatVersion?: unknown }).formatVersion
      : undefined;
  if (version !== MANIFEST_FORMAT_VERSION) {
    const why =
      typeof version === 'number' && version > MANIFEST_FORMAT_VERSION
        ? ` (it is version ${version}: written by a newer supamigrate, upgrade to read it)`
        : version === undefined
          ? ''
          : ` (its formatVersion is ${JSON.stringify(version)})`;
    throw new UsageError(
      `${path} is not a supamigrate metadata.json of format version ${MANIFEST_FORMAT_VERSION}${why}`,
    );
  }
  const manifest = parseOrRefuse(manifestSchema, json, path);
  // Before anything acts on it: its entries must be those export wrote (manifest-digest.ts).
  checkIntegrity(manifest, path);
  return manifest;
}
