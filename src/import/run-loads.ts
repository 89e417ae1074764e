import type pg from 'pg';
import type { BrokenEdge } from '../catalog/dependency-order.js';
import { describeError, IntegrityError, RowFormatError } from '../errors.js';
import { checkExportFiles } from '../format/file-integrity.js';
import { tableFiles, type TableFile } from '../format/manifest.js';
import { connect } from '../pg/connect.js';
import { isTransient, retryPolicy } from '../pg/retry.js';
import { displayName, qualifiedName } from '../pg/sql.js';
import { runPool } from '../pg/worker-pool.js';
import type { ImportEvent } from './events.js';
import { LoadAttempts } from './attempts.js';
import { loadTable, type LoadOptions, type LoadResult } from './load-table.js';
import type { TablePlan, TriggerMode } from './preflight.js';
import { committedFile, forgetTables, recordFile, type CommittedFile, type Progress } from './progress.js';
import type { ImportSettings } from './settings.js';
import type { UserIdRewriter } from './user-columns.js';

export interface LoadContext {
  settings: ImportSettings;
  format: 'json' | 'ndjson';
  triggerMode: TriggerMode;
  brokenForeignKeys: readonly BrokenEdge[];
  rewriter: UserIdRewriter | null;
  emit: (event: ImportEvent) => void;
  /** The progress table in the target (or why there is none). */
  progress: Progress;
  /** Files of this export an earlier run committed (parts of a split table it did not finish). */
  committed: readonly CommittedFile[];
  /** With a feed (migrate): resolves when a table's files are written and recorded by its export. */
  ready?: (entry: TablePlan['entry']) => Promise<void>;
  /** With a feed (migrate): the rows of a direct table, from the source. */
  directRows?: LoadOptions['directRows'];
  /** A connection opened before the load for this lane (the first it takes), if any. */
  connection?: (lane: number) => pg.Client | undefined;
  /** A table is loaded whole (all its files committed): record it. */
  loaded: (plan: TablePlan, result: LoadResult) => Promise<void>;
  failed: (plan: TablePlan, error: string) => void;
}

/** One unit of the pool: one file of a table (its only file, or one part). */
interface Unit {
  plan: TablePlan;
  file: TableFile;
  index: number;
}

interface TableProgress {
  rows: number[];
  results: LoadResult[];
  errors: string[];
  started: boolean;
}

/** A child whose parent failed in this run is not loaded (its rows would reference nothing). */
class ParentFailed extends Error {}

const key = (t: { schema: string; name: string }) => `${t.schema}\u0000${t.name}`;

/**
 * Loads every file of every table on `jobs` connections, each file in its own transaction, never a file
 * before every file of the tables its table references (foreign keys the export broke to order a cycle
 * aside). Transient errors are retried under the retry policy; a table is reported once, when its last
 * file is done.
 */
export async function loadTables(plans: readonly TablePlan[], ctx: LoadContext): Promise<void> {
  const { settings } = ctx;
  const done = new Map(
    ctx.committed.map((c) => [`${key({ schema: c.schema, name: c.table })}\u0000${c.file}`, c]),
  );
  const earlier = (plan: TablePlan, file: TableFile) => done.get(`${key(plan.entry)}\u0000${file.file}`);
  const units: Unit[] = plans.flatMap((plan) =>
    tableFiles(plan.entry)
      .map((file, index) => ({ plan, file, index }))
      .filter((u) => !earlier(plan, u.file)),
  );
  const broken = new Set(
    ctx.brokenForeignKeys.map((e) => `${key({ schema: e.schema, name: e.table })}\u0000${e.foreignKey}`),
  );
  const byKey = new Map(plans.map((t) => [key(t.entry), t]));
  const parentsOf = (t: TablePlan) =>
    new Set(
      t.entry.foreignKeys
        .filter((fk) => !broken.has(`${key(t.entry)}\u0000${fk.name}`))
        .map((fk) => byKey.get(key({ schema: fk.references.schema, name: fk.references.table })))
        .filter((d): d is TablePlan => d !== undefined && d !== t),
    );
  const progress = new Map<TablePlan, TableProgress>(
    plans.map((t) => {
      const before = tableFiles(t.entry).map((f) => earlier(t, f));
      return [
        t,
        {
          rows: before.map((c) => c?.rows ?? 0),
          results: before
            .filter((c): c is CommittedFile => c !== undefined)
            .map((c) => ({ rows: c.rows, inserted: c.inserted, seconds: 0 })),
          errors: [],
          started: false,
        },
      ];
    }),
  );
  const attempts = new LoadAttempts();
  const failedParent = (plan: TablePlan) =>
    [...parentsOf(plan)].find((p) => progress.get(p)!.errors.length > 0);

  await runPool<Unit>({
    lanes: settings.jobs,
    jobs: units,
    dependsOn: (unit) => {
      const parents = parentsOf(unit.plan);
      return units.filter((u) => parents.has(u.plan));
    },
    connect: (lane) =>
      Promise.resolve(
        ctx.connection?.(lane) ??
          connect(settings.targetUrl, { role: 'target', ioTimeout: settings.ioTimeout }),
      ),
    run: async (client, unit) => {
      const { plan, index } = unit;
      const state = progress.get(plan)!;
      const parent = failedParent(plan);
      if (parent) throw new ParentFailed(`not loaded: parent ${displayName(parent.entry)} failed`);
      // A table still being exported: wait for it, then check its files as the pre-flight checks the others.
      if (ctx.ready && plan.entry.method !== 'direct') {
        await ctx.ready(plan.entry);
        const problems = await checkExportFiles(settings.inputDir, [
          { label: displayName(plan.entry), ...tableFiles(plan.entry)[index]! },
        ]);
        if (problems.length > 0) throw new IntegrityError(problems.join('; '));
      }
      // The entry as it is now (a feed's was pending when the units were made).
      const file = tableFiles(plan.entry)[index]!;
      const { schema, name, rowCount } = plan.entry;
      if (!state.started) {
        state.started = true;
        ctx.emit({ type: 'table-start', schema, name, rowCount });
      }
      // A retry after a lost connection: the COMMIT may have landed before the connection died.
      const landed = attempts.tried(file.file)
        ? ((await attempts.settleEarlier(file.file, client)) ??
          (await committedFile(client, ctx.progress, plan.entry, file.file)))
        : null;
      if (landed) {
        state.rows[index] = landed.rows;
        state.results.push({ rows: landed.rows, inserted: landed.inserted, seconds: 0 });
        await settle(plan, state, ctx);
        return;
      }
      attempts.started(file.file, client);
      const result = await loadTable(client, plan, file, {
        beforeCommit: async (counts) => {
          const xid = await recordFile(client, ctx.progress, plan.entry, file.file, counts);
          await attempts.committing(file.file, client, counts, xid);
        },
        signal: settings.signal,
        dir: settings.inputDir,
        format: ctx.format,
        triggerMode: ctx.triggerMode,
        onConflict: settings.onConflict,
        rewrites: ctx.rewriter?.forTable(schema, name),
        directRows: ctx.directRows,
        onRows: (rows) => {
          state.rows[index] = rows;
          const total = state.rows.reduce((a, b) => a + b, 0);
          ctx.emit({ type: 'table-progress', schema, name, rows: total, rowCount });
        },
      });
      state.results.push(result);
      await settle(plan, state, ctx);
    },
    failed: async ({ plan, file }, err) => {
      const state = progress.get(plan)!;
      if (err instanceof ParentFailed) {
        if (!state.errors.includes(err.message)) state.errors.push(err.message);
      } else if (plan.entry.method === 'direct') {
        // Copied from the source (migrate): no file to name, and either side may be the one lost.
        state.errors.push(
          isTransient(err)
            ? `a connection was lost while copying it (${describeError(err)}); the table was rolled back: run the same migrate with --resume`
            : describeLoadError(null, err),
        );
      } else
        state.errors.push(
          isTransient(err)
            ? `${file.file}: the connection to the target was lost (${describeError(err)}); the table was rolled back: run the import again with --resume`
            : describeLoadError(file.file, err),
        );
      await settle(plan, state, ctx);
    },
    retrying: ({ plan }, err, attempt) =>
      ctx.emit({
        type: 'note',
        message: `${displayName(plan.entry)}: ${describeError(err)}; retrying (${attempt} of ${settings.retries})`,
      }),
    abandoned: ({ plan }, err) => {
      const state = progress.get(plan)!;
      if (state.errors.length === 0) ctx.failed(plan, `not loaded: ${describeError(err)}`);
      state.errors.push('abandoned');
    },
    retry: retryPolicy(settings.retries),
    signal: settings.signal,
  });
}

/** When a table's last file is done: the table is loaded, or failed (and its committed parts undone). */
async function settle(plan: TablePlan, state: TableProgress, ctx: LoadContext): Promise<void> {
  if (state.results.length + state.errors.length < tableFiles(plan.entry).length) return;
  if (state.errors.length === 0) {
    await ctx.loaded(plan, {
      rows: state.results.reduce((n, r) => n + r.rows, 0),
      inserted: state.results.reduce((n, r) => n + r.inserted, 0),
      seconds: Math.max(...state.results.map((r) => r.seconds)),
    });
    return;
  }
  let message = state.errors.join('; ');
  if (state.results.length > 0 && ctx.settings.onConflict === 'error') {
    // Some parts of a split table committed: empty the table again, so nothing half-loaded remains.
    const undone = await truncateTable(ctx.settings.targetUrl, plan, ctx.progress);
    message += undone
      ? ' (the parts already loaded were removed again)'
      : ' (the parts already loaded could NOT be removed: truncate the table before loading it again)';
  } else if (state.results.length > 0) {
    message += ' (some parts were loaded: run the import again with --resume to load the others)';
  }
  ctx.failed(plan, message);
}

/** Empties a split table whose parts did not all load, and removes their progress rows with them. */
async function truncateTable(url: string, plan: TablePlan, progress: Progress): Promise<boolean> {
  const client = await connect(url, { role: 'target' }).catch(() => null);
  if (!client) return false;
  try {
    const only = plan.target.kind === 'partitioned' ? '' : 'ONLY ';
    await client.query('BEGIN');
    await client.query('SAVEPOINT emptying');
    try {
      await client.query(`TRUNCATE ${only}${qualifiedName(plan.target)}`);
    } catch {
      // TRUNCATE is refused for a table another table's foreign key references, even an empty one: DELETE
      // removes the rows this run loaded (and is refused in turn if something references them).
      await client.query('ROLLBACK TO SAVEPOINT emptying');
      await client.query(`DELETE FROM ${only}${qualifiedName(plan.target)}`);
    }
    await forgetTables(client, progress, [plan.entry]);
    await client.query('COMMIT');
    return true;
  } catch {
    await client.query('ROLLBACK').catch(() => undefined);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A load's error, with the row COPY names: in `file`, or (null) in a direct copy's rows. */
function describeLoadError(file: string | null, err: unknown): string {
  if (err instanceof RowFormatError) return `${file}: ${err.message}`;
  const e = err as { where?: string };
  const where = typeof e.where === 'string' ? e.where.match(/COPY [^,]+, line (\d+)/) : null;
  const base = describeError(err);
  // A direct table (no file): its row as the source's COPY sent it.
  if (where && file === null) return `row ${where[1]} of the copy: ${base}`;
  return where ? `${file} row ${where[1]}: ${base}` : base;
}
