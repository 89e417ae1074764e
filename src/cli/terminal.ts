import { writeSync } from 'node:fs';

/**
 * What the CLI may do with the terminal, decided once per run: how much to say (`--quiet`, `--verbose`)
 * and whether stderr is a terminal that takes cursor movement (not with `TERM=dumb`, `NO_COLOR`, `CI=true`
 * or when it is not a TTY: plain lines then).
 */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

export const terminal = {
  verbosity: 'normal' as Verbosity,
  /** When the first progress display of the run started (its end prints the total time). */
  startedAt: null as number | null,
};

export function interactive(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    Boolean(stream.isTTY) &&
    env.CI !== 'true' &&
    env.TERM !== 'dumb' &&
    !(env.NO_COLOR !== undefined && env.NO_COLOR !== '')
  );
}

/** Something that owns the bottom of the terminal and must print other lines above itself. */
export interface LineSink {
  log(line: string): void;
}

let owner: LineSink | null = null;
let cursorHidden: { fd: number } | null = null;

export function claimTerminal(sink: LineSink | null): void {
  owner = sink;
}

/** Prints a line on stderr, above the progress display when one is showing; on a line of its own. */
export function say(line: string): void {
  if (owner) owner.log(line);
  else process.stderr.write(`${line}\n`);
}

export function hideCursor(stream: NodeJS.WriteStream): string {
  cursorHidden = { fd: (stream as unknown as { fd?: number }).fd ?? 2 };
  return '\x1b[?25l';
}

export function showCursor(): string {
  cursorHidden = null;
  return '\x1b[?25h';
}

/**
 * Whatever way the process ends (an uncaught error, process.exit after a second Ctrl-C), the cursor is
 * shown again. Line wrap is never turned off, so there is nothing else to restore.
 */
process.on('exit', () => {
  if (cursorHidden) {
    try {
      writeSync(cursorHidden.fd, '\x1b[?25h');
    } catch {
      // the terminal is gone
    }
    cursorHidden = null;
  }
});

export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : words}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(rest).padStart(2, '0')} s`;
}
