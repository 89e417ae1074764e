import type pg from 'pg';
import { findUserColumns, type UserColumn } from '../format/user-columns.js';
import { readRecordedUserMap, USER_MAP_TABLE, type RecordedUserMap } from '../format/user-map-record.js';
import type { ManifestTable } from '../format/manifest.js';
import { committedFiles, type Progress } from './progress.js';
import type { ImportSettings } from './settings.js';

export interface UserMapDecision {
  settings: ImportSettings;
  userColumns: UserColumn[];
  problems: string[];
  notes: string[];
}

/**
 * The user map an import rewrites with. A resumed import continues with the map the earlier run recorded
 * in the target (supamigrate.import_user_map), so files loaded before and after the interruption hold the
 * same new ids: without --user-map it takes the recorded one; a different map, other user columns, another
 * --unmatched, or a map where the earlier run loaded files without one, is refused before a row is written.
 */
export async function userMapForRun(
  client: pg.Client,
  settings: ImportSettings,
  progress: Progress,
  selected: readonly ManifestTable[],
): Promise<UserMapDecision> {
  const given = (s: ImportSettings) => (s.userMap ? findUserColumns(selected, s.userColumns) : []);
  const decision: UserMapDecision = { settings, userColumns: given(settings), problems: [], notes: [] };
  if (!settings.resume || !progress.available) return decision;
  const recorded = await readRecordedUserMap(client, progress.exportId);
  if (!recorded) {
    const loaded = settings.userMap ? await committedFiles(client, progress) : [];
    if (loaded.length > 0)
      decision.problems.push(
        `--user-map: the run being resumed loaded ${loaded.length} file(s) without a user map (their user ids are the old ones): resume without --user-map, or import again from the start with --truncate and the map`,
      );
    return decision;
  }
  if (!settings.userMap) {
    const adopted: ImportSettings = {
      ...settings,
      userMap: recorded.map,
      userColumns: recorded.columns
        .filter((c) => selected.some((t) => t.schema === c.schema && t.name === c.table))
        .map(key),
      unmatched: recorded.unmatched ?? settings.unmatched,
    };
    const columns = findUserColumns(selected, adopted.userColumns);
    return {
      settings: adopted,
      userColumns: columns,
      problems: [],
      notes: [
        `resumed with the user map the run being resumed recorded in the target (${USER_MAP_TABLE}: ${recorded.map.mappings.length} users, ${columns.length} user column(s)${recorded.unmatched ? `, --unmatched ${recorded.unmatched}` : ''})`,
      ],
    };
  }
  decision.problems.push(...differences(recorded, settings, decision.userColumns, selected));
  return decision;
}

const key = (c: { schema: string; table: string; column: string }) => `${c.schema}.${c.table}.${c.column}`;

/** How the given map and columns differ from the recorded ones (within the selected tables). */
function differences(
  recorded: RecordedUserMap,
  settings: ImportSettings,
  columns: readonly UserColumn[],
  selected: readonly ManifestTable[],
): string[] {
  const problems: string[] = [];
  const before = new Map(recorded.map.mappings.map((m) => [m.oldId, m.newId]));
  const now = settings.userMap!.mappings;
  const changed = now.filter((m) => before.get(m.oldId) !== m.newId).length;
  const dropped = recorded.map.mappings.length - now.filter((m) => before.has(m.oldId)).length;
  if (changed > 0 || dropped > 0)
    problems.push(
      `--user-map differs from the map the run being resumed used (${changed} user(s) with another or no earlier new id, ${dropped} user(s) left out): files loaded before and after would hold different ids; resume without --user-map (the recorded map is used), or import again from the start with --truncate`,
    );
  const selectedKey = (c: { schema: string; table: string }) =>
    selected.some((t) => t.schema === c.schema && t.name === c.table);
  const was = recorded.columns.filter(selectedKey).map(key).sort();
  const is = columns.map(key).sort();
  if (was.join() !== is.join())
    problems.push(
      `--user-columns differ from the run being resumed (it rewrote ${was.join(', ') || 'none'}; now ${is.join(', ') || 'none'}): resume without --user-map and --user-columns (the recorded ones are used)`,
    );
  if (recorded.unmatched && recorded.unmatched !== settings.unmatched)
    problems.push(
      `--unmatched ${settings.unmatched} differs from the run being resumed (--unmatched ${recorded.unmatched})`,
    );
  return problems;
}
