import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { IMPORT_STATE_FILE } from './import-state.js';
import { MANIFEST_FILE } from './manifest.js';

/**
 * Refuses to write a file of ours (a user map, a provider export) over a file of an export: one that
 * metadata.json in the same directory lists (a table's file or part, auth_users.json,
 * auth_identities.json), metadata.json itself or the import state. `--force` replaces a file the user
 * owns, never the export those files are read from. metadata.json is read loosely: even a damaged one
 * says the directory is an export.
 */
export async function refuseExportFiles(paths: readonly string[], what: string): Promise<void> {
  for (const path of paths) {
    const dir = dirname(resolve(path));
    let text: string;
    try {
      text = await readFile(resolve(dir, MANIFEST_FILE), 'utf8');
    } catch {
      continue; // No metadata.json beside it: not an export directory.
    }
    const name = basename(path).toLowerCase();
    if (exportFiles(text).has(name)) {
      throw new UsageError(
        `${path} is a file of the export in ${dir} (listed in its ${MANIFEST_FILE}): the ${what} is not written over it; give another --out`,
      );
    }
  }
}

/** The names (lower case: exports are kept apart case-insensitively) of an export's files. */
function exportFiles(manifestText: string): Set<string> {
  const names = new Set([MANIFEST_FILE, IMPORT_STATE_FILE]);
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestText);
  } catch {
    return names;
  }
  const fileOf = (entry: unknown) =>
    entry !== null && typeof entry === 'object' && typeof (entry as { file?: unknown }).file === 'string'
      ? [(entry as { file: string }).file]
      : [];
  const m = (manifest ?? {}) as { tables?: unknown; authUsers?: unknown; authIdentities?: unknown };
  const tables = Array.isArray(m.tables) ? (m.tables as unknown[]) : [];
  const files = [
    ...fileOf(m.authUsers),
    ...fileOf(m.authIdentities),
    ...tables.flatMap((t) => [
      ...fileOf(t),
      ...(Array.isArray((t as { parts?: unknown } | null)?.parts)
        ? (t as { parts: unknown[] }).parts.flatMap(fileOf)
        : []),
    ]),
  ];
  for (const f of files) names.add(f.toLowerCase());
  return names;
}
