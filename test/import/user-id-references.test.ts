import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import type { UserMap } from '../../src/format/user-map.js';
import { readAuthUsers } from '../../src/users/auth-users.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

/*
 * With a user map, the target's foreign keys into auth.users need the new ids there: the dry run counts
 * the ones missing (and says nothing when all are present); the import then exits with the keys violated.
 */
describe('import --user-map: new ids the target auth.users lacks', () => {
  let dir: string;
  let map: UserMap;

  beforeAll(async () => {
    const sourceUrl = await createFixtureDatabase('uref_src');
    dir = await tempDir('uref');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, tables: ['profiles'] });
    const users = await readAuthUsers(dir);
    map = {
      mappings: users.map((u) => ({
        oldId: u.id,
        newId: randomUUID(),
        email: u.email ?? null,
        how: 'email',
      })),
      unmatched: [],
    } as unknown as UserMap;
  });

  it('counts the missing new ids in the dry run; none missing, no note; a real run names the violated key', async () => {
    const targetUrl = await createDatabase('uref_tgt');
    await createSampleSchema(targetUrl);
    const target = await connectTo(targetUrl);
    const half = map.mappings.slice(0, 10).map((m) => m.newId);
    await target.query('insert into auth.users (id) select unnest($1::uuid[])', [half]);
    const options = { targetUrl, inputDir: dir, userMap: map, tables: ['profiles'] };
    const dry = await importDatabase({ ...options, dryRun: true });
    const total = map.mappings.length;
    expect(dry.notes.join('\n')).toMatch(
      new RegExp(
        `public\\.profiles\\.id: the target has foreign key profiles_id_fkey into auth\\.users, which lacks ${total - 10} of the ${total} new ids`,
      ),
    );
    const run = await importDatabase(options);
    expect(run.violations.map((v) => v.foreignKey)).toContain('public.profiles.profiles_id_fkey');

    const complete = await createDatabase('uref_tgt2');
    await createSampleSchema(complete);
    const all = await connectTo(complete);
    await all.query('insert into auth.users (id) select unnest($1::uuid[])', [
      map.mappings.map((m) => m.newId),
    ]);
    const clean = await importDatabase({ ...options, targetUrl: complete, dryRun: true });
    expect(clean.notes.join('\n')).not.toMatch(/into auth\.users/);
    const loaded = await importDatabase({ ...options, targetUrl: complete });
    expect(loaded.failures.map((f) => f.error).join('\n')).toBe('');
    expect(loaded.violations.filter((v) => v.references.startsWith('auth.users'))).toEqual([]);
  });

  it('a target without the tables: the problems listed, no crash on the user columns', async () => {
    const empty = await createDatabase('uref_empty');
    await expect(
      importDatabase({ targetUrl: empty, inputDir: dir, userMap: map, tables: ['profiles'] }),
    ).rejects.toThrow(/public\.profiles: no such table in the target/);
  });
});
