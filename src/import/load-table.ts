import { readExportFile } from '../format/compression.js';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { IntegrityError } from '../errors.js';
import { qualifiedName, quoteIdent } from '../pg/sql.js';
import { exportPath } from '../format/export-path.js';
import type { TableFile } from '../format/manifest.js';
import { JsonToCopyText, type ValueRewrite } from '../format/json-to-copy.js';
import type { TablePlan, TriggerMode } from './preflight.js';

export interface LoadOptions {
  dir: string;
  format: 'json' | 'ndjson';
  triggerMode: TriggerMode;
  onConflict: 'error' | 'skip';
  /** Per column name: a rewrite of its values (user ids). */
  rewrites?: ReadonlyMap<string, ValueRewrite>;
  onRows?: (rows: number) => void;
  signal?: AbortSignal;
  /** Inside the transaction, just before COMMIT: the file's progress row goes in with its rows. */
  beforeCommit?: (counts: { rows: number; inserted: number }) => Promise<void>;
}

/**
 * Fault injection for the tests only: runs after a file's COMMIT succeeded, before the load reports it
 * (a test kills the connection here to lose the COMMIT's acknowledgement).
 */
export const loadTestHooks: { afterCommit?: (client: pg.Client, file: string) => Promise<void> } = {};

export interface LoadResult {
  /** Rows in the file. */
  rows: number;
  /** Rows inserted (fewer than `rows` only with --on-conflict skip). */
  inserted: number;
  seconds: number;
}

const STAGE = 'supamigrate_stage';

/**
 * Loads one file of a table (its only file, or one part of a split table) in one transaction through
 * COPY FROM STDIN, with user triggers kept from firing. If anything fails, the COPY is aborted (destroying
 * the stream sends CopyFail) and the transaction rolls back: the file is loaded whole or not at all.
 */
export async function loadTable(
  client: pg.Client,
  plan: TablePlan,
  part: TableFile,
  options: LoadOptions,
): Promise<LoadResult> {
  const started = performance.now();
  const table = qualifiedName(plan.target);
  const loaded = plan.columns.filter((c) => c.load);
  const columnList = loaded.map((c) => quoteIdent(c.column.name)).join(', ');
  const decoderColumns = plan.columns.map((c) => ({ ...c, rewrite: options.rewrites?.get(c.column.name) }));
  await client.query('BEGIN');
  try {
    if (options.triggerMode === 'replica') await client.query('SET LOCAL session_replication_role = replica');
    else await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    // The owner is exempt from its table's policies unless FORCE says otherwise: lifted for this load only.
    if (plan.liftForcedRls) await client.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
    // Without columns to load there is no key to conflict on: load directly.
    const skip = options.onConflict === 'skip' && loaded.length > 0;
    const into = skip ? quoteIdent(STAGE) : table;
    if (skip) {
      await client.query(
        `CREATE TEMP TABLE ${quoteIdent(STAGE)} ON COMMIT DROP AS SELECT ${columnList} FROM ${table} WITH NO DATA`,
      );
    }
    const decoder = new JsonToCopyText(decoderColumns, options.format, options.onRows);
    const file = readExportFile(exportPath(options.dir, part.file));
    let copied: number;
    if (loaded.length > 0) {
      const copy = client.query(copyStreams.from(`COPY ${into} (${columnList}) FROM STDIN`));
      await pipeline(file, decoder, copy, options.signal ? { signal: options.signal } : {});
      copied = copy.rowCount ?? decoder.rowCount;
    } else {
      // A table without columns (to load) still has rows: COPY cannot say so, INSERT … SELECT can.
      await pipeline(file, decoder, new Writable({ write: (_chunk, _enc, done) => done() }));
      const inserted = await client.query(`INSERT INTO ${into} SELECT FROM generate_series(1, $1::int)`, [
        decoder.rowCount,
      ]);
      copied = inserted.rowCount ?? 0;
    }
    if (decoder.rowCount !== part.rowCount) {
      throw new IntegrityError(
        `${part.file} holds ${decoder.rowCount} rows but metadata.json says ${part.rowCount}`,
      );
    }
    if (copied !== decoder.rowCount) {
      // The file is whole; the target took another number of its rows (a trigger that skips rows, a rule).
      throw new IntegrityError(
        `${part.file}: the target stored ${copied} of its ${decoder.rowCount} rows (a trigger or rule on the table dropped or added rows)`,
      );
    }
    let inserted = copied;
    if (skip) {
      const result = await client.query(
        `INSERT INTO ${table} (${columnList}) OVERRIDING SYSTEM VALUE SELECT ${columnList} FROM ${quoteIdent(STAGE)} ON CONFLICT DO NOTHING`,
      );
      inserted = result.rowCount ?? 0;
    }
    if (options.triggerMode === 'disable-user-triggers') {
      // Deferred foreign-key checks run now: ALTER TABLE refuses a table with pending trigger events.
      await client.query('SET CONSTRAINTS ALL IMMEDIATE');
      await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
    }
    if (plan.liftForcedRls) await client.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    await options.beforeCommit?.({ rows: decoder.rowCount, inserted });
    await client.query('COMMIT');
    await loadTestHooks.afterCommit?.(client, part.file);
    return { rows: decoder.rowCount, inserted, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
