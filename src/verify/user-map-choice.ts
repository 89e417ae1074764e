import type pg from 'pg';
import { exportId } from '../format/export-id.js';
import type { ExportManifest, ManifestTable } from '../format/manifest.js';
import { readAuthUserIds } from '../format/auth-users-file.js';
import {
  findUserColumns,
  isAuthUsersId,
  type UnmatchedPolicy,
  type UserColumn,
} from '../format/user-columns.js';
import { scanUserIdColumns } from '../format/user-id-scan.js';
import { readRecordedUserMap, USER_MAP_TABLE } from '../format/user-map-record.js';
import type { UserMap } from '../format/user-map.js';
import { displayName } from '../pg/sql.js';
import type { TableVerification } from './verify-table.js';

export interface UserMapChoice {
  userMap: UserMap | undefined;
  userColumns: UserColumn[];
  /** Where they came from, for the report. */
  notes: string[];
  /** The import's --unmatched, when it recorded it. */
  unmatched?: UnmatchedPolicy | null;
}

/**
 * The user map verify compares with: the one given (--user-map, --user-columns), else the one the import
 * of this export recorded in the target (supamigrate.import_user_map), else none.
 */
export async function chooseUserMap(
  target: pg.Client | null,
  manifest: ExportManifest,
  selected: readonly ManifestTable[],
  given: { userMap?: UserMap | undefined; userColumns?: readonly string[] | undefined },
): Promise<UserMapChoice> {
  if (given.userMap)
    return {
      userMap: given.userMap,
      userColumns: findUserColumns(selected, given.userColumns ?? []),
      notes: [],
    };
  const recorded = target ? await readRecordedUserMap(target, exportId(manifest)) : null;
  if (!recorded) return { userMap: undefined, userColumns: [], notes: [] };
  const inSelection = recorded.columns.filter((c) =>
    selected.some((t) => t.schema === c.schema && t.name === c.table),
  );
  const userColumns = findUserColumns(
    selected,
    inSelection.map((c) => `${c.schema}.${c.table}.${c.column}`),
  );
  const names = inSelection.map((c) => `${c.schema}.${c.table}.${c.column}`);
  return {
    userMap: recorded.map,
    userColumns,
    unmatched: recorded.unmatched,
    notes: [
      `compared user columns through the user map the import recorded in the target (${USER_MAP_TABLE}: ${recorded.map.mappings.length} users; columns ${names.join(', ') || 'none'}); give --user-map to compare with another`,
      ...(recorded.unmatched === 'null'
        ? [
            'the import cleared the user ids its map has no new id for (--unmatched null): rows that held such an id differ from the source and the files, by that choice',
          ]
        : []),
    ],
  };
}

/**
 * Hints for tables that differ where user ids would explain it: with no user map, the tables holding user
 * ids (an import with --user-map rewrote them, and nothing in the target says so); with one, the columns
 * that hold user ids (by foreign key, or by the scan's rule on their files) but were not mapped back.
 */
export async function userMapHints(
  results: readonly TableVerification[],
  selected: readonly ManifestTable[],
  manifest: ExportManifest,
  dir: string,
  used: UserMapChoice,
): Promise<string[]> {
  const differing = results
    .filter((r) => r.status === 'mismatch')
    .map((r) => selected.find((t) => t.schema === r.schema && t.name === r.name))
    .filter((t): t is ManifestTable => t !== undefined);
  if (differing.length === 0) return [];
  const userIds = await readAuthUserIds(dir);
  const scan = userIds.size > 0 ? await scanUserIdColumns(dir, manifest.format, differing, userIds) : null;
  const mapped = new Set(used.userColumns.map((c) => `${c.schema}.${c.table}.${c.column}`));
  const columns = [
    ...differing.flatMap((t) =>
      t.foreignKeys.filter(isAuthUsersId).map((fk) => `${t.schema}.${t.name}.${fk.columns[0]!}`),
    ),
    ...(scan?.proposed.map((c) => `${c.schema}.${c.table}.${c.column}`) ?? []),
  ].filter((c, i, all) => !mapped.has(c) && all.indexOf(c) === i);
  if (columns.length === 0) return [];
  if (!used.userMap) {
    const tables = differing.filter((t) => columns.some((c) => c.startsWith(`${t.schema}.${t.name}.`)));
    return [
      `${tables.length} table(s) that differ hold user ids (${tables.map(displayName).join(', ')}): if the import rewrote user ids (import --user-map), the target keeps no record of it (${USER_MAP_TABLE}); give verify the same --user-map and --user-columns`,
    ];
  }
  if (used.unmatched === 'null')
    return [
      `tables that differ hold user ids (${columns.join(', ')}); the import cleared the ids its map has no new id for (--unmatched null), which makes their rows differ`,
    ];
  return [
    `tables that differ hold user ids in columns not compared through the user map (${columns.join(', ')}): if the import rewrote them (--user-columns), give verify the same --user-columns`,
  ];
}
