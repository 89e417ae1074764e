/**
 * The one retry policy of supamigrate: a unit of work (a table, a part of a table, a file) that fails with
 * a transient error — the connection broke, the server restarted, a serialization failure or deadlock —
 * is tried again on a new connection, up to `retries` times, after 0.5 s, 1 s, 2 s, … (at most 30 s).
 * Export and import both run their work through `runPool` (worker-pool.ts), which applies it.
 */
export interface RetryPolicy {
  /** How many times a unit is tried again after a transient error (0: never). */
  retries: number;
  /** Milliseconds to wait before attempt `attempt` (1 = the first retry). */
  delayMs: (attempt: number) => number;
}

export const DEFAULT_RETRIES = 2;

export const backoff = (attempt: number): number => Math.min(30_000, 500 * 2 ** (attempt - 1));

export const retryPolicy = (retries: number = DEFAULT_RETRIES): RetryPolicy => ({
  retries,
  delayMs: backoff,
});

/**
 * Errors worth retrying: the connection broke or went silent (`--io-timeout`), the server restarted, or a
 * transaction lost a race.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (
    typeof e?.code === 'string' &&
    (/^08/.test(e.code) || ['57P01', '57P02', '57P03', '40001', '40P01'].includes(e.code))
  )
    return true;
  if (['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'SUPAMIGRATE_IO_TIMEOUT'].includes(e?.code ?? ''))
    return true;
  return /Connection terminated|connection is closed|\(--io-timeout\)|Client has encountered a connection error|not queryable/i.test(
    e?.message ?? '',
  );
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
