import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomically } from './atomic-write.js';
import { parseOrRefuse, readJsonFile } from './parse-file.js';

/**
 * Which tables an import has loaded, kept beside the export (import-state.json) so that
 * `import --resume` skips them. It names the target (user@host:port/database) and the export it came
 * from, and is written under a temporary name then renamed, after each table commits.
 */
export const IMPORT_STATE_FILE = 'import-state.json';

const importStateSchema = z.strictObject({
  target: z.string(),
  /** exportedAt of the export's metadata.json: a state from another export is not used. */
  export: z.string(),
  tables: z.record(z.string(), z.strictObject({ rows: z.int().min(0), loadedAt: z.string() })),
});

export type ImportState = z.infer<typeof importStateSchema>;

export const stateKey = (t: { schema: string; name: string }) => JSON.stringify([t.schema, t.name]);

/**
 * The state of an earlier import of this export into this target, or null (none, or one of another
 * import). A state file that is not one (edited, damaged) is a UsageError naming it and the bad field:
 * skipping tables on the word of a file we cannot read would leave them empty.
 */
export async function readImportState(
  dir: string,
  target: string,
  exportedAt: string,
): Promise<ImportState | null> {
  const path = join(dir, IMPORT_STATE_FILE);
  const remove = `remove it to import every table again`;
  const json = await readJsonFile(path, {
    notFound: null,
    invalidJson: (reason) => `${path} is not valid JSON (${reason}): ${remove}`,
  });
  if (json === undefined) return null;
  const state = parseOrRefuse(importStateSchema, json, path, remove);
  return state.target === target && state.export === exportedAt ? state : null;
}

export async function writeImportState(dir: string, state: ImportState): Promise<void> {
  // Two imports of one export (into two targets) may write it at once.
  await writeJsonAtomically(join(dir, IMPORT_STATE_FILE), state, { concurrent: true });
}
