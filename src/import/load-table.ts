import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { IntegrityError } from '../errors.js';
import { qualifiedName, quoteIdent } from '../pg/sql.js';
import { JsonToCopyText, type ValueRewrite } from './json-to-copy.js';
import type { TablePlan, TriggerMode } from './preflight.js';

export interface LoadOptions {
  dir: string;
  format: 'json' | 'ndjson';
  triggerMode: TriggerMode;
  onConflict: 'error' | 'skip';
  /** Per column name: a rewrite of its values (user ids). */
  rewrites?: ReadonlyMap<string, ValueRewrite>;
  onRows?: (rows: number) => void;
}

export interface LoadResult {
  /** Rows in the file. */
  rows: number;
  /** Rows inserted (fewer than `rows` only with --on-conflict skip). */
  inserted: number;
  seconds: number;
}

const STAGE = 'supamigrate_stage';

/**
 * Loads one table's file in one transaction through COPY FROM STDIN, with user triggers kept from firing.
 * If anything fails, the COPY is aborted (destroying the stream sends CopyFail) and the transaction rolls
 * back: the table is loaded whole or not at all.
 */
export async function loadTable(
  client: pg.Client,
  plan: TablePlan,
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
    const into = options.onConflict === 'skip' ? quoteIdent(STAGE) : table;
    if (options.onConflict === 'skip') {
      await client.query(
        `CREATE TEMP TABLE ${quoteIdent(STAGE)} ON COMMIT DROP AS SELECT ${columnList} FROM ${table} WITH NO DATA`,
      );
    }
    const decoder = new JsonToCopyText(decoderColumns, options.format, options.onRows);
    const copy = client.query(copyStreams.from(`COPY ${into} (${columnList}) FROM STDIN`));
    await pipeline(
      createReadStream(join(options.dir, plan.entry.file), { highWaterMark: 1 << 20 }),
      decoder,
      copy,
    );
    const copied = copy.rowCount ?? decoder.rowCount;
    if (decoder.rowCount !== plan.entry.rowCount || copied !== plan.entry.rowCount) {
      throw new IntegrityError(
        `${plan.entry.file} holds ${decoder.rowCount} rows but metadata.json says ${plan.entry.rowCount}`,
      );
    }
    let inserted = copied;
    if (options.onConflict === 'skip') {
      const result = await client.query(
        `INSERT INTO ${table} (${columnList}) OVERRIDING SYSTEM VALUE SELECT ${columnList} FROM ${quoteIdent(STAGE)} ON CONFLICT DO NOTHING`,
      );
      inserted = result.rowCount ?? 0;
    }
    if (options.triggerMode === 'disable-user-triggers')
      await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
    await client.query('COMMIT');
    return { rows: decoder.rowCount, inserted, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Sets every owned sequence of the table past its column's maximum; returns the values set. */
export async function resetSequences(
  client: pg.Client,
  plan: TablePlan,
): Promise<{ sequence: string; value: string }[]> {
  const done: { sequence: string; value: string }[] = [];
  for (const seq of plan.target.ownedSequences) {
    const sequence = `${quoteIdent(seq.schema)}.${quoteIdent(seq.name)}`;
    const { rows } = await client.query<{ max: string | null }>(
      `SELECT max(${quoteIdent(seq.column)})::text AS max FROM ${qualifiedName(plan.target)}`,
    );
    const max = rows[0]?.max;
    if (max === null || max === undefined) continue;
    // setval(seq, max) makes the next nextval max + increment; never move a sequence backwards.
    const { rows: set } = await client.query<{ value: string }>(
      `SELECT setval($1::regclass, greatest($2::int8, coalesce(pg_sequence_last_value($1::regclass), $2::int8)))::text AS value`,
      [sequence, max],
    );
    done.push({ sequence: `${seq.schema}.${seq.name}`, value: set[0]!.value });
  }
  return done;
}
