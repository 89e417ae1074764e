import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { describeError } from '../errors.js';

/**
 * The import's progress, kept in the target itself: one row per file loaded, inserted in the same
 * transaction as the file's rows. A row exists exactly when the file's rows are committed, whichever
 * process died and when, so `--resume` and retries read the truth from the target (import-state.json
 * beside the export is only a human-readable record).
 */
export const PROGRESS_SCHEMA = 'supamigrate';
export const PROGRESS_TABLE = `${PROGRESS_SCHEMA}.import_progress`;

export const CREATE_PROGRESS_SQL = /* SQL */ `
  CREATE SCHEMA IF NOT EXISTS ${PROGRESS_SCHEMA};
  CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (
    export_id text NOT NULL,
    schema text NOT NULL,
    "table" text NOT NULL,
    file text NOT NULL,
    rows bigint NOT NULL,
    inserted bigint NOT NULL,
    run_id text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (export_id, schema, "table", file)
  )`;

/** Where the progress is kept, or why it cannot be. */
export type Progress =
  { exportId: string; runId: string; available: true } | { available: false; reason: string };

/** A committed file, as its progress row says. */
export interface CommittedFile {
  schema: string;
  table: string;
  file: string;
  rows: number;
  inserted: number;
}

export { exportId } from '../format/export-id.js';

const EXISTS_SQL = `select to_regclass('${PROGRESS_TABLE}') is not null as exists,
  has_database_privilege(current_database(), 'CREATE') as can_create`;

/**
 * Makes sure the progress table exists (a dry run only checks it could). A role that may not create it
 * gets `available: false` with the reason: the import still runs, but cannot be resumed.
 */
export async function openProgress(client: pg.Client, id: string, dryRun: boolean): Promise<Progress> {
  const { rows } = await client.query<{ exists: boolean; can_create: boolean }>(EXISTS_SQL);
  const { exists, can_create } = rows[0]!;
  if (dryRun) {
    if (exists || can_create) return { exportId: id, runId: randomUUID(), available: true };
    return { available: false, reason: 'the role may not create a schema in this database' };
  }
  try {
    if (!exists) await client.query(CREATE_PROGRESS_SQL);
    // Writing is what a load does: check it now, in a transaction that leaves nothing.
    await client.query('BEGIN');
    try {
      await client.query(`DELETE FROM ${PROGRESS_TABLE} WHERE false`);
      await client.query(`INSERT INTO ${PROGRESS_TABLE} SELECT * FROM ${PROGRESS_TABLE} WHERE false`);
    } finally {
      await client.query('ROLLBACK');
    }
    return { exportId: id, runId: randomUUID(), available: true };
  } catch (err) {
    return { available: false, reason: describeError(err) };
  }
}

/** The files of this export the target holds, committed. */
export async function committedFiles(client: pg.Client, progress: Progress): Promise<CommittedFile[]> {
  if (!progress.available) return [];
  const { rows } = await client
    .query<{
      schema: string;
      table: string;
      file: string;
      rows: string;
      inserted: string;
    }>(`SELECT schema, "table", file, rows, inserted FROM ${PROGRESS_TABLE} WHERE export_id = $1`, [
      progress.exportId,
    ])
    .catch((err: unknown) => {
      // A dry run does not create the table: none yet means nothing committed.
      if ((err as { code?: string }).code === '42P01') return { rows: [] };
      throw err;
    });
  return rows.map((r) => ({ ...r, rows: Number(r.rows), inserted: Number(r.inserted) }));
}

/**
 * Whether this run committed one file (a retry asks before loading it again: the COMMIT may have landed
 * before the connection died). Rows of earlier runs do not count: --resume reads those.
 */
export async function committedFile(
  client: pg.Client,
  progress: Progress,
  table: { schema: string; name: string },
  file: string,
): Promise<CommittedFile | null> {
  if (!progress.available) return null;
  const { rows } = await client.query<{ rows: string; inserted: string }>(
    `SELECT rows, inserted FROM ${PROGRESS_TABLE} WHERE export_id = $1 AND schema = $2 AND "table" = $3 AND file = $4 AND run_id = $5`,
    [progress.exportId, table.schema, table.name, file, progress.runId],
  );
  const r = rows[0];
  return r
    ? { schema: table.schema, table: table.name, file, rows: Number(r.rows), inserted: Number(r.inserted) }
    : null;
}

/**
 * Inside the load's transaction, before COMMIT: this file is committed with it. Returns the transaction's
 * id (txid_current), read in the same round trip, or null without a progress table.
 */
export async function recordFile(
  client: pg.Client,
  progress: Progress,
  table: { schema: string; name: string },
  file: string,
  counts: { rows: number; inserted: number },
): Promise<string | null> {
  if (!progress.available) return null;
  const { rows } = await client.query<{ xid: string }>(
    `INSERT INTO ${PROGRESS_TABLE} (export_id, schema, "table", file, rows, inserted, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (export_id, schema, "table", file)
       DO UPDATE SET rows = excluded.rows, inserted = excluded.inserted, run_id = excluded.run_id, loaded_at = now()
       RETURNING pg_catalog.txid_current()::text AS xid`,
    [progress.exportId, table.schema, table.name, file, counts.rows, counts.inserted, progress.runId],
  );
  return rows[0]!.xid;
}

/** Inside the transaction that empties tables: their progress rows (of any export) go with their rows. */
export async function forgetTables(
  client: pg.Client,
  progress: Progress,
  tables: readonly { schema: string; name: string }[],
): Promise<void> {
  if (!progress.available || tables.length === 0) return;
  await client.query(
    `DELETE FROM ${PROGRESS_TABLE} p USING unnest($1::text[], $2::text[]) t(s, n) WHERE p.schema = t.s AND p."table" = t.n`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
}
