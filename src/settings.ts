import { availableParallelism } from 'node:os';
import { UsageError } from './errors.js';
import { checkUrl } from './pg/connect.js';

/*
 * Options are parsed once, by the library, into settings that own every default (graphile/migrate's
 * settings.ts → ParsedSettings): the CLI only maps flags, and a program calling the library gets the same
 * defaults and the same checks. Every problem is collected, so the user sees them all at once.
 */

/** Connections working at once by default: one per core of this machine. */
export const defaultJobs = (): number => Math.max(1, availableParallelism());

/** A number option: a number, or the text of a flag. */
export type NumberOption = number | string | undefined;

export class SettingsProblems {
  readonly problems: string[] = [];

  /** A whole number of at least `min`, or `fallback` when not given. */
  integer(value: NumberOption, option: string, min: number, fallback: number): number;
  integer(value: NumberOption, option: string, min: number): number | undefined;
  integer(value: NumberOption, option: string, min: number, fallback?: number): number | undefined {
    if (value === undefined) return fallback;
    const text = String(value).trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
      this.problems.push(`${option} must be a whole number of at least ${min} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(value: string | undefined, option: string, allowed: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${option} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }

  /** A database: given, and a connection string of a form we read. */
  database(value: string | undefined, option: string, variable: string): string {
    if (!value) this.problems.push(`no database given: pass ${option} <url> or set ${variable}`);
    const problem = value ? checkUrl(value, option) : undefined;
    if (problem) this.problems.push(problem);
    return value ?? '';
  }

  /** Throws every problem found, as one UsageError. */
  done(): void {
    if (this.problems.length > 0) throw new UsageError(this.problems);
  }
}
