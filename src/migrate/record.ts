import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import { compressionName } from '../format/compression.js';
import type { MigrateRecord } from '../format/migrate-record.js';
import type { MigrateSettings } from './settings.js';

/** The flag of each recorded option, for messages. */
const FLAGS: Record<string, string> = {
  schemas: '--schema',
  tables: '--table',
  excludeTables: '--exclude-table',
  skipAuth: '--skip-auth',
  skipLargeObjects: '--skip-large-objects',
  compress: '--compress',
  verify: '--verify',
  truncate: '--truncate',
  userMap: '--user-map',
  userColumns: '--user-columns',
  unmatched: '--unmatched',
};

/** The options a resumed migrate must repeat: those that change what is moved, how, or what is checked. */
export function recordedOptions(settings: MigrateSettings): MigrateRecord['options'] {
  const e = settings.export;
  const i = settings.import;
  return {
    schemas: e.appSchemas ? null : e.schemas,
    tables: e.tables,
    excludeTables: e.excludeTables,
    skipAuth: e.skipAuth,
    skipLargeObjects: e.skipLargeObjects,
    compress: compressionName(e.compression),
    verify: settings.verify,
    truncate: settings.truncate,
    // The map's content, not its file name: a map edited in between is another map.
    userMap: settings.userMap
      ? createHash('sha256').update(JSON.stringify(settings.userMap)).digest('hex').slice(0, 16)
      : null,
    userColumns: i.userColumns,
    unmatched: i.unmatched,
  };
}

/** Refuses a --resume whose options differ from the interrupted run's, naming each. */
export function checkSameOptions(
  recorded: MigrateRecord['options'],
  now: MigrateRecord['options'],
  dir: string,
): void {
  const show = (v: unknown) => (v === null ? 'none' : JSON.stringify(v));
  const differ = Object.keys(FLAGS)
    .filter((k) => JSON.stringify(recorded[k] ?? null) !== JSON.stringify(now[k] ?? null))
    .map((k) =>
      k === 'userMap'
        ? `${FLAGS[k]} (${now[k] === null ? 'none' : 'another map'}; it used ${recorded[k] === null ? 'none' : 'another'})`
        : `${FLAGS[k]} ${show(now[k])} (it used ${show(recorded[k])})`,
    );
  if (differ.length > 0)
    throw new UsageError(
      `cannot resume the migrate in ${dir} with other options than its first run: ${differ.join(', ')}; repeat the first run's options`,
    );
}
