import type { UserMap } from '../format/user-map.js';
import { DEFAULT_IO_TIMEOUT } from '../pg/io-timeout.js';
import { SettingsProblems, type NumberOption } from '../settings.js';
import { allUuids } from './user-ids.js';

export interface SchemaOptions {
  /** The source database. */
  dbUrl: string;
  /** The database to create the schema in. */
  targetUrl?: string;
  /** A file to write the script to (instead of, or as well as, the target). */
  out?: string;
  /** Default: the source's application schemas (see src/catalog/app-schemas.ts). */
  schemas?: string[];
  /** Print the script and the report, write nothing. */
  dryRun?: boolean;
  /** Objects the target has already are left alone (default: they stop the run). */
  ifNotExists?: boolean;
  /** `from=to`: a source role's grants and policies go to this target role. */
  roleMap?: string[];
  /** text: user-id columns (and auth.uid()) become text. Default: uuid, or text when the user map's new ids are not uuids. */
  userIdType?: string;
  userMap?: UserMap;
  /** More user-id columns (schema.table.column) than the foreign keys into auth.users find. */
  userColumns?: string[];
  /** keep (default): a minimal auth.users keeps foreign keys into it; drop: they are left out. */
  authForeignKeys?: string;
  ioTimeout?: NumberOption;
}

export interface SchemaSettings {
  dbUrl: string;
  targetUrl: string | undefined;
  out: string | undefined;
  schemas: string[] | undefined;
  dryRun: boolean;
  ifNotExists: boolean;
  roleMap: Record<string, string>;
  userIdType: 'uuid' | 'text';
  userColumns: string[];
  authForeignKeys: 'keep' | 'drop';
  ioTimeout: number;
}

/** Checks the options before anything connects; every problem is reported at once (UsageError). */
export function parseSchemaSettings(options: SchemaOptions): SchemaSettings {
  const check = new SettingsProblems();
  const dbUrl = check.database(options.dbUrl, '--db-url', 'SUPABASE_DB_URL');
  const targetUrl =
    options.targetUrl === undefined
      ? undefined
      : check.database(options.targetUrl, '--target-url', 'TARGET_DB_URL');
  if (targetUrl === undefined && options.out === undefined && !options.dryRun)
    check.problems.push(
      'give --target-url (create the schema there) or --out <file.sql> (write the script), or --dry-run',
    );
  const roleMap: Record<string, string> = {};
  for (const pair of options.roleMap ?? []) {
    const m = /^([^=]+)=([^=]+)$/.exec(pair);
    if (m) roleMap[m[1]!.trim()] = m[2]!.trim();
    else check.problems.push(`--role-map ${pair}: expected from=to (e.g. authenticated=app_user)`);
  }
  const given = check.oneOf(options.userIdType, '--user-id-type', ['uuid', 'text'] as const, 'uuid');
  const mapNeedsText =
    options.userMap !== undefined && !allUuids(options.userMap.mappings.map((m) => m.newId));
  if (options.userIdType === 'uuid' && mapNeedsText)
    check.problems.push(
      '--user-id-type uuid: the user map has new ids that are not uuids (leave it out, or use text)',
    );
  const settings: SchemaSettings = {
    dbUrl,
    targetUrl,
    out: options.out,
    schemas: options.schemas?.length ? options.schemas : undefined,
    dryRun: options.dryRun ?? false,
    ifNotExists: options.ifNotExists ?? false,
    roleMap,
    userIdType: mapNeedsText ? 'text' : given,
    userColumns: options.userColumns ?? [],
    authForeignKeys: check.oneOf(
      options.authForeignKeys,
      '--auth-foreign-keys',
      ['keep', 'drop'] as const,
      'keep',
    ),
    ioTimeout: check.integer(options.ioTimeout, '--io-timeout', 0, DEFAULT_IO_TIMEOUT),
  };
  check.done();
  return settings;
}
