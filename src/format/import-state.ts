import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Which tables an import has loaded, kept beside the export (import-state.json) so that
 * `import --resume` skips them. It names the target (user@host:port/database) and the export it came
 * from, and is written under a temporary name then renamed, after each table commits.
 */
export const IMPORT_STATE_FILE = 'import-state.json';

export interface ImportState {
  target: string;
  /** exportedAt of the export's metadata.json: a state from another export is not used. */
  export: string;
  tables: Record<string, { rows: number; loadedAt: string }>;
}

export const stateKey = (t: { schema: string; name: string }) => JSON.stringify([t.schema, t.name]);

/** The state of an earlier import of this export into this target, or null. */
export async function readImportState(
  dir: string,
  target: string,
  exportedAt: string,
): Promise<ImportState | null> {
  try {
    const state = JSON.parse(await readFile(join(dir, IMPORT_STATE_FILE), 'utf8')) as ImportState;
    return state.target === target && state.export === exportedAt && state.tables ? state : null;
  } catch {
    return null;
  }
}

export async function writeImportState(dir: string, state: ImportState): Promise<void> {
  const temp = join(dir, `.${IMPORT_STATE_FILE}.partial`);
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, join(dir, IMPORT_STATE_FILE));
}
