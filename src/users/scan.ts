import { readAuthUserIds } from '../format/auth-users-file.js';
import { readManifest } from '../format/manifest.js';
import { selectEntries } from '../format/select-entries.js';
import { scanUserIdColumns, type UserIdScan } from '../format/user-id-scan.js';
import { UsageError } from '../errors.js';

export { SCAN_RULE, type ScannedColumn, type UserIdScan } from '../format/user-id-scan.js';

/**
 * Finds the columns of an export that hold user ids without a foreign key into auth.users, and those that
 * reference them: what to give `import --user-columns`. Reads the export's files (a sample of each
 * table, see SCAN_RULE), never a database; proposes only.
 *
 * ```ts
 * const scan = await scanUsers({ inputDir: './migration-data' });
 * console.log(`--user-columns ${scan.userColumns}`);
 * ```
 */
export async function scanUsers(options: {
  inputDir: string;
  tables?: readonly string[] | undefined;
  excludeTables?: readonly string[] | undefined;
}): Promise<UserIdScan> {
  const manifest = await readManifest(options.inputDir);
  const selected = selectEntries(manifest.tables, options.tables ?? [], options.excludeTables ?? []);
  const userIds = await readAuthUserIds(options.inputDir);
  if (userIds.size === 0) {
    throw new UsageError(
      `${options.inputDir} has no auth users (exported with --skip-auth, or no auth.users): there are no user ids to look for`,
    );
  }
  return scanUserIdColumns(options.inputDir, manifest.format, selected, userIds);
}
