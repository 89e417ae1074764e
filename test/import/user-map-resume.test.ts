import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import type { UserMap } from '../../src/format/user-map.js';
import { readAuthUsers } from '../../src/users/auth-users.js';
import { mapUsers } from '../../src/users/map-users.js';
import { verify } from '../../src/verify/verify.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

/*
 * A mapped import that stops part-way is resumed with the map it started with, whatever the command line
 * says; verify then compares through that map, and catches a user id the import should have rewritten.
 */
const USER_COLUMNS = ['public.event_logs.actor_id', 'public.teams.member_ids'];

describe('a mapped import, interrupted and resumed; verify of its user ids', () => {
  let sourceUrl: string;
  let dir: string;
  let map: UserMap;
  let other: UserMap;

  beforeAll(async () => {
    sourceUrl = await createFixtureDatabase('umr_src');
    dir = await tempDir('umr');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir });
    const users = (await readAuthUsers(dir)).filter((u) => u.email);
    // Upper-case uuids, as some providers print them: a uuid column stores them in lower case.
    const newUsers = (prefix: string) =>
      users.map((u, i) => ({
        id: `${prefix}-0000-4000-8000-${String(i).padStart(12, '0')}`,
        externalIds: [],
        emails: [{ address: u.email!, verified: true }],
        phones: [],
      }));
    map = mapUsers(users, newUsers('ABCDEF01'));
    other = mapUsers(users, newUsers('ABCDEF02'));
  });

  it('resumes with the recorded map (a different one is refused); verify needs no flag and finds an old id', async () => {
    const targetUrl = await createDatabase('umr_tgt');
    await createSampleSchema(targetUrl);
    // The new provider's users are in the target's auth.users, as on Supabase; the unmatched ones are kept.
    const all = await readAuthUsers(dir);
    const mapped = new Set(map.mappings.map((m) => m.oldId));
    await (
      await connectTo(targetUrl)
    ).query('insert into auth.users (id) select unnest($1::uuid[])', [
      [...map.mappings.map((m) => m.newId), ...all.filter((u) => !mapped.has(u.id)).map((u) => u.id)],
    ]);
    const options = { targetUrl, inputDir: dir, userColumns: USER_COLUMNS, unmatched: 'keep', jobs: 1 };
    // Stopped once the first tables are in, as a kill would.
    const stop = new AbortController();
    let done = 0;
    await importDatabase({
      ...options,
      userMap: map,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'table-done' && ++done === 4) stop.abort();
      },
    }).catch((err: unknown) => expect(String(err)).toMatch(/interrupt|abort|stopp/i));
    await expect(importDatabase({ ...options, userMap: other, resume: true })).rejects.toThrow(
      /--user-map differs from the map the run being resumed used \(\d+ user\(s\) with another or no earlier new id/,
    );
    await expect(
      importDatabase({ targetUrl, inputDir: dir, userMap: map, resume: true, unmatched: 'keep' }),
    ).rejects.toThrow(/--user-columns differ from the run being resumed/);
    const resumed = await importDatabase({ targetUrl, inputDir: dir, resume: true });
    expect(resumed.failures).toEqual([]);
    expect(resumed.violations.map((v) => `${v.foreignKey} ${v.references}`)).toEqual([]);
    expect(resumed.notes.join('\n')).toMatch(
      /resumed with the user map the run being resumed recorded in the target \(supamigrate\.import_user_map: \d+ users, \d+ user column\(s\), --unmatched keep\)/,
    );
    const target = await connectTo(targetUrl);
    const oldIds = map.mappings.map((m) => m.oldId);
    const left = await target.query(
      `select 1 from public.event_logs where actor_id::text = any($1) union all
       select 1 from public.devices where owner_id::text = any($1)`,
      [oldIds],
    );
    expect(left.rowCount).toBe(0);
    const clean = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    expect(clean.tables.filter((t) => t.status !== 'match')).toEqual([]);
    // A row put back on a mapped user's old id is a difference, not a "kept" id.
    await target.query(`set session_replication_role = replica;
      update public.devices set owner_id = '${map.mappings[0]!.oldId}'
       where id = (select min(id) from public.devices where owner_id is not null)`);
    const tampered = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    expect(tampered.ok).toBe(false);
    expect(tampered.tables.filter((t) => t.status !== 'match').map((t) => t.name)).toEqual(['devices']);
  });
});
