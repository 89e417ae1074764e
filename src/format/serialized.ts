import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Wraps an async function that writes the current state (metadata.json, import-state.json, rewritten after
 * every table from several connections' work) so that two calls never run at once, and calls made before
 * a run begins share it: each call settles once a run that began after it has settled, so what the caller
 * changed before calling is written, and a burst of tables costs one write, not one per table. With
 * `spacing`, runs begin at least that many milliseconds apart (many small tables: a write every so often).
 */
export function serialized(fn: () => Promise<void>, spacing = 0): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  /** A run that has not begun: calls join it. */
  let pending: Promise<void> | null = null;
  let lastBegun = -Infinity;
  const ignore = () => undefined;
  return () => {
    if (pending) return pending;
    const run = last.then(ignore, ignore).then(async () => {
      // A timer may fire a fraction of a millisecond early: wait again until the spacing has passed.
      while (performance.now() < lastBegun + spacing) await sleep(lastBegun + spacing - performance.now());
      pending = null;
      lastBegun = performance.now();
      await fn();
    });
    pending = last = run;
    return run;
  };
}
