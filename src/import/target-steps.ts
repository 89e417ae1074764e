import type pg from 'pg';
import { describeError, UsageError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { qualifiedName } from '../pg/sql.js';
import type { TablePlan } from './preflight.js';
import { forgetTables, type Progress } from './progress.js';

/**
 * Opens the connections the load will use before anything is emptied, so that a target without room for
 * --jobs connections ("too many connections") refuses the import while the target is still untouched.
 */
export async function openConnections(url: string, count: number, ioTimeout?: number): Promise<pg.Client[]> {
  const opened: pg.Client[] = [];
  try {
    for (let i = 0; i < count; i++) opened.push(await connect(url, { role: 'target', ioTimeout }));
    return opened;
  } catch (err) {
    await Promise.all(opened.map((c) => c.end().catch(() => undefined)));
    throw new UsageError(
      `Cannot open ${count} connections to the target for --jobs ${count} (${describeError(err)}); nothing was written: lower --jobs`,
      { cause: err },
    );
  }
}

/**
 * --truncate: one statement for all, since tables that reference each other can only be emptied together,
 * and their progress rows go in the same transaction. Tables whose progress rows are stale (emptied
 * since) lose them too.
 */
export async function truncateTables(
  client: pg.Client,
  tables: readonly TablePlan[],
  progress: Progress,
  stale: readonly { schema: string; name: string }[],
): Promise<void> {
  const emptied = tables.some((t) => t.nonEmpty) ? tables : [];
  if (emptied.length === 0 && stale.length === 0) return;
  // ONLY: an inheritance parent's children are tables of their own (TRUNCATE ONLY is refused for a
  // partitioned table, whose partitions hold its rows).
  const names = emptied.map(
    (t) => `${t.target.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(t.target)}`,
  );
  let committing = false;
  try {
    await client.query('BEGIN');
    if (names.length > 0) await client.query(`TRUNCATE ${names.join(', ')}`);
    await forgetTables(client, progress, [...emptied.map((t) => t.entry), ...stale]);
    committing = true;
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (committing) {
      // The COMMIT was sent: whether it landed, the lost reply cannot say. Either way nothing was loaded.
      throw new UsageError(
        `The connection failed while committing --truncate (${describeError(err)}): the target tables may or may not have been emptied, and nothing was loaded; run the same import again`,
        { cause: err },
      );
    }
    throw new UsageError(`Cannot truncate the target tables: ${describeError(err)}`, { cause: err });
  }
}

/**
 * The coordinator sat idle during the load: if its connection died meanwhile, a new one (closed by the
 * caller through `done`).
 */
export async function liveCoordinator(
  coordinator: pg.Client,
  url: string,
  ioTimeout?: number,
): Promise<{ client: pg.Client; done: () => Promise<void> }> {
  const alive = await coordinator.query('SELECT 1').then(
    () => true,
    () => false,
  );
  if (alive) return { client: coordinator, done: () => Promise.resolve() };
  const client = await connect(url, { role: 'target', ioTimeout });
  return { client, done: () => client.end().catch(() => undefined) };
}
