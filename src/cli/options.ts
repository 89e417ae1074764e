import { availableParallelism } from 'node:os';
import { checkUrl } from '../pg/connect.js';

/** Commander collector for repeatable options. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Commander parser for comma-separated lists. */
export const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const defaultJobs = (): number => Math.max(1, availableParallelism());

/**
 * Collects option problems instead of stopping at the first, so the user sees them all at once
 * (graphile/migrate's parseSettings).
 */
export class OptionProblems {
  readonly problems: string[] = [];

  url(value: string | undefined, option: string, envName: string): string {
    if (!value) {
      this.problems.push(`no database given: pass ${option} <url> or set ${envName}`);
      return '';
    }
    const problem = checkUrl(value, option);
    if (problem) this.problems.push(problem);
    return value;
  }

  integer(value: string | undefined, option: string, min: number): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      this.problems.push(`${option} must be a whole number of at least ${min} (got "${value}")`);
      return undefined;
    }
    return n;
  }

  oneOf<T extends string>(value: string, option: string, allowed: readonly T[]): T {
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${option} must be one of ${allowed.join(', ')} (got "${value}")`);
    }
    return value as T;
  }
}
