import { ConnectionError, IntegrityError, InterruptedError, TableError, UsageError } from '../errors.js';

/** Exit codes: 0 all done, 1 something failed or differs, 2 usage or connection error. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Aborted on the first SIGINT or SIGTERM: commands pass it to the library, which stops cleanly. */
export const interruption = new AbortController();
let stoppedBy: NodeJS.Signals | null = null;

function listenForSignals(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy && signal === 'SIGINT') {
      console.error('supamigrate: stopped at once (second Ctrl-C); unfinished files may remain as .partial');
      process.exit(130);
    }
    stoppedBy ??= signal;
    console.error(`supamigrate: ${signal} received: stopping cleanly (press Ctrl-C again to force)…`);
    interruption.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * Wraps a command's action: an error is printed once, on one line, without a stack trace, and sets the
 * exit code (graphile/migrate's wrapHandler); SIGINT and SIGTERM stop the work cleanly and exit 130 and
 * 143. Set SUPAMIGRATE_DEBUG=1 to see stacks.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    listenForSignals();
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (err) {
      process.exitCode = reportError(err);
    }
    if (stoppedBy) process.exitCode = stoppedBy === 'SIGTERM' ? 143 : 130;
  };
}

export function reportError(err: unknown): number {
  if (process.env.SUPAMIGRATE_DEBUG) console.error(err);
  if (err instanceof UsageError) {
    if (err.problems.length > 1) {
      console.error(`supamigrate: ${err.problems.length} problems:`);
      for (const p of err.problems) console.error(`  - ${p}`);
    } else console.error(`supamigrate: ${err.message}`);
    return EXIT_USAGE;
  }
  if (err instanceof ConnectionError) {
    console.error(`supamigrate: ${err.message}`);
    return EXIT_USAGE;
  }
  if (err instanceof InterruptedError) {
    console.error(`supamigrate: ${err.message}`);
    return 130;
  }
  if (err instanceof TableError || err instanceof IntegrityError) {
    console.error(`supamigrate: ${err.message}`);
    return EXIT_FAILED;
  }
  const e = err as { code?: string; message?: string; path?: string };
  if (e?.code === 'ENOSPC') console.error(`supamigrate: disk full${e.path ? ` writing ${e.path}` : ''}`);
  else if (e?.code === 'EACCES' || e?.code === 'EPERM')
    console.error(`supamigrate: permission denied${e.path ? `: ${e.path}` : ''}`);
  else console.error(`supamigrate: ${e?.message?.split('\n')[0] ?? String(err)}`);
  return EXIT_FAILED;
}
