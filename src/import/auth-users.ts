import { join } from 'node:path';
import type pg from 'pg';
import { MINIMAL_AUTH_USERS_COMMENT } from '../catalog/auth-users.js';
import { RowFormatError, UsageError } from '../errors.js';
import { checkExportFiles } from '../format/file-integrity.js';
import type { ExportManifest } from '../format/manifest.js';
import { forEachFileRow } from '../format/row-reader.js';
import type { UserMap } from '../format/user-map.js';

/** Whether the target's auth.users is the minimal one `supamigrate schema` made (marked by its comment). */
const MINIMAL_SQL = /* SQL */ `
  select pg_catalog.obj_description(pg_catalog.to_regclass('auth.users'), 'pg_class') = $1 as minimal`;

/** Inserts users the target lacks; each JSON object's keys are auth.users columns (jsonb_populate_recordset). */
const INSERT_SQL = /* SQL */ `
  insert into auth.users select * from pg_catalog.jsonb_populate_recordset(null::auth.users, $1::jsonb)
  on conflict (id) do nothing`;

const BATCH = 1000;

/**
 * Loads the export's auth users (auth_users.json) into the minimal auth.users that `supamigrate schema`
 * created in the target, so that the app's foreign keys into auth.users hold: with a user map, under their
 * new ids (users the map does not match keep theirs). Users the target has already are left alone, so a
 * resumed or repeated import is harmless. Nothing happens when the target's auth.users is another table
 * (a Supabase project: its auth server owns it) or the export has no users. Returns a note, or undefined.
 */
export async function loadMinimalAuthUsers(
  client: pg.Client,
  inputDir: string,
  manifest: ExportManifest,
  userMap: UserMap | undefined,
  dryRun: boolean,
): Promise<string | undefined> {
  const minimal = (await client.query<{ minimal: boolean | null }>(MINIMAL_SQL, [MINIMAL_AUTH_USERS_COMMENT]))
    .rows[0]?.minimal;
  const entry = manifest.authUsers;
  if (!minimal || !entry || entry.state !== 'complete') return undefined;
  if (dryRun) return `${entry.rowCount} auth users would be loaded into the target's minimal auth.users`;
  const problems = await checkExportFiles(inputDir, [{ label: 'auth.users', ...entry }]);
  if (problems.length > 0) throw new UsageError(problems);
  const newId = new Map(userMap?.mappings.map((m) => [m.oldId, m.newId]));
  const path = join(inputDir, entry.file);
  const batches: Record<string, unknown>[][] = [[]];
  await forEachFileRow(path, manifest.format, (buf, start, end, row) => {
    let user: Record<string, unknown>;
    try {
      user = JSON.parse(buf.toString('utf8', start, end)) as Record<string, unknown>;
    } catch (err) {
      throw new RowFormatError(`${path}: row ${row}: ${(err as Error).message}`, row);
    }
    user.id = newId.get(String(user.id)) ?? user.id;
    if (batches.at(-1)!.length >= BATCH) batches.push([]);
    batches.at(-1)!.push(user);
  });
  let inserted = 0;
  await client.query('begin');
  try {
    for (const batch of batches)
      inserted += (await client.query(INSERT_SQL, [JSON.stringify(batch)])).rowCount ?? 0;
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
  return `auth users loaded into the target's minimal auth.users: ${inserted} of ${entry.rowCount} (the others were there already)${userMap ? ', under their new ids where the user map has one' : ''}`;
}
