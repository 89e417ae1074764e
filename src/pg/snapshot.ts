import type pg from 'pg';
import { ConnectionError } from '../errors.js';
import { connect, describeUrl } from './connect.js';
import { quoteLiteral } from './sql.js';

/**
 * One consistent picture of the source: the coordinator's REPEATABLE READ READ ONLY transaction exports its
 * snapshot, and every worker connection imports it (as pgcopydb does), so tables read in parallel are all
 * read as of the same instant while the application keeps writing.
 */
export interface SharedSnapshot {
  /** The coordinator connection, inside the snapshot's transaction. */
  coordinator: pg.Client;
  /** The snapshot id, or null when the server cannot export one (then there is only the coordinator). */
  id: string | null;
  /** Opens another connection reading the same snapshot. */
  openWorker(): Promise<pg.Client>;
  /** Closes the coordinator (its transaction only read, so ending the connection loses nothing). */
  close(): Promise<void>;
}

export async function openSharedSnapshot(
  url: string,
  options: { ioTimeout?: number } = {},
): Promise<SharedSnapshot> {
  const coordinator = await connect(url, { role: 'source', ...options });
  const begin = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
  await coordinator.query(begin);
  let id: string | null = null;
  try {
    // Not inside a savepoint: a snapshot cannot be exported from a subtransaction.
    id = (await coordinator.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
  } catch {
    // Some poolers and read replicas cannot export snapshots; the export then reads on one connection.
    await coordinator.query('ROLLBACK');
    await coordinator.query(begin);
  }
  return {
    coordinator,
    id,
    async openWorker() {
      if (!id) throw new Error('no exported snapshot to share');
      const client = await connect(url, { role: 'source', ...options });
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(id)}`);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw snapshotLost(err, id, url) ?? err;
      }
      return client;
    },
    async close() {
      // No COMMIT: after a failed COPY the connection may still be busy, and a read-only
      // transaction has nothing to commit.
      await coordinator.end().catch(() => undefined);
    },
  };
}

/**
 * "invalid snapshot identifier" (or 'snapshot "…" does not exist') once the coordinator is gone says nothing a user can act on: the snapshot
 * lives only as long as the connection that exported it. Not transient: no retry can bring it back.
 */
function snapshotLost(err: unknown, id: string, url: string): ConnectionError | undefined {
  const e = err as { code?: string; message?: string };
  // PostgreSQL 17 says 'snapshot "…" does not exist', earlier versions "invalid snapshot identifier".
  if (!/invalid snapshot identifier|snapshot "[^"]*" does not exist/i.test(e?.message ?? ''))
    return undefined;
  const where = describeUrl(url);
  return new ConnectionError(
    `the source snapshot ${id} was lost (the connection holding it, to ${where}, ended): no new connection can read the same instant; run supamigrate export --resume to finish with a new snapshot`,
    where,
    { cause: err },
  );
}
