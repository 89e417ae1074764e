import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { readAuthUsers } from '../../src/users/auth-users.js';
import { mapUsers } from '../../src/users/map-users.js';
import { verify } from '../../src/verify/verify.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

const SCHEMA = `
  create table measurements (id bigint primary key, sensor int not null, value numeric(14,6), at timestamptz);
  create table events (id int primary key, kind text, payload jsonb);
  create table tags (name text, weight float8);
`;

describe('verify: source, files and target', () => {
  let sourceUrl: string;
  let targetUrl: string;
  let dir: string;
  let target: pg.Client;

  beforeAll(async () => {
    sourceUrl = await createDatabase('ver_src');
    targetUrl = await createDatabase('ver_tgt');
    const source = await connectTo(sourceUrl);
    target = await connectTo(targetUrl);
    await source.query(SCHEMA);
    await target.query(SCHEMA);
    await source.query(`
      insert into measurements select i, i % 17, round((i * 1.000001)::numeric, 6), timestamptz '2025-01-01' + i * interval '1.5 s'
        from generate_series(1, 25000) i;
      insert into events select i, 'k' || (i % 5), jsonb_build_object('i', i) from generate_series(1, 3000) i;
      insert into tags values ('a', 1.5), ('a', 1.5), ('b', null);`);
    dir = await tempDir('verify');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true });
    const imported = await importDatabase({ targetUrl, inputDir: dir });
    expect(imported.failures).toEqual([]);
  });

  it('an intact export → import verifies on all three sides, exit 0', async () => {
    const result = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    expect(result.ok).toBe(true);
    expect(result.sides).toEqual(['source', 'files', 'target']);
    for (const t of result.tables) {
      expect(t.status, t.name).toBe('match');
      expect(t.sides.source).toEqual(t.sides.files);
      expect(t.sides.files).toEqual(t.sides.target);
      expect(t.sides.files!.hash).toMatch(/^[0-9a-f]{16}$/);
    }
    const run = await cli(['verify', '-i', dir, '--db-url', sourceUrl, '--target-url', targetUrl]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✓ public\.measurements {2}source 25,000, files 25,000, target 25,000/);
    expect(run.stdout).toMatch(/All 3 tables match/);
  });

  it('finds a value changed by 0.000001 and a deleted row, names both tables and the rows', async () => {
    await target.query(`update measurements set value = value + 0.000001 where id = 12345`);
    await target.query(`delete from events where id = 77`);
    try {
      const result = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
      expect(result.ok).toBe(false);
      const byName = new Map(result.tables.map((t) => [t.name, t]));
      expect(byName.get('tags')!.status).toBe('match');
      const m = byName.get('measurements')!;
      expect(m.status).toBe('mismatch');
      expect(m.examples).toEqual([
        { key: '["12345"]', difference: 'differs between files and target', between: 'files/target' },
      ]);
      const e = byName.get('events')!;
      expect(e.problems).toContain('files has 3000 rows, target has 2999');
      expect(e.examples).toEqual([{ key: '[77]', difference: 'only in files', between: 'files/target' }]);
      const run = await cli(['verify', '-i', dir, '--target-url', targetUrl, '--json']);
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as {
        tables: { name: string; status: string; sides: Record<string, { rows: number; hash: string }> }[];
      };
      expect(
        report.tables
          .filter((t) => t.status !== 'match')
          .map((t) => t.name)
          .sort(),
      ).toEqual(['events', 'measurements']);
      expect(report.tables[0]!.sides.files).toEqual({
        rows: expect.any(Number),
        hash: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
    } finally {
      await target.query(`update measurements set value = value - 0.000001 where id = 12345`);
      await target.query(`insert into events values (77, 'k2', '{"i": 77}')`);
    }
  });

  it('catches a value edited inside an export file, against the source', async () => {
    const edited = await tempDir('edited');
    for (const f of ['metadata.json', 'public.measurements.json', 'public.events.json', 'public.tags.json']) {
      await writeFile(join(edited, f), await readFile(join(dir, f)));
    }
    const file = join(edited, 'public.events.json');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(
        '{"id":42,"kind":"k2","payload":{"i": 42}}',
        '{"id":42,"kind":"k2","payload":{"i": 43}}',
      ),
    );
    const result = await verify({ inputDir: edited, dbUrl: sourceUrl });
    const events = result.tables.find((t) => t.name === 'events')!;
    expect(events.status).toBe('mismatch');
    expect(events.problems.join('\n')).toMatch(
      /public\.events\.json \(public\.events\) does not match its sha256/,
    );
    expect(events.examples).toEqual([
      { key: '[42]', difference: 'differs between source and files', between: 'source/files' },
    ]);
    expect(result.tables.filter((t) => t.status !== 'match').map((t) => t.name)).toEqual(['events']);
  });

  it('usage and connection errors exit 2', async () => {
    const run = await cli(['verify', '-i', dir, '--target-url', 'postgresql://x:pw-123@127.0.0.1:1/none']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('pw-123');
    const missing = await cli(['verify', '-i', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
  });
});

describe('verify after an import that rewrote user ids', () => {
  it('matches when given the user map, or with the one the import recorded, and not without either', async () => {
    const sourceUrl = await createFixtureDatabase('ver_users');
    const targetUrl = await createDatabase('ver_users_tgt');
    await createSampleSchema(targetUrl);
    const dir = await tempDir('ver-users');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir });
    const users = await readAuthUsers(dir);
    const map = mapUsers(
      users,
      users
        .filter((u) => u.email)
        .map((u, i) => ({
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          externalIds: [],
          emails: [{ address: u.email!.toUpperCase(), verified: true }],
          phones: [],
        })),
    );
    const userColumns = ['public.event_logs.actor_id', 'public.teams.member_ids'];
    const imported = await importDatabase({
      targetUrl,
      inputDir: dir,
      userMap: map,
      unmatched: 'keep',
      userColumns,
    });
    expect(imported.failures).toEqual([]);
    const mapped = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl, userMap: map, userColumns });
    expect(mapped.tables.filter((t) => t.status !== 'match')).toEqual([]);
    expect(mapped.ok).toBe(true);
    // With no flags, verify uses the map and the columns the import recorded in the target.
    const recorded = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    expect(recorded.tables.filter((t) => t.status !== 'match')).toEqual([]);
    expect(recorded.ok).toBe(true);
    expect(recorded.notes.join('\n')).toMatch(
      /compared user columns through the user map the import recorded in the target \(supamigrate\.import_user_map: \d+ users; columns [^)]*public\.event_logs\.actor_id/,
    );
    // Given the map but not the columns without a foreign key: those tables differ, and verify names them.
    const partial = await verify({ inputDir: dir, targetUrl, userMap: map });
    expect(
      partial.tables
        .filter((t) => t.status !== 'match')
        .map((t) => t.name)
        .sort(),
    ).toEqual(['event_logs', 'teams']);
    expect(partial.notes.join('\n')).toMatch(
      /tables that differ hold user ids in columns not compared through the user map \(public\.event_logs\.actor_id, public\.teams\.member_ids\): if the import rewrote them \(--user-columns\), give verify the same --user-columns/,
    );
    // Without that record (and no flags), the tables with user ids differ, and verify says why.
    const target = await connectTo(targetUrl);
    await target.query('DROP TABLE supamigrate.import_user_map, supamigrate.import_user_columns');
    const plain = await verify({ inputDir: dir, targetUrl });
    const differing = plain.tables.filter((t) => t.status !== 'match').map((t) => t.name);
    expect(differing).toEqual(expect.arrayContaining(['devices', 'profiles', 'event_logs', 'teams']));
    expect(plain.notes.join('\n')).toMatch(
      /table\(s\) that differ hold user ids \([^)]*public\.devices[^)]*\): if the import rewrote user ids \(import --user-map\), the target keeps no record of it/,
    );
    expect(differing).not.toContain('sensor_readings');
  });
});
