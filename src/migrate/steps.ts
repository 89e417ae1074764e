import { ConnectionError, IntegrityError, InterruptedError, TableError, UsageError } from '../errors.js';
import { isTransient } from '../pg/retry.js';
import type { MigrateEvent, MigrateStep } from './events.js';

export interface StepRecord {
  step: MigrateStep;
  status: 'running' | 'done' | 'skipped' | 'failed';
  seconds: number;
  /** What it did, in a few words: "23 tables", "3 set", "skipped: the target has the tables". */
  detail?: string;
}

/** The run's named steps as they happen: one at a time, each timed, each told to the caller. */
export class StepRunner {
  readonly records: StepRecord[] = [];
  private started = 0;

  constructor(private readonly emit: (event: MigrateEvent) => void) {}

  get current(): MigrateStep | null {
    const last = this.records.at(-1);
    return last?.status === 'running' ? last.step : null;
  }

  /** Starts a step (ending the one running, as done). */
  begin(step: MigrateStep): void {
    if (this.current === step) return;
    if (this.current) this.end('done');
    this.records.push({ step, status: 'running', seconds: 0 });
    this.started = performance.now();
    this.emit({ type: 'step', step, status: 'start' });
  }

  /** Ends the running step. */
  end(status: 'done' | 'failed', detail?: string): void {
    const record = this.records.at(-1);
    if (!record || record.status !== 'running') return;
    record.status = status;
    record.seconds = (performance.now() - this.started) / 1000;
    if (detail !== undefined) record.detail = detail;
    if (status === 'done') this.emit({ type: 'step', step: record.step, status: 'done', detail });
  }

  skip(step: MigrateStep, why: string): void {
    if (this.current) this.end('done');
    this.records.push({ step, status: 'skipped', seconds: 0, detail: why });
    this.emit({ type: 'step', step, status: 'skipped', detail: why });
  }

  /** Sets what a step did, once it is known (after it ended). */
  describe(step: MigrateStep, detail: string, failed = false): void {
    const record = this.records.findLast((r) => r.step === step);
    if (!record) return;
    record.detail = detail;
    if (failed) record.status = 'failed';
  }

  /** Runs one step: begun, timed, ended as done (with `detail` of its value), or failed if it throws. */
  async run<T>(
    step: MigrateStep,
    fn: () => Promise<T>,
    detail?: (value: T) => string | undefined,
  ): Promise<T> {
    this.begin(step);
    try {
      const value = await fn();
      this.end('done', detail?.(value));
      return value;
    } catch (err) {
      this.end('failed');
      throw err;
    }
  }
}

/**
 * An error once the run has recorded itself: the same error, of the same class (so the exit code is the
 * same), saying where it stopped and that the work directory is kept for `--resume`.
 */
export function keptAdvice(err: unknown, step: MigrateStep | null, dir: string): unknown {
  const advice = `the work directory ${dir} is kept: run the same command with --resume to finish`;
  const where = step ? `migrate stopped at the ${step} step: ` : 'migrate stopped: ';
  const message = (err as Error)?.message?.split('\n')[0] ?? String(err);
  // The export's and import's own advice name their commands; migrate's replaces it.
  const own = message.replace(/;? ?finish it with supamigrate (export|import) --resume[^;]*/, '');
  const line = `${where}${own}; ${advice}`;
  if (err instanceof InterruptedError) return new InterruptedError(line);
  if (err instanceof UsageError)
    return new UsageError(err.problems.length > 1 ? [...err.problems, advice] : [line], { cause: err });
  if (err instanceof ConnectionError) return new ConnectionError(line, err.target, { cause: err });
  if (err instanceof TableError)
    return new TableError(err.table, `${line.slice(err.table.length + 2)}`, { cause: err });
  if (err instanceof IntegrityError) return new IntegrityError(line, { cause: err });
  if (isTransient(err)) return new ConnectionError(line, step ?? 'migrate', { cause: err });
  const wrapped = new Error(line, { cause: err }) as Error & { code?: string };
  return wrapped;
}
