import { lastLostConnection } from '../pg/io-timeout.js';
import { isTransient } from '../pg/retry.js';
import type { Command } from 'commander';
import { setMaxListeners } from 'node:events';
import { ConnectionError, IntegrityError, InterruptedError, TableError, UsageError } from '../errors.js';
import { elapsedSinceStart } from './progress.js';
import { say, terminal } from './terminal.js';

/** Exit codes: 0 all done, 1 something failed or differs, 2 usage or connection error. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Aborted on the first SIGINT or SIGTERM: commands pass it to the library, which stops cleanly. */
export const interruption = new AbortController();
// Every table being read or loaded listens on it: --jobs 12 is 12 listeners and more, not a leak.
setMaxListeners(0, interruption.signal);
let stoppedBy: NodeJS.Signals | null = null;

function listenForSignals(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy && signal === 'SIGINT') {
      say('supamigrate: stopped at once (second Ctrl-C); unfinished files may remain as .partial');
      process.exit(130);
    }
    stoppedBy ??= signal;
    say(`supamigrate: ${signal} received: stopping cleanly (press Ctrl-C again to force)…`);
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
    const command = args.findLast((a): a is Command => typeof (a as Command)?.opts === 'function');
    const opts = (command?.opts() ?? {}) as Record<string, unknown>;
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
      const elapsed = elapsedSinceStart();
      if (elapsed && terminal.verbosity !== 'quiet' && !stoppedBy) {
        say(code ? `finished with failures in ${elapsed}` : `done in ${elapsed}`);
      }
    } catch (err) {
      // `storage export` is not `export`: its messages name their own command.
      const name = command?.parent?.parent ? `${command.parent.name()} ${command.name()}` : command?.name();
      const advised = name ? withResumeAdvice(err, name, opts) : err;
      process.exitCode = reportError(advised);
      if (opts.json) printJsonError(advised, process.exitCode);
    }
    if (stoppedBy) process.exitCode = stoppedBy === 'SIGTERM' ? 143 : 130;
  };
}

/** With --json, an error is also one JSON object on stdout: `{"error":{"message","exitCode"}}`. */
export function printJsonError(err: unknown, exitCode: number): void {
  const problems = err instanceof UsageError && err.problems.length > 1 ? { problems: err.problems } : {};
  process.stdout.write(`${JSON.stringify({ error: { message: errorLine(err), exitCode, ...problems } })}\n`);
}

const shellQuote = (s: string) => (/^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The library's "finish it with supamigrate export --resume" names the directory this run used (and says
 * to give the same database); the demo, which starts over each time, is told to run again instead.
 */
function withResumeAdvice(err: unknown, command: string, opts: Record<string, unknown>): unknown {
  if (!(err instanceof InterruptedError)) return err;
  const advice =
    command === 'demo'
      ? 'run supamigrate demo again to start over'
      : command === 'export'
        ? `finish it with supamigrate export --resume -o ${shellQuote(String(opts.outputDir))}${opts.dbUrl ? ' and the same --db-url' : ''}`
        : command === 'import'
          ? `finish it with supamigrate import --resume -i ${shellQuote(String(opts.inputDir))}${opts.targetUrl ? ' and the same --target-url' : ''}`
          : null;
  if (!advice) return err;
  const message = /finish it with supamigrate \w+ --resume/.test(err.message)
    ? err.message.replace(/finish it with supamigrate \w+ --resume/, advice)
    : `${err.message}; ${advice}`;
  return new InterruptedError(message);
}

/** The one line an error is reported as (without the "supamigrate: " prefix). */
export function errorLine(err: unknown): string {
  if (err instanceof UsageError && err.problems.length > 1)
    return `${err.problems.length} problems: ${err.problems.join('; ')}`;
  if (
    err instanceof UsageError ||
    err instanceof ConnectionError ||
    err instanceof InterruptedError ||
    err instanceof TableError ||
    err instanceof IntegrityError
  )
    return err.message;
  if (isTransient(err)) return lostConnectionLine(err);
  const e = err as { code?: string; message?: string; path?: string };
  if (e?.code === 'ENOSPC') return `disk full${e.path ? ` writing ${e.path}` : ''}`;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return `permission denied${e.path ? `: ${e.path}` : ''}`;
  return e?.message?.split('\n')[0] ?? String(err);
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
  if (isTransient(err)) {
    // A connection lost mid-way (and not recovered under --retries) is a connection error, as at the start.
    console.error(`supamigrate: ${lostConnectionLine(err)}`);
    return EXIT_USAGE;
  }
  const e = err as { code?: string; message?: string; path?: string };
  if (e?.code === 'ENOSPC') console.error(`supamigrate: disk full${e.path ? ` writing ${e.path}` : ''}`);
  else if (e?.code === 'EACCES' || e?.code === 'EPERM')
    console.error(`supamigrate: permission denied${e.path ? `: ${e.path}` : ''}`);
  else console.error(`supamigrate: ${e?.message?.split('\n')[0] ?? String(err)}`);
  return EXIT_FAILED;
}

/** The one line for a connection lost mid-way: what happened, in the driver's words. */
function lostConnectionLine(err: unknown): string {
  const message = ((err as Error)?.message ?? String(err)).split('\n')[0]!;
  if (/database .* \(--io-timeout\)/.test(message)) return message;
  // A query on a connection already lost only hears "not queryable": the loss itself says where and why.
  return lastLostConnection.message ?? `the connection to the database was lost (${message})`;
}
