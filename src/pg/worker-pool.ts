import type pg from 'pg';
import { isTransient, sleep, type RetryPolicy } from './retry.js';

export interface PoolOptions<J> {
  /** Connections working at once; each lane owns one, opened when it takes its first job. */
  lanes: number;
  jobs: readonly J[];
  /** Jobs that must have finished (well or not) before this one starts; others run freely. */
  dependsOn?: (job: J) => readonly J[];
  /** Opens the connection of a lane (again, after the previous one broke). */
  connect: (lane: number) => Promise<pg.Client>;
  /** Closes a lane's connection (default: end it). */
  release?: (client: pg.Client, lane: number) => Promise<void>;
  /**
   * After a job failed: whether its connection can take the next job (default: unless the error is
   * transient). Export rolls back to its savepoint here.
   */
  recover?: (client: pg.Client, err: unknown) => Promise<boolean>;
  /** Does the work of one job on a lane's connection. */
  run: (client: pg.Client, job: J) => Promise<void>;
  /** The job failed for good (not called for jobs stopped by `signal`). */
  failed: (job: J, err: unknown) => void | Promise<void>;
  /** The job failed with a transient error and is tried again on a new connection. */
  retrying?: (job: J, err: unknown, attempt: number) => void;
  /** No lane could open a connection to take the job. */
  abandoned?: (job: J, err: unknown) => void;
  retry: RetryPolicy;
  /** Stops taking jobs: the ones not started stay undone, and are not reported. */
  signal?: AbortSignal;
}

/**
 * Runs every job on up to `lanes` connections: the worker pool of export (tables and parts, in one
 * snapshot) and import (files, parents before children). A job that fails with a transient error is retried
 * under the retry policy on a new connection of its lane; a lane whose connection cannot be (re)opened
 * stops, and the jobs nobody could take are `abandoned`.
 */
export async function runPool<J>(options: PoolOptions<J>): Promise<void> {
  const { jobs, signal } = options;
  const dependsOn = options.dependsOn ?? (() => []);
  const release = options.release ?? ((client) => client.end().catch(() => undefined));
  const recover = options.recover ?? ((_client, err) => Promise.resolve(!isTransient(err)));
  const known = new Set(jobs);
  const pending = [...jobs];
  const finished = new Set<J>();
  const attempts = new Map<J, number>();
  let running = 0;
  let lastError: unknown = new Error('no connection could be opened');
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const ready = () =>
    pending.findIndex((job) => dependsOn(job).every((d) => finished.has(d) || !known.has(d)));

  const lane = async (index: number) => {
    let client: pg.Client | null = null;
    try {
      while (pending.length > 0 && !signal?.aborted) {
        const at = ready();
        if (at < 0) {
          if (running === 0) throw new Error('dependency cycle among the jobs');
          await new Promise<void>((resolve) => {
            const previous = wake;
            wake = () => {
              previous?.();
              resolve();
            };
          });
          continue;
        }
        const [job] = pending.splice(at, 1) as [J];
        // Counted as running from here: another lane waiting for it must not take it for a cycle.
        running++;
        try {
          client ??= await options.connect(index);
        } catch (err) {
          lastError = err;
          pending.unshift(job);
          running--;
          notify();
          return;
        }
        try {
          await options.run(client, job);
          finished.add(job);
        } catch (err) {
          lastError = err;
          const attempt = (attempts.get(job) ?? 0) + 1;
          attempts.set(job, attempt);
          const usable = await recover(client, err).catch(() => false);
          if (!usable) {
            await release(client, index);
            client = null;
          }
          if (signal?.aborted) {
            // Stopped, not failed: the job stays undone.
          } else if (isTransient(err) && attempt <= options.retry.retries) {
            options.retrying?.(job, err, attempt);
            pending.unshift(job);
            await sleep(options.retry.delayMs(attempt), signal);
          } else {
            await options.failed(job, err);
            finished.add(job);
          }
        } finally {
          running--;
          notify();
        }
      }
    } finally {
      if (client) await release(client, index);
      notify();
    }
  };
  const count = Math.max(1, Math.min(options.lanes, jobs.length));
  await Promise.all(Array.from({ length: count }, (_, i) => lane(i)));
  if (!signal?.aborted) for (const job of pending) options.abandoned?.(job, lastError);
}
