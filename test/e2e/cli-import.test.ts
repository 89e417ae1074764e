import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { expectSameTables } from '../support/compare.js';
import { cli, noStack } from '../support/cli.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

describe('supamigrate import (the built CLI)', () => {
  let sourceUrl: string;
  let dir: string;

  beforeAll(async () => {
    sourceUrl = await createFixtureDatabase('cli_imp');
    dir = join(await tempDir('cli-imp'), 'export');
    const run = await cli(['export', '--db-url', sourceUrl, '-o', dir]);
    expect(run.code).toBe(0);
  });

  it('dry run, then import from TARGET_DB_URL: exit 0, the same rows on both sides', async () => {
    const targetUrl = await createDatabase('cli_imp_tgt');
    await createSampleSchema(targetUrl);
    // Without the users, every user reference dangles: the dry run says so, the import exits 1 naming each.
    const bare = await cli(['import', '-i', dir, '--dry-run'], { TARGET_DB_URL: targetUrl });
    expect(bare.stdout).toMatch(
      /note: public\.profiles: foreign key profiles_id_fkey references auth\.users, which is not imported and is empty in the target/,
    );
    // The new provider's users are there (as they would be on Supabase): ids only, enough for the keys.
    const ids = (await (await connectTo(sourceUrl)).query<{ id: string }>('select id from auth.users')).rows;
    await (
      await connectTo(targetUrl)
    ).query('insert into auth.users (id) select unnest($1::uuid[])', [ids.map((r) => r.id)]);
    const dry = await cli(['import', '-i', dir, '--dry-run'], { TARGET_DB_URL: targetUrl });
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toMatch(/references auth\.users/);
    expect(dry.stdout).toMatch(/Dry run: 23 tables in load order/);
    expect(dry.stdout).toMatch(/No problems found/);
    const run = await cli(['import', '-i', dir, '--jobs', '2'], { TARGET_DB_URL: targetUrl });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toMatch(/triggers kept from firing by session_replication_role = replica/);
    expect(run.stdout).toMatch(/Imported 23 tables; every table's row count matches metadata\.json/);
    const manifest = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as {
      tables: { schema: string; name: string }[];
    };
    await expectSameTables(await connectTo(sourceUrl), await connectTo(targetUrl), manifest.tables);
    const again = await cli(['import', '-i', dir, '--json'], { TARGET_DB_URL: targetUrl });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/problems:/);
    expect(again.stderr).toMatch(/public\.devices: the target table is not empty/);
  });

  it('broken input: a changed file, a missing metadata.json, a closed port: exit 2, one message, no stack', async () => {
    const targetUrl = await createDatabase('cli_imp_bad');
    await createSampleSchema(targetUrl);
    const broken = join(await tempDir('cli-imp-bad'), 'export');
    await cli([
      'export',
      '--db-url',
      sourceUrl,
      '-o',
      broken,
      '--table',
      'sites',
      '--table',
      'devices',
      '--skip-auth',
    ]);
    const file = join(broken, 'public.sites.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"name":', '"nmae":'));
    const changed = await cli(['import', '-i', broken, '--target-url', targetUrl]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/public\.sites\.json \(public\.sites\) does not match its sha256/);
    noStack(changed.stderr);
    const client = await connectTo(targetUrl);
    expect(
      (
        await client.query(
          'select (select count(*) from public.sites) + (select count(*) from public.devices) as n',
        )
      ).rows[0].n,
    ).toBe('0');
    await rm(join(broken, 'metadata.json'));
    const missing = await cli(['import', '-i', broken, '--target-url', targetUrl]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/metadata\.json not found: not an export directory/);
    const closed = await cli([
      'import',
      '-i',
      dir,
      '--target-url',
      'postgresql://u:Very-Secret-9@127.0.0.1:1/x',
    ]);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toMatch(
      /Cannot connect to the target database u@127\.0\.0\.1:1\/x: connection refused/,
    );
    expect(closed.stderr).not.toContain('Very-Secret-9');
    const none = await cli(['import', '-i', dir]);
    expect(none.stderr).toMatch(/pass --target-url <url> or set TARGET_DB_URL/);
  });
});
