import type { Command } from 'commander';
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

/** The flags of the user-map options import and migrate share. */
export interface UserMapFlags {
  userMap?: string;
  userColumns?: string[];
  unmatched?: string;
}

/** The user-map options of import and migrate (their flags: UserMapFlags). */
export function addUserMapOptions(command: Command): void {
  command
    .option(
      '--user-map <file>',
      'rewrite Supabase user ids to the new ids of this map (from supamigrate users map)',
    )
    .option(
      '--user-columns <list>',
      'more columns holding user ids, schema.table.column, comma-separated',
      list,
    )
    .option('--unmatched <mode>', 'user ids the map does not cover: error (refuse, default), keep, or null');
}
