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
 * Arms the client-side inactivity timer of a connected client: Node's socket timeout, which any byte read
 * or written (or written further, for a write still draining) re-arms. When it fires while a query, a COPY
 * in either direction or the closing handshake is in flight, the socket is destroyed with an
 * `IoTimeoutError`, which pg hands to every query waiting on the connection. An idle connection is left
 * alone (the next query re-arms the timer). A long COPY that keeps moving bytes never times out, however
 * long it runs; a statement that computes for longer than `seconds` before sending its first byte does.
 * `seconds` 0 turns it off.
 */
export function watchInactivity(client: pg.Client, seconds: number, describe: (seconds: number) => string) {
  if (!(seconds > 0)) return;
  const internals = client as unknown as ClientInternals;
  const socket = internals.connection?.stream;
  if (!socket || typeof socket.setTimeout !== 'function') return;
  const busy = () =>
    Boolean(internals._getActiveQuery?.()) ||
    (internals._queryQueue?.length ?? 0) > 0 ||
    internals._ending === true;
  socket.setTimeout(seconds * 1000);
  socket.on('timeout', () => {
    if (!busy() || socket.destroyed) return;
    socket.destroy(new IoTimeoutError(describe(seconds)));
  });
}
