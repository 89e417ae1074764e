import type { Socket } from 'node:net';
import type pg from 'pg';

/** Seconds without a byte in or out, while a query or COPY is in flight, before a connection is closed. */
export const DEFAULT_IO_TIMEOUT = 300;

/** When the kernel starts probing an idle connection (TCP keepalive), in milliseconds. */
export const KEEPALIVE_DELAY_MS = 30_000;

/**
 * A connection carried no data for `--io-timeout` seconds while work was in flight, and was closed. Transient
 * (`isTransient` knows its code): the work is retried on a new connection under `--retries`.
 */
export class IoTimeoutError extends Error {
  readonly code = 'SUPAMIGRATE_IO_TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The parts of node-pg's client this needs (not in its types; stable across pg 8). */
interface ClientInternals {
  connection?: { stream?: Socket };
  _getActiveQuery?: () => unknown;
  _queryQueue?: unknown[];
  _ending?: boolean;
}

/**
 * The last connection this process lost, in words that say which database and why: a later query on that
 * connection only hears "not queryable", so the CLI's one error line says this instead.
 */
export const lastLostConnection: { message: string | null; client?: pg.Client } = { message: null };

/** How long the check of a silent connection's backend may take before the connection counts as dead. */
const PROBE_LIMIT_MS = 30_000;

/**
 * Whether the server still works on backend `pid`'s statement (asked on `probe`, a new client that is closed
 * after): active, and not waiting on the client. A statement that computes for long without sending a byte
 * (a foreign-key check of a huge table) is then left to finish; a backend that is idle, or blocked reading
 * from or writing to a connection that carries nothing, is not.
 */
export async function backendStillWorking(probe: pg.Client, pid: number): Promise<boolean> {
  probe.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_LIMIT_MS);
  });
  const ask = (async () => {
    await probe.connect();
    const { rows } = await probe.query<{ state: string | null; wait: string | null }>(
      'SELECT state, wait_event_type AS wait FROM pg_catalog.pg_stat_activity WHERE pid = $1',
      [pid],
    );
    return rows[0]?.state === 'active' && rows[0].wait !== 'Client';
  })().catch(() => false);
  try {
    return await Promise.race([ask, limit]);
  } finally {
    clearTimeout(timer);
    void probe.end().catch(() => undefined);
  }
}

export interface InactivityOptions {
  /** The error's message, given the seconds. */
  describe: (seconds: number) => string;
  /** Asked when the timer fires: true while the server still computes the statement in flight. */
  stillWorking?: (pid: number) => Promise<boolean>;
}

/**
 * Arms the client-side inactivity timer of a connected client: Node's socket timeout, which any byte read
 * or written (or written further, for a write still draining) re-arms. When it fires while a query, a COPY
 * in either direction or the closing handshake is in flight, the socket is destroyed with an
 * `IoTimeoutError`, which pg hands to every query waiting on the connection. An idle connection is left
 * alone (the next query re-arms the timer). A long COPY that keeps moving bytes never times out, however
 * long it runs; a statement that computes for longer than `seconds` before sending its first byte is asked
 * about (`stillWorking`, on a new connection): while the server is active on it, the timer is armed again.
 * `seconds` 0 turns it off.
 */
export function watchInactivity(client: pg.Client, seconds: number, options: InactivityOptions) {
  if (!(seconds > 0)) return;
  const internals = client as unknown as ClientInternals;
  const socket = internals.connection?.stream;
  if (!socket || typeof socket.setTimeout !== 'function') return;
  const busy = () =>
    Boolean(internals._getActiveQuery?.()) ||
    (internals._queryQueue?.length ?? 0) > 0 ||
    internals._ending === true;
  socket.setTimeout(seconds * 1000);
  let probing = false;
  socket.on('timeout', () => {
    if (!busy() || socket.destroyed || probing) return;
    const pid = (client as unknown as { processID?: number }).processID;
    if (!options.stillWorking || !pid) {
      Object.assign(lastLostConnection, { message: options.describe(seconds), client });
      socket.destroy(new IoTimeoutError(options.describe(seconds)));
      return;
    }
    probing = true;
    void options.stillWorking(pid).then((working) => {
      probing = false;
      if (socket.destroyed) return;
      if (working)
        socket.setTimeout(seconds * 1000); // the timer fires once per silence: arm it again
      else if (busy()) {
        Object.assign(lastLostConnection, { message: options.describe(seconds), client });
        socket.destroy(new IoTimeoutError(options.describe(seconds)));
      }
    });
  });
}
