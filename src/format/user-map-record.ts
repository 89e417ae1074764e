import type pg from 'pg';
import type { UnmatchedPolicy } from './user-columns.js';
import type { UserMap } from './user-map.js';

/*
 * What an import with a user map leaves in the target, beside its progress (supamigrate.import_progress):
 * the old → new ids it wrote and the user columns it rewrote, keyed by the export's identity. Verify
 * reads it, so that a verify after a mapped import needs no flags. Ids only: no email leaves the export.
 */
const SCHEMA = 'supamigrate';
export const USER_MAP_TABLE = `${SCHEMA}.import_user_map`;
export const USER_COLUMNS_TABLE = `${SCHEMA}.import_user_columns`;
export const USER_OPTIONS_TABLE = `${SCHEMA}.import_user_options`;

const CREATE_SQL = /* SQL */ `
  CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
  CREATE TABLE IF NOT EXISTS ${USER_MAP_TABLE} (
    export_id text NOT NULL,
    old_id text NOT NULL,
    new_id text NOT NULL,
    PRIMARY KEY (export_id, old_id)
  );
  CREATE TABLE IF NOT EXISTS ${USER_COLUMNS_TABLE} (
    export_id text NOT NULL,
    schema text NOT NULL,
    "table" text NOT NULL,
    "column" text NOT NULL,
    PRIMARY KEY (export_id, schema, "table", "column")
  );
  CREATE TABLE IF NOT EXISTS ${USER_OPTIONS_TABLE} (
    export_id text PRIMARY KEY,
    unmatched text NOT NULL
  )`;

/** What an import recorded: its map (ids only), the user columns it rewrote, its --unmatched policy. */
export interface RecordedUserMap {
  map: UserMap;
  columns: RecordedColumn[];
  /** null: recorded by supamigrate 0.2, which did not record it. */
  unmatched: UnmatchedPolicy | null;
}

/** A user column as recorded: schema, table and column. */
export interface RecordedColumn {
  schema: string;
  table: string;
  column: string;
}

/**
 * Records the map and the user columns of this export's import in the target, replacing what an earlier
 * import of the same export recorded, in one transaction.
 */
export async function recordUserMap(
  client: pg.Client,
  exportId: string,
  map: UserMap,
  columns: readonly RecordedColumn[],
  unmatched: UnmatchedPolicy,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(CREATE_SQL);
    await client.query(`DELETE FROM ${USER_MAP_TABLE} WHERE export_id = $1`, [exportId]);
    await client.query(`DELETE FROM ${USER_COLUMNS_TABLE} WHERE export_id = $1`, [exportId]);
    await client.query(`DELETE FROM ${USER_OPTIONS_TABLE} WHERE export_id = $1`, [exportId]);
    await client.query(`INSERT INTO ${USER_OPTIONS_TABLE} (export_id, unmatched) VALUES ($1, $2)`, [
      exportId,
      unmatched,
    ]);
    await client.query(
      `INSERT INTO ${USER_MAP_TABLE} (export_id, old_id, new_id) SELECT $1, o, n FROM unnest($2::text[], $3::text[]) u(o, n)`,
      [exportId, map.mappings.map((m) => m.oldId), map.mappings.map((m) => m.newId)],
    );
    await client.query(
      `INSERT INTO ${USER_COLUMNS_TABLE} (export_id, schema, "table", "column") SELECT $1, s, t, c FROM unnest($2::text[], $3::text[], $4::text[]) u(s, t, c)`,
      [exportId, columns.map((c) => c.schema), columns.map((c) => c.table), columns.map((c) => c.column)],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Removes what an import of this export recorded (an import without a user map replaces one with one). */
export async function forgetUserMap(client: pg.Client, exportId: string): Promise<void> {
  const tables = await recordTables(client);
  if (!tables.map) return;
  await client.query(`DELETE FROM ${USER_MAP_TABLE} WHERE export_id = $1`, [exportId]);
  await client.query(`DELETE FROM ${USER_COLUMNS_TABLE} WHERE export_id = $1`, [exportId]);
  if (tables.options)
    await client.query(`DELETE FROM ${USER_OPTIONS_TABLE} WHERE export_id = $1`, [exportId]);
}

/** What an import of this export recorded in the target, or null when none did (or none with a map). */
export async function readRecordedUserMap(
  client: pg.Client,
  exportId: string,
): Promise<RecordedUserMap | null> {
  const tables = await recordTables(client);
  if (!tables.map) return null;
  const columns = (
    await client.query<RecordedColumn>(
      `SELECT schema, "table", "column" FROM ${USER_COLUMNS_TABLE} WHERE export_id = $1 ORDER BY 1, 2, 3`,
      [exportId],
    )
  ).rows;
  const ids = (
    await client.query<{ old_id: string; new_id: string }>(
      `SELECT old_id, new_id FROM ${USER_MAP_TABLE} WHERE export_id = $1`,
      [exportId],
    )
  ).rows;
  if (ids.length === 0 && columns.length === 0) return null;
  const unmatched = tables.options
    ? ((
        await client.query<{ unmatched: UnmatchedPolicy }>(
          `SELECT unmatched FROM ${USER_OPTIONS_TABLE} WHERE export_id = $1`,
          [exportId],
        )
      ).rows[0]?.unmatched ?? null)
    : null;
  return {
    map: {
      mappings: ids.map((r) => ({ oldId: r.old_id, newId: r.new_id, email: null })),
      unmatched: [],
    },
    columns,
    unmatched,
  };
}

/** Which of the record's tables the target has: the map's two, and the options' (added later: may be missing). */
async function recordTables(client: pg.Client): Promise<{ map: boolean; options: boolean }> {
  const { rows } = await client.query<{ map: boolean; options: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS map, to_regclass($3) IS NOT NULL AS options`,
    [USER_MAP_TABLE, USER_COLUMNS_TABLE, USER_OPTIONS_TABLE],
  );
  return rows[0]!;
}
