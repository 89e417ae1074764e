import type pg from 'pg';
import { describeError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { retryPolicy } from '../pg/retry.js';
import { displayName } from '../pg/sql.js';
import { runPool } from '../pg/worker-pool.js';
import {
  canDefer,
  CREATE_DEFERRED_SQL,
  deferIndexes,
  rebuildIndexes,
  tablesWithDeferred,
} from './deferred-indexes.js';
import type { ImportEvent } from './events.js';
import type { TablePlan } from './preflight.js';
import type { CommittedFile, Progress } from './progress.js';
import type { ImportSettings } from './settings.js';

/** Smaller tables keep their indexes while loading: maintaining them row by row costs little there. */
export const DEFER_FROM_ROWS = 10_000;

/**
 * Before the load: sets aside the indexes and key constraints of every table that is empty now (never
 * loaded, or truncated) and has no part committed by an earlier run. Returns how many tables had some.
 * A table whose indexes cannot be dropped (the role does not own it) keeps them: it loads as before.
 */
export async function deferTableIndexes(
  client: pg.Client,
  settings: ImportSettings,
  progress: Progress,
  tables: readonly TablePlan[],
  committed: readonly CommittedFile[],
): Promise<number> {
  if (!canDefer(progress, settings.onConflict)) return 0;
  await client.query(CREATE_DEFERRED_SQL);
  const partial = new Set(committed.map((c) => `${c.schema}\u0000${c.table}`));
  let tablesDeferred = 0;
  for (const t of tables) {
    const empty = !t.nonEmpty || settings.truncate;
    if (!empty || t.entry.rowCount < DEFER_FROM_ROWS) continue;
    if (partial.has(`${t.entry.schema}\u0000${t.entry.name}`)) continue;
    const count = await deferIndexes(client, t.target).catch(() => 0);
    if (count > 0) tablesDeferred++;
  }
  return tablesDeferred;
}

/**
 * After the load: creates again every index and constraint set aside, this run's and those an earlier
 * run left, on up to --jobs connections (one table per transaction). A table whose definitions fail is a
 * failure of the run; its records stay for the next one.
 */
export async function rebuildAllIndexes(
  client: pg.Client,
  settings: ImportSettings,
  progress: Progress,
  result: { failures: { table: string; error: string }[]; notes: string[] },
  emit: (event: ImportEvent) => void,
): Promise<void> {
  const tables = await tablesWithDeferred(client, progress);
  if (tables.length === 0) return;
  let built = 0;
  let rebuilt = 0;
  await runPool({
    lanes: Math.min(settings.jobs, tables.length),
    jobs: tables,
    connect: () => connect(settings.targetUrl, { role: 'target', ioTimeout: settings.ioTimeout }),
    run: async (lane, table) => {
      built += (await rebuildIndexes(lane, table)).length;
      rebuilt++;
    },
    failed: (table, err) => {
      const error = describeError(err);
      result.failures.push({ table: displayName(table), error });
      emit({ type: 'table-failed', schema: table.schema, name: table.name, error });
    },
    abandoned: (table, err) =>
      result.failures.push({
        table: displayName(table),
        error: `its indexes were not built again: ${describeError(err)}; the next import (--resume) builds them`,
      }),
    retry: retryPolicy(settings.retries),
  });
  if (rebuilt > 0) {
    const message = `built ${built} index(es) and key constraint(s) of ${rebuilt} table(s) after their data`;
    result.notes.push(message);
    emit({ type: 'note', message });
  }
}
