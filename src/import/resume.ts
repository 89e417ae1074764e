import type pg from 'pg';
import { databaseChecksum } from '../codec/checksum.js';
import { fileChecksum } from '../format/file-checksum.js';
import { readImportState, stateKey, type ImportState } from '../format/import-state.js';
import type { ExportManifest, ManifestTable } from '../format/manifest.js';
import type { ImportSettings } from './settings.js';

export interface ResumePoint {
  state: ImportState;
  /** Tables an earlier run loaded: skipped. */
  alreadyLoaded: ManifestTable[];
  toLoad: ManifestTable[];
}

/**
 * Where an import starts: with --resume, the tables an earlier run of this export into this target
 * recorded in import-state.json are skipped, and so is a table that committed just before the run
 * stopped, before its state was written (its content in the target equals its files').
 */
export async function resumePoint(
  client: pg.Client,
  settings: ImportSettings,
  manifest: ExportManifest,
  target: string,
  selected: readonly ManifestTable[],
): Promise<ResumePoint> {
  const previous = settings.resume
    ? await readImportState(settings.inputDir, target, manifest.exportedAt)
    : null;
  const state: ImportState = { target, export: manifest.exportedAt, tables: { ...(previous?.tables ?? {}) } };
  const alreadyLoaded = selected.filter((t) => state.tables[stateKey(t)]);
  const toLoad = selected.filter((t) => !state.tables[stateKey(t)]);
  // With a user map the target's rows differ from the files by design: no such check.
  if (settings.resume && !settings.userMap) {
    for (const t of [...toLoad]) {
      const there = await databaseChecksum(client, t).catch(() => null);
      if (!there || there.rows === 0) continue;
      const file = await fileChecksum(settings.inputDir, t, manifest.format).catch(() => null);
      if (file && file.rows === there.rows && file.hash === there.hash) {
        state.tables[stateKey(t)] = { rows: there.rows, loadedAt: new Date().toISOString() };
        toLoad.splice(toLoad.indexOf(t), 1);
        alreadyLoaded.push(t);
      }
    }
  }
  return { state, alreadyLoaded, toLoad };
}
