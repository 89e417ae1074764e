import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { expectSameTables } from '../support/compare.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

// A type outside public, found through the source role's search_path (Supabase's postgres role has
// `extensions` in its path, where extension types live): the export must name it with its schema, or a
// target with another path refuses the column.
const SCHEMA = `
  create schema extensions;
  create type extensions.level as enum ('low', 'high');
  create domain extensions.email as text check (value like '%@%');
  create table public.contacts (id int primary key, level extensions.level, address extensions.email,
                                levels extensions.level[]);
  insert into public.contacts values (1, 'low', 'a@x.org', '{low,high}'), (2, null, 'b@y.org', null);`;

describe('types found through the search_path', () => {
  it('are exported with their schema, and import and verify pass on a target with another path', async () => {
    const sourceUrl = await createDatabase('spath_src');
    const targetUrl = await createDatabase('spath_tgt');
    const source = await connectTo(sourceUrl);
    await source.query(SCHEMA);
    const dbName = new URL(sourceUrl).pathname.slice(1);
    await source.query(`alter database "${dbName}" set search_path = "$user", public, extensions`);
    await source.end();
    const target = await connectTo(targetUrl);
    await target.query(SCHEMA.replace(/insert into[^;]*;/, ''));
    const dir = join(await tempDir('spath'), 'export');
    const exported = await cli(['export', '--db-url', sourceUrl, '-o', dir]);
    expect(exported.code, exported.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as {
      tables: { schema: string; name: string; columns: { name: string; type: string }[] }[];
    };
    const types = manifest.tables.find((t) => t.name === 'contacts')!.columns.map((c) => c.type);
    expect(types).toEqual(['integer', 'extensions.level', 'extensions.email', 'extensions.level[]']);
    const imported = await cli(['import', '-i', dir, '--target-url', targetUrl]);
    expect(imported.code, imported.stderr).toBe(0);
    const verified = await cli(['verify', '-i', dir, '--db-url', sourceUrl, '--target-url', targetUrl]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    await expectSameTables(await connectTo(sourceUrl), target, manifest.tables);
  });
});
