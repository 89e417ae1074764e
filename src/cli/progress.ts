import cliProgress from 'cli-progress';
import { displayName } from '../pg/sql.js';
import { formatCount, formatRate } from './format.js';

/**
 * Shows per-table progress on stderr. On a terminal: a bar per table being worked on, with rows, rows/s
 * and the time left. Elsewhere (CI logs, pipes): a line when a table starts, every 1000 rows or every
 * second (whichever is rarer), and when it ends.
 */
export class ProgressDisplay {
  private readonly tty: boolean;
  private readonly multibar: cliProgress.MultiBar | null;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly started = new Map<string, number>();
  private readonly lastLog = new Map<string, { at: number; rows: number }>();

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** What the log lines say is happening: "exporting", "importing". */
    public verb = 'exporting',
  ) {
    this.tty = Boolean(stream.isTTY) && process.env.CI !== 'true';
    this.multibar = this.tty
      ? new cliProgress.MultiBar(
          {
            stream,
            format: ' {bar} {table} {value}/{total} rows  {rate}  eta {eta_formatted}',
            barsize: 24,
            hideCursor: true,
            clearOnComplete: true,
            stopOnComplete: false,
            fps: 5,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  start(table: string, total: number): void {
    this.started.set(table, performance.now());
    if (this.multibar) {
      this.bars.set(table, this.multibar.create(Math.max(total, 1), 0, { table, rate: '' }));
    } else {
      this.lastLog.set(table, { at: performance.now(), rows: 0 });
      this.log(`${this.verb} ${table}: ${formatCount(total)} rows`);
    }
  }

  update(table: string, rows: number): void {
    const seconds = (performance.now() - (this.started.get(table) ?? performance.now())) / 1000;
    const bar = this.bars.get(table);
    if (bar) {
      bar.update(rows, { rate: formatRate(rows, seconds) });
      return;
    }
    const last = this.lastLog.get(table);
    if (!last) return;
    const now = performance.now();
    if (rows - last.rows >= 1000 && now - last.at >= 1000) {
      this.lastLog.set(table, { at: now, rows });
      this.log(`  ${table}: ${formatCount(rows)} rows (${formatRate(rows, seconds)})`);
    }
  }

  finish(table: string, message: string): void {
    const bar = this.bars.get(table);
    if (bar) {
      this.multibar!.remove(bar);
      this.bars.delete(table);
    }
    this.lastLog.delete(table);
    this.log(message);
  }

  /**
   * Shows the events export and import have in common: a table starts, advances, fails; a note.
   * Returns false for any other event, which the caller shows itself.
   */
  show(event: {
    type: string;
    schema?: string;
    name?: string;
    rowCount?: number;
    rows?: number;
    error?: string;
    message?: string;
  }): boolean {
    const table =
      event.schema !== undefined && event.name !== undefined
        ? displayName({ schema: event.schema, name: event.name })
        : '';
    switch (event.type) {
      case 'table-start':
        this.start(table, event.rowCount ?? 0);
        return true;
      case 'table-progress':
        this.update(table, event.rows ?? 0);
        return true;
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

  /** Prints a line above the bars. */
  log(message: string): void {
    if (this.multibar) this.multibar.log(`${message}\n`);
    else this.stream.write(`${message}\n`);
  }

  stop(): void {
    this.multibar?.stop();
  }
}
