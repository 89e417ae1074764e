import { readExportFile } from '../format/compression.js';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { IntegrityError } from '../errors.js';
import { IoTimeoutError } from '../pg/io-timeout.js';
import { displayName, qualifiedName, quoteIdent } from '../pg/sql.js';
import { exportPath } from '../format/export-path.js';
import type { TableFile } from '../format/manifest.js';
import { JsonToCopyText, type DecoderColumn, type ValueRewrite } from '../format/json-to-copy.js';
import type { DirectRows } from './feed.js';
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
  /** Where a direct table's rows come from (migrate): the source's COPY. */
  directRows?: (entry: TablePlan['entry'], columns: readonly string[]) => Promise<DirectRows>;
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
 * A direct table (migrate) is loaded the same way, its rows read from the source instead of a file.
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
  const columnList = columnsOf(loaded);
  // One round trip to begin (many small tables make each count). A direct table's reg* values are printed
  // and read qualified on both sides, whatever either database's search_path (as pg_dump restores them).
  const direct = plan.entry.method === 'direct';
  try {
    await client.query(
      [
        'BEGIN',
        ...(options.triggerMode === 'replica' ? ['SET LOCAL session_replication_role = replica'] : []),
        ...(direct ? [`SET LOCAL search_path = ''`] : []),
      ].join('; '),
    );
    if (options.triggerMode !== 'replica') await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
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
    const { rows, copied } = direct
      ? await copyDirect(client, plan, into, loaded, options)
      : await copyFile(client, plan, into, part, options);
    if (copied !== rows) {
      // The rows are whole; the target took another number of them (a trigger that skips rows, a rule).
      const what = direct ? displayName(plan.entry) : part.file;
      throw new IntegrityError(
        `${what}: the target stored ${copied} of its ${rows} rows (a trigger or rule on the table dropped or added rows)`,
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
    await options.beforeCommit?.({ rows, inserted });
    await client.query('COMMIT');
    await loadTestHooks.afterCommit?.(client, part.file);
    return { rows, inserted, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const columnsOf = (loaded: readonly DecoderColumn[]) =>
  loaded.map((c) => quoteIdent(c.column.name)).join(', ');

/** The file's rows decoded into COPY text: how many it holds, and how many the target stored. */
async function copyFile(
  client: pg.Client,
  plan: TablePlan,
  into: string,
  part: TableFile,
  options: LoadOptions,
): Promise<{ rows: number; copied: number }> {
  const loaded = plan.columns.filter((c) => c.load);
  const decoderColumns = plan.columns.map((c) => ({ ...c, rewrite: options.rewrites?.get(c.column.name) }));
  const decoder = new JsonToCopyText(decoderColumns, options.format, options.onRows);
  const file = readExportFile(exportPath(options.dir, part.file));
  let copied: number;
  if (loaded.length > 0) {
    const copy = client.query(copyStreams.from(`COPY ${into} (${columnsOf(loaded)}) FROM STDIN`));
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
  return { rows: decoder.rowCount, copied };
}

/**
 * A direct table (migrate): the source's COPY text piped into the target's COPY, unchanged. Only for
 * columns of the same type on both sides, whose text form each side reads as the other writes it (the
 * sessions share DateStyle, IntervalStyle, extra_float_digits, bytea_output, TimeZone, lc_monetary). The
 * source's row count, the lines that passed and the target's row count must agree.
 */
async function copyDirect(
  client: pg.Client,
  plan: TablePlan,
  into: string,
  loaded: readonly DecoderColumn[],
  options: LoadOptions,
): Promise<{ rows: number; copied: number }> {
  const label = displayName(plan.entry);
  if (!options.directRows) throw new IntegrityError(`${label}: copied directly, but no source to copy from`);
  const differ = loaded.find(
    (c) => plan.target.columns.find((t) => t.name === c.column.name)?.type !== c.column.type,
  );
  if (loaded.length === 0 || differ)
    throw new IntegrityError(
      `${label}: cannot be copied directly (${differ ? `column ${differ.column.name} has another type in the target` : 'no column to copy'}); run migrate with --keep-files to go through files`,
    );
  const source = await options.directRows(
    plan.entry,
    loaded.map((c) => c.column.name),
  );
  let ok = false;
  try {
    const lines = new LineCounter(options.onRows);
    const copy = client.query(copyStreams.from(`COPY ${into} (${columnsOf(loaded)}) FROM STDIN`));
    await pipeline(source.stream, lines, copy, options.signal ? { signal: options.signal } : {}).catch(
      (err: unknown) => {
        // The target's connection carried nothing because nothing came to write (every row written was
        // taken): the source went silent, whichever side's timer fired first.
        if (err instanceof IoTimeoutError && copy.writableLength === 0) throw source.silent();
        throw err;
      },
    );
    const sent = source.rowCount();
    if (sent !== lines.rows)
      throw new IntegrityError(`${label}: the source's COPY sent ${sent} rows, ${lines.rows} arrived`);
    ok = true;
    return { rows: lines.rows, copied: copy.rowCount ?? -1 };
  } finally {
    source.release(ok);
  }
}

/** Counts COPY text rows as they pass (each ends with the one newline a row's text cannot hold). */
class LineCounter extends Transform {
  rows = 0;

  constructor(private readonly onRows: (rows: number) => void = () => undefined) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.rows++;
    this.onRows(this.rows);
    done(null, chunk);
  }
}
