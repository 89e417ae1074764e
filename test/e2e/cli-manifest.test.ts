import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, noStack } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

/*
 * metadata.json is parsed against its schema, never cast: a malformed one is refused by every command that
 * reads it, with the path of the bad field, on one line, exit 2, before anything connects or is written.
 */
describe('a malformed metadata.json (the built CLI)', () => {
  let dir: string;
  let targetUrl: string;

  beforeAll(async () => {
    const sourceUrl = await createDatabase('mf_src');
    const source = await connectTo(sourceUrl);
    await source.query(`create table t (id int primary key, doc jsonb, at timestamptz);
                        insert into t select i, jsonb_build_object('i', i), now() from generate_series(1, 20) i;`);
    targetUrl = await createDatabase('mf_tgt');
    await (
      await connectTo(targetUrl)
    ).query('create table t (id int primary key, doc jsonb, at timestamptz)');
    dir = join(await tempDir('mf'), 'export');
    expect((await cli(['export', '--db-url', sourceUrl, '-o', dir, '--skip-auth'])).code).toBe(0);
  });

  type Manifest = { tables: Record<string, unknown>[] };
  const cases: [string, (m: Manifest) => void, RegExp][] = [
    ['a field of the wrong type', (m) => void (m.tables[0]!.rowCount = '20'), /tables\[0\]\.rowCount/],
    ['missing columns', (m) => void delete m.tables[0]!.columns, /tables\[0\]\.columns/],
    [
      'an unknown encoding',
      (m) => void ((m.tables[0]!.columns as Record<string, unknown>[])[1]!.encoding = 'decimal'),
      /tables\[0\]\.columns\[1\]\.encoding.*decimal/,
    ],
    [
      'a file outside the directory',
      (m) => void (m.tables[0]!.file = '../outside.json'),
      /tables\[0\]\.file/,
    ],
  ];

  it.each(cases)('%s: import, verify and users refuse it, naming the field', async (_label, edit, field) => {
    const copy = join(await tempDir('mf-case'), 'export');
    await cp(dir, copy, { recursive: true });
    const path = join(copy, 'metadata.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    edit(manifest);
    await writeFile(path, JSON.stringify(manifest));
    const newUsers = join(copy, '..', 'new-users.json');
    await writeFile(newUsers, '[{"id": "user_1", "email": "a@example.com"}]');
    for (const args of [
      ['import', '-i', copy, '--target-url', targetUrl],
      ['verify', '-i', copy, '--target-url', targetUrl],
      ['users', 'map', '-i', copy, '--new-users', newUsers],
    ]) {
      const run = await cli(args);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(field);
      expect(run.stderr).toMatch(/metadata\.json/);
      expect(run.stderr).not.toMatch(/TypeError|Cannot read properties/);
      noStack(run.stderr);
    }
    // Nothing was written to the target.
    const rows = await (await connectTo(targetUrl)).query('select count(*)::int as n from t');
    expect(rows.rows[0]).toEqual({ n: 0 });
  });
});
