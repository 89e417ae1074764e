import type { UserMap } from '../format/user-map.js';
import { checkUrl } from '../pg/connect.js';
import { DEFAULT_IO_TIMEOUT } from '../pg/io-timeout.js';
import { SettingsProblems, type NumberOption } from '../settings.js';

/**
 * Checks verify's options before anything is read or connected; every problem at once (UsageError). Returns
 * the settings with defaults: the `--io-timeout` of every connection.
 */
export function checkVerifyOptions(options: {
  dbUrl?: string | undefined;
  targetUrl?: string | undefined;
  userMap?: UserMap | string | undefined;
  userColumns?: readonly string[] | undefined;
  ioTimeout?: NumberOption;
}): { ioTimeout: number } {
  const check = new SettingsProblems();
  for (const [url, option] of [
    [options.dbUrl, '--db-url'],
    [options.targetUrl, '--target-url'],
  ] as const) {
    const problem = url ? checkUrl(url, option) : undefined;
    if (problem) check.problems.push(problem);
  }
  if ((options.userColumns?.length ?? 0) > 0 && !options.userMap) {
    check.problems.push('--user-columns needs --user-map');
  }
  const ioTimeout = check.integer(options.ioTimeout, '--io-timeout', 0, DEFAULT_IO_TIMEOUT);
  check.done();
  return { ioTimeout };
}
