import type pg from 'pg';
import { IntegrityError } from '../errors.js';
import { sleep } from '../pg/retry.js';

/** How long a retry waits for the backend of the attempt before it to end, once told to. */
const GONE_WITHIN_MS = 30_000;

interface Attempt {
  /** The backend that ran it (pg_stat_activity.pid). */
  pid: number | undefined;
  /** The transaction it asked to COMMIT (txid_current), with the counts it would commit. */
  committing?: { xid: string; rows: number; inserted: number };
}

/**
 * What each file's last load attempt left on the server, so that a retry knows exactly whether that attempt
 * committed, whatever the connection did. Before a retry loads a file again, the earlier attempt's backend
 * is ended (a stalled connection's backend may still hold the table's locks, or be about to commit), and
 * the transaction it sent COMMIT for is looked up with `txid_status`: committed, the retry takes its counts
 * instead of loading again; aborted or never sent, the file is loaded again. Exact without any table in the
 * target, so it also covers a role that may not create the progress table.
 */
export class LoadAttempts {
  private readonly last = new Map<string, Attempt>();

  /** A load of `file` starts on `client`. */
  started(file: string, client: pg.Client): void {
    this.last.set(file, { pid: (client as unknown as { processID?: number }).processID });
  }

  /** Whether `file` was tried before in this run (a retry). */
  tried(file: string): boolean {
    return this.last.has(file);
  }

  /** Inside the load's transaction, just before COMMIT (`xid`: its txid_current, when already read). */
  async committing(
    file: string,
    client: pg.Client,
    counts: { rows: number; inserted: number },
    xid?: string | null,
  ) {
    const id =
      xid ?? (await client.query<{ xid: string }>('SELECT txid_current()::text AS xid')).rows[0]!.xid;
    const attempt = this.last.get(file);
    if (attempt) attempt.committing = { xid: id, ...counts };
  }

  /**
   * Before `file` is loaded again on `client`: ends the earlier attempt's backend and says what it
   * committed (null: nothing, load it again).
   */
  async settleEarlier(file: string, client: pg.Client): Promise<{ rows: number; inserted: number } | null> {
    const attempt = this.last.get(file);
    if (!attempt) return null;
    this.last.delete(file);
    if (attempt.pid) await endBackend(client, attempt.pid);
    if (!attempt.committing) return null;
    const { xid, rows, inserted } = attempt.committing;
    const status = (
      await client.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [xid])
    ).rows[0]?.status;
    if (status === 'committed') return { rows, inserted };
    if (status === 'aborted') return null;
    throw new IntegrityError(
      `${file}: cannot tell whether the earlier attempt's COMMIT landed (transaction ${xid} is ${status ?? 'unknown'}); nothing more was loaded: check the table, then run the import again with --resume`,
    );
  }
}

/**
 * Ends backend `pid` if it still runs in this database as this role (pg_terminate_backend), and waits until
 * it is gone. A pid that is not ours (another session took the number) is left alone.
 */
async function endBackend(client: pg.Client, pid: number): Promise<void> {
  const mine = `SELECT 1 FROM pg_catalog.pg_stat_activity
                 WHERE pid = $1 AND datname = current_database() AND usename = current_user
                   AND pid <> pg_backend_pid()`;
  if ((await client.query(mine, [pid])).rowCount === 0) return;
  await client.query('SELECT pg_terminate_backend($1)', [pid]).catch(() => undefined);
  for (let waited = 0; waited < GONE_WITHIN_MS; waited += 100) {
    if ((await client.query(mine, [pid])).rowCount === 0) return;
    await sleep(100);
  }
  throw new IntegrityError(
    `the earlier connection's backend (pid ${pid}) is still running after ${GONE_WITHIN_MS / 1000} s: cannot load its file again safely`,
  );
}
