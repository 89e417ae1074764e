import { connectionNotes } from '../pg/connect.js';
import { displayName } from '../pg/sql.js';
import { chosenDatabases } from './database.js';
import { formatBytes, formatCount, formatRate } from './format.js';
import {
  claimTerminal,
  formatSeconds,
  hideCursor,
  interactive,
  plural,
  showCursor,
  terminal,
  type LineSink,
} from './terminal.js';

interface Active {
  table: string;
  total: number;
  rows: number;
  started: number;
}

const BAR_WIDTH = 20;
const MAX_TABLE_LINES = 8;
const REDRAW_MS = 100;
const PLAIN_PHASE_DELAY_MS = 2000;

const clip = (line: string, width: number): string => {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
};

/**
 * Shows what a run is doing, on stderr. On a terminal: a status block at the bottom, redrawn in place (an
 * overall line: phase, tables done of total, rows, bytes, elapsed time, time left; then a bar per table
 * being worked on), with every other line (notes, ✓ lines) printed in full above it. Line wrap is never
 * turned off; the block's own lines are kept shorter than the terminal so it always knows their height.
 * Elsewhere (a pipe, CI, TERM=dumb, NO_COLOR): plain lines, a line when a phase or a table starts, every
 * 1000 rows or every second (whichever is rarer), and when it ends. `--quiet` shows nothing.
 */
export class ProgressDisplay implements LineSink {
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly active = new Map<string, Active>();
  private readonly lastLog = new Map<string, { at: number; rows: number }>();
  private drawn = 0;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private current = '';
  private readonly startedAt = performance.now();
  private plannedAt = 0;
  private tablesTotal = 0;
  private tablesDone = 0;
  private rowsTotal = 0;
  private rowsDone = 0;
  private bytes = 0;
  private checked = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** What the log lines say is happening: "exporting", "importing", "verifying". */
    public verb = 'exporting',
    /** What the status line says first (by default: connecting, for the verb). */
    firstPhase?: string,
  ) {
    this.quiet = terminal.verbosity === 'quiet';
    this.tty = !this.quiet && interactive(stream);
    terminal.startedAt ??= this.startedAt;
    if (!this.quiet) claimTerminal(this);
    if (terminal.verbosity === 'verbose') {
      for (const d of chosenDatabases) this.log(`${d.role}: ${d.where} (from ${d.from})`);
    }
    this.phase(
      firstPhase ??
        (verb === 'importing'
          ? 'connecting, checking the files and the target'
          : verb === 'verifying'
            ? 'connecting, counting rows and computing checksums'
            : 'connecting, reading the catalog, counting rows'),
    );
  }

  /** Says what the run is doing now: the first words of the status line, or a plain line. */
  phase(label: string, announce = true): void {
    if (label === this.current || this.stopped) return;
    this.current = label;
    if (this.quiet || (!this.tty && (!announce || label === ''))) return;
    if (this.tty) {
      this.timer ??= setInterval(() => this.render(), 250);
      this.timer.unref();
      this.render();
    } else if (terminal.verbosity === 'verbose') this.write(`${label}…\n`);
    else {
      // Plain lines: a phase is announced once it lasts (a quick failure stays one line).
      if (this.pendingPhase) clearTimeout(this.pendingPhase);
      this.pendingPhase = setTimeout(() => {
        if (!this.stopped && this.current === label) this.write(`${label}…\n`);
      }, PLAIN_PHASE_DELAY_MS);
      this.pendingPhase.unref();
    }
  }

  private pendingPhase: NodeJS.Timeout | null = null;

  start(table: string, total: number): void {
    this.active.set(table, { table, total, rows: 0, started: performance.now() });
    if (this.tty) {
      if (terminal.verbosity === 'verbose') this.log(`${this.verb} ${table}: ${formatCount(total)} rows`);
      else this.render(true);
    } else {
      this.lastLog.set(table, { at: performance.now(), rows: 0 });
      this.log(`${this.verb} ${table}: ${formatCount(total)} rows`);
    }
  }

  update(table: string, rows: number): void {
    const entry = this.active.get(table);
    if (!entry) return;
    this.rowsDone += Math.max(0, rows - entry.rows);
    entry.rows = rows;
    if (this.tty) {
      this.render(true);
      return;
    }
    const last = this.lastLog.get(table);
    if (!last) return;
    const now = performance.now();
    if (rows - last.rows >= 1000 && now - last.at >= 1000) {
      this.lastLog.set(table, { at: now, rows });
      const seconds = (now - entry.started) / 1000;
      this.log(`  ${table}: ${formatCount(rows)} rows (${formatRate(rows, seconds)})`);
    }
  }

  finish(table: string, message: string): void {
    const entry = this.active.get(table);
    if (entry) {
      this.rowsDone += Math.max(0, entry.total - entry.rows);
      this.active.delete(table);
    }
    this.tablesDone++;
    this.lastLog.delete(table);
    this.log(message);
    if (this.tablesTotal > 0 && this.tablesDone >= this.tablesTotal && this.active.size === 0)
      this.phase(this.verb === 'importing' ? 'setting sequences, checking counts' : 'finishing');
  }

  /** A table verified (verify has no per-row progress): counted on the status line. */
  checkedTable(): void {
    this.connectionDetails();
    this.checked++;
    this.render(true);
  }

  /**
   * Shows the events export and import have in common: the plan (for the totals), a table starts,
   * advances, fails; a note. Returns false for any other event (and for the plan, which the caller prints).
   */
  show(event: {
    type: string;
    schema?: string;
    name?: string;
    rowCount?: number;
    rows?: number;
    error?: string;
    message?: string;
    phase?: string;
    tables?: { rowCount: number }[];
    triggerMode?: string;
    result?: object;
  }): boolean {
    const table =
      event.schema !== undefined && event.name !== undefined
        ? displayName({ schema: event.schema, name: event.name })
        : '';
    switch (event.type) {
      case 'plan': {
        const tables = event.tables ?? [];
        this.plannedAt = performance.now();
        this.tablesTotal = tables.length;
        this.tablesDone = 0;
        this.rowsTotal = tables.reduce((n, t) => n + t.rowCount, 0);
        this.rowsDone = 0;
        this.bytes = 0;
        this.phase(event.triggerMode !== undefined ? 'loading' : 'exporting');
        this.connectionDetails();
        return false;
      }
      case 'phase':
        this.phase(event.phase ?? '');
        return true;
      case 'table-start':
        this.start(table, event.rowCount ?? 0);
        return true;
      case 'table-progress':
        this.update(table, event.rows ?? 0);
        return true;
      case 'table-done':
        this.bytes += (event.result as { bytes?: number } | undefined)?.bytes ?? 0;
        return false;
      case 'table-failed':
        this.finish(table, `✗ ${table}: ${event.error}`);
        return true;
      case 'note':
        this.log(`note: ${event.message}`);
        return true;
      default:
        return false;
    }
  }

  /** With --verbose: how each database was reached (TLS or not, certificate checked or not). */
  private readonly shownConnections = new Set<string>();
  private connectionDetails(): void {
    if (terminal.verbosity !== 'verbose') return;
    for (const [where, note] of connectionNotes) {
      if (this.shownConnections.has(where)) continue;
      this.shownConnections.add(where);
      this.log(`connected to ${where}: ${note}`);
    }
  }

  /** Prints a line (on stderr) above the status block, in full. */
  log(message: string): void {
    if (this.quiet) return;
    if (this.tty && !this.stopped) this.render(false, `${message}\n`);
    else this.write(`${message}\n`);
  }

  /** Prints a line on stdout, above the status block (results, not progress: printed even with --quiet). */
  print(message: string): void {
    if (this.tty && !this.stopped) {
      this.clear();
      process.stdout.write(`${message}\n`);
      this.render();
    } else process.stdout.write(`${message}\n`);
  }

  /** Removes the status block and gives the terminal back (cursor shown). Safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.pendingPhase) clearTimeout(this.pendingPhase);
    if (this.tty) this.write(`${this.eraseBlock()}${this.cursorHidden ? showCursor() : ''}`);
    this.drawn = 0;
    this.stopped = true;
    claimTerminal(null);
  }

  private write(text: string): void {
    if (text) this.stream.write(text);
  }

  private eraseBlock(): string {
    return this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
  }

  private clear(): void {
    this.write(this.eraseBlock());
    this.drawn = 0;
  }

  /** Redraws the status block (after `above`, printed in full); `throttled` skips it if drawn just now. */
  private render(throttled = false, above = ''): void {
    if (!this.tty || this.stopped) return;
    const now = performance.now();
    if (throttled && !above && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const height = Math.max(3, (this.stream.rows || 24) - 2);
    const lines = this.statusLines(now).map((l) => clip(l, width));
    const block = lines.slice(0, height);
    const prefix = this.drawn === 0 && !this.cursorHidden ? this.hide() : '';
    this.write(`${prefix}${this.eraseBlock()}${above}${block.map((l) => `${l}\n`).join('')}`);
    this.drawn = block.length;
  }

  private cursorHidden = false;
  private hide(): string {
    this.cursorHidden = true;
    return hideCursor(this.stream);
  }

  private statusLines(now: number): string[] {
    const elapsed = (now - this.startedAt) / 1000;
    const parts = this.current ? [this.current] : [];
    if (this.tablesTotal > 0) {
      parts.push(`${this.tablesDone}/${plural(this.tablesTotal, 'table')}`);
      parts.push(`${formatCount(this.rowsDone)}/${formatCount(this.rowsTotal)} rows`);
      if (this.bytes > 0) parts.push(formatBytes(this.bytes));
    }
    if (this.checked > 0) parts.push(`${plural(this.checked, 'table')} checked`);
    parts.push(formatSeconds(elapsed));
    if (this.tablesTotal > 0 && this.rowsDone > 0 && this.rowsDone < this.rowsTotal) {
      const since = (now - this.plannedAt) / 1000;
      const left = ((this.rowsTotal - this.rowsDone) * since) / this.rowsDone;
      if (left >= 1) parts.push(`about ${formatSeconds(left)} left`);
    }
    const lines = [parts.join('  ')];
    const tables = [...this.active.values()];
    for (const t of tables.slice(0, MAX_TABLE_LINES)) {
      const fraction = t.total > 0 ? Math.min(1, t.rows / t.total) : 0;
      const filled = Math.round(fraction * BAR_WIDTH);
      const seconds = (now - t.started) / 1000;
      const rate = seconds > 0 ? t.rows / seconds : 0;
      const left = rate > 0 && t.rows < t.total ? `  ${formatSeconds((t.total - t.rows) / rate)} left` : '';
      lines.push(
        ` ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${t.table} ${formatCount(t.rows)}/${formatCount(t.total)} rows  ${formatRate(t.rows, seconds)}${left}`,
      );
    }
    if (tables.length > MAX_TABLE_LINES)
      lines.push(`  … and ${plural(tables.length - MAX_TABLE_LINES, 'more table')}`);
    return lines;
  }
}

/** The run's total time, for the last line ("done in 12.3 s"); null when no progress display ran. */
export function elapsedSinceStart(): string | null {
  return terminal.startedAt === null ? null : formatSeconds((performance.now() - terminal.startedAt) / 1000);
}
