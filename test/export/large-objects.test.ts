import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { readManifest } from '../../src/format/manifest.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

describe('export and import: large objects and sequences no column uses', () => {
  let url: string;

  beforeAll(async () => {
    url = await createDatabase('lo');
    await (
      await connectTo(url)
    ).query(
      `
      create domain lo as oid;
      create table docs (id int primary key, file oid, thumb lo);
      insert into docs values (1, lo_from_bytea(0, 'hello'), null), (2, lo_from_bytea(0, 'world'), null), (3, null, null);
      create table plain (id int primary key, o oid);
      insert into plain values (1, 12345);
      create table items (id serial primary key, n bigint default nextval('shared_seq'));
      create sequence counter;
      select setval('counter', 42);
      create sequence never_used start 7;
      create sequence reset_seq; select setval('reset_seq', 777, false);
    `.replace('create table items', 'create sequence shared_seq; create table items'),
    );
  });

  it('refuses a table whose oid column names large objects, naming schema.table.column and the count', async () => {
    const dir = join(await tempDir('lo'), 'out');
    await expect(exportDatabase({ dbUrl: url, outputDir: dir, skipAuth: true })).rejects.toThrow(
      /^large objects cannot be exported: public\.docs\.file names 2 \(oid values of pg_largeobject\); give --skip-large-objects/,
    );
    // The directory the refused run made is gone again (nothing left that looks like an export).
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    // One that was there before stays, as it was.
    await mkdir(dir);
    await expect(exportDatabase({ dbUrl: url, outputDir: dir, skipAuth: true })).rejects.toThrow(
      /large objects/,
    );
    expect(await readdir(dir)).toEqual([]);
    const run = await cli(['export', '--db-url', url, '-o', dir, '--skip-auth', '--dry-run']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/public\.docs\.file names 2/);
  });

  it('with --skip-large-objects exports the oid values, noted in metadata.json; records standalone sequences', async () => {
    const dir = join(await tempDir('lo_skip'), 'out');
    const run = await cli(['export', '--db-url', url, '-o', dir, '--skip-auth', '--skip-large-objects']);
    expect(run.code, run.stderr).toBe(0);
    const manifest = await readManifest(dir);
    expect(manifest.options.skipLargeObjects).toBe(true);
    expect(manifest.notes.join('\n')).toMatch(
      /--skip-large-objects: the large objects named by public\.docs\.file \(2\) were not exported/,
    );
    expect(manifest.tables.find((t) => t.name === 'docs')!.rowCount).toBe(3);
    expect(manifest.sequences).toEqual([
      { schema: 'public', name: 'counter', lastValue: '42', isCalled: true },
      { schema: 'public', name: 'never_used', lastValue: '7', isCalled: false },
      { schema: 'public', name: 'reset_seq', lastValue: '777', isCalled: false },
    ]);
  });

  it('import sets the sequences no column uses to the source position, never backwards, and names one the target lacks', async () => {
    const dir = join(await tempDir('seq'), 'out');
    await exportDatabase({ dbUrl: url, outputDir: dir, skipAuth: true, skipLargeObjects: true });
    const targetUrl = await createDatabase('seq_target');
    const target = await connectTo(targetUrl);
    await target.query(`
      create domain lo as oid;
      create table docs (id int primary key, file oid, thumb lo);
      create table plain (id int primary key, o oid);
      create sequence shared_seq;
      create table items (id serial primary key, n bigint default nextval('shared_seq'));
      create sequence counter;
      select setval('shared_seq', 500);`);
    const result = await importDatabase({ targetUrl, inputDir: dir });
    expect(result.failures).toEqual([]);
    expect(result.notes.join('\n')).toMatch(
      /sequence public\.never_used \(used by no column\) is not in the target: its position \(7\) was not set/,
    );
    expect((await target.query(`select nextval('counter')::int as v`)).rows[0].v).toBe(43);
    // shared_seq is used by a column's default: set past the data, never back from 500.
    expect((await target.query(`select nextval('shared_seq')::int as v`)).rows[0].v).toBe(501);

    // A target sequence already further on stays where it is; one never used gets the source's start.
    await target.query(`select setval('counter', 1000); create sequence never_used start 7 minvalue 1`);
    await target.query(`select setval('never_used', 3, false)`);
    await importDatabase({ targetUrl, inputDir: dir, truncate: true });
    expect((await target.query(`select nextval('counter')::int as v`)).rows[0].v).toBe(1001);
    expect((await target.query(`select nextval('never_used')::int as v`)).rows[0].v).toBe(7);
  });
});
