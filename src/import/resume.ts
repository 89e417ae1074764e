import type pg from 'pg';
import { fromTable } from '../codec/row-sql.js';
import type { ImportState } from '../format/import-state.js';
import { stateKey } from '../format/import-state.js';
import { tableFiles, type ExportManifest, type ManifestTable } from '../format/manifest.js';
import { displayName } from '../pg/sql.js';
import { committedFiles, PROGRESS_TABLE, type CommittedFile, type Progress } from './progress.js';
import type { ImportSettings } from './settings.js';

export interface ResumePoint {
  /** The human-readable record written beside the export (import-state.json); not the truth. */
  state: ImportState;
  /** Tables whose every file this export committed into the target: skipped. */
  alreadyLoaded: ManifestTable[];
  toLoad: ManifestTable[];
  /** Files committed of the tables still to load (parts of split tables): not loaded again. */
  committed: CommittedFile[];
  /** Tables whose progress rows say loaded but that are empty now (emptied since): loaded again. */
  stale: ManifestTable[];
  problems: string[];
  notes: string[];
}

const tableKey = (t: { schema: string; name: string }) => `${t.schema}\u0000${t.name}`;

/**
 * Where an import starts. With --resume, the target's progress table (supamigrate.import_progress, written
 * in the same transaction as the rows) says which files of this export are committed: a table whose files
 * all are is skipped; a split table with some parts committed is finished (its other parts loaded), after
 * checking that it holds exactly the rows of its committed parts (else it is refused: something else
 * changed it). import-state.json beside the export is not read: a re-created target has no progress rows,
 * so everything is loaded again.
 */
export async function resumePoint(
  client: pg.Client,
  settings: ImportSettings,
  manifest: ExportManifest,
  target: string,
  selected: readonly ManifestTable[],
  progress: Progress,
): Promise<ResumePoint> {
  const state: ImportState = { target, export: manifest.exportedAt, tables: {} };
  const point: ResumePoint = {
    state,
    alreadyLoaded: [],
    toLoad: [...selected],
    committed: [],
    stale: [],
    problems: [],
    notes: [],
  };
  if (!settings.resume) return point;
  if (!progress.available) {
    point.problems.push(
      `--resume needs the progress table ${PROGRESS_TABLE} in the target, which cannot be used (${progress.reason}): without it nothing says which files are committed; create it as the database owner (see the README), or import again without --resume (--truncate to empty the tables first)`,
    );
    return point;
  }
  const byTable = new Map<string, CommittedFile[]>();
  for (const c of await committedFiles(client, progress)) {
    const k = tableKey({ schema: c.schema, name: c.table });
    byTable.set(k, [...(byTable.get(k) ?? []), c]);
  }
  point.toLoad = [];
  for (const t of selected) {
    const files = new Set(tableFiles(t).map((f) => f.file));
    const done = (byTable.get(tableKey(t)) ?? []).filter((c) => files.has(c.file));
    if (done.length === 0) {
      point.toLoad.push(t);
      continue;
    }
    const inserted = done.reduce((n, c) => n + c.inserted, 0);
    const rows = await countRows(client, t);
    if (rows === 0 && inserted > 0) {
      // Emptied since (by hand, or a re-created table): its progress rows are stale.
      point.stale.push(t);
      point.toLoad.push(t);
      point.notes.push(
        `${displayName(t)}: ${PROGRESS_TABLE} says an earlier run loaded it, but it is empty: it is loaded again`,
      );
    } else if (done.length === files.size && rows !== null && rows < inserted) {
      // Rows went missing since it was loaded: skipping it would say the counts match over a broken table.
      point.toLoad.push(t);
      if (settings.truncate) {
        point.stale.push(t);
        point.notes.push(
          `${displayName(t)}: an earlier run loaded it (${inserted} rows), but it holds ${rows} rows now: it is emptied and loaded again`,
        );
      } else
        point.problems.push(
          `${displayName(t)}: an earlier run loaded it (${inserted} rows), but the target table holds ${rows} rows now: it was changed since; empty it (--truncate) to load it whole`,
        );
    } else if (done.length === files.size) {
      if (rows !== null && rows > inserted) {
        point.notes.push(
          `${displayName(t)}: an earlier run loaded it (${inserted} rows); it holds ${rows} rows now (rows added since are left as they are)`,
        );
      }
      point.alreadyLoaded.push(t);
      state.tables[stateKey(t)] = { rows: inserted, loadedAt: new Date().toISOString() };
    } else if (settings.truncate || settings.onConflict === 'skip' || rows === inserted) {
      point.toLoad.push(t);
      // --truncate empties it (and its progress rows) again: every part is loaded.
      if (!settings.truncate) {
        point.committed.push(...done);
        point.notes.push(
          `${displayName(t)}: ${done.length} of ${files.size} parts were committed by an earlier run (${rows} rows); the other parts are loaded`,
        );
      }
    } else {
      point.toLoad.push(t);
      point.problems.push(
        `${displayName(t)}: ${done.length} of ${files.size} parts were committed by an earlier run (${inserted} rows), but the target table holds ${rows ?? 'an unknown number of'} rows: it was changed since; empty it (--truncate) to load it whole`,
      );
    }
  }
  return point;
}

async function countRows(client: pg.Client, t: ManifestTable): Promise<number | null> {
  const { rows } = await client
    .query<{ n: string }>(`SELECT count(*) AS n FROM ${fromTable(t)}`)
    .catch(() => ({ rows: [] as { n: string }[] }));
  return rows[0] ? Number(rows[0].n) : null;
}
