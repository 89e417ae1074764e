import { UsageError } from '../errors.js';
import type { SettingsProblems } from '../settings.js';
/** Commander collector for repeatable options. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Commander parser for comma-separated lists. */
export const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Runs the library's check of the settings after the CLI's own (database choice, flag conflicts), so the
 * user sees every problem at once, each once: a library problem about what the CLI already reported (the
 * same option, or "no database given") is left out.
 */
export function checkSettings(check: SettingsProblems, parse: () => unknown): void {
  const lead = (problem: string) => problem.split(/[\s:]/)[0];
  const said = new Set(check.problems.map(lead));
  try {
    parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    check.problems.push(...err.problems.filter((p) => !said.has(lead(p))));
  }
  check.done();
}
