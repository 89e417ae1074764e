import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { UsageError } from '../../src/errors.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { readManifest, type ExportManifest } from '../../src/format/manifest.js';
import { importDatabase } from '../../src/import/import-database.js';
import { expectSameTables, tableText } from '../support/compare.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

describe('import of the Supabase-shaped fixture into a schema-only copy', () => {
  let source: pg.Client;
  let target: pg.Client;
  let targetUrl: string;
  let dir: string;
  let manifest: ExportManifest;

  beforeAll(async () => {
    const sourceUrl = await createFixtureDatabase('imp_src');
    targetUrl = await createDatabase('imp_tgt');
    await createSampleSchema(targetUrl);
    dir = await tempDir('import');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, jobs: 2 });
    manifest = await readManifest(dir);
    source = await connectTo(sourceUrl);
    target = await connectTo(targetUrl);
    const result = await importDatabase({ targetUrl, inputDir: dir, jobs: 2 });
    expect(result.failures).toEqual([]);
    expect(result.triggerMode).toBe('replica');
  });

  it('every table holds the same rows, byte for byte', async () => {
    await expectSameTables(source, target, manifest.tables);
  });

  it('did not fire the audit trigger', async () => {
    const [a, b] = [
      await tableText(source, 'public', 'audit_log'),
      await tableText(target, 'public', 'audit_log'),
    ];
    expect(b).toEqual(a);
    // The trigger itself still works after the import.
    const { rows } = await target.query(
      `select tgenabled from pg_trigger where tgname = 'devices_audit_insert'`,
    );
    expect(rows[0]?.tgenabled).toBe('O');
  });

  it('set every owned sequence past its column, so new rows insert', async () => {
    for (const t of manifest.tables) {
      for (const seq of t.ownedSequences) {
        const { rows } = await target.query<{ next: string; max: string | null }>(
          `select nextval($1::regclass)::int8::text as next, (select max(${target.escapeIdentifier(seq.column)})::int8::text from ${target.escapeIdentifier(t.schema)}.${target.escapeIdentifier(t.name)}) as max`,
          [`${target.escapeIdentifier(seq.schema)}.${target.escapeIdentifier(seq.name)}`],
        );
        if (rows[0]!.max !== null)
          expect(BigInt(rows[0]!.next), seq.name).toBeGreaterThan(BigInt(rows[0]!.max));
      }
    }
    const org = (await target.query<{ id: string }>('select id from public.organizations limit 1')).rows[0]!
      .id;
    const inserted = await target.query(
      `insert into public.teams (organization_id, name) values ($1, 'new team') returning id`,
      [org],
    );
    expect(inserted.rowCount).toBe(1);
  });

  it('refuses a non-empty target, then --truncate reloads and --on-conflict skip inserts nothing new', async () => {
    const refused = await importDatabase({ targetUrl, inputDir: dir }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).problems.length).toBe(
      manifest.tables.filter((t) => t.rowCount > 0).length,
    );
    expect(String(refused)).toMatch(/not empty \(use --truncate/);
    const again = await importDatabase({ targetUrl, inputDir: dir, truncate: true, jobs: 2 });
    expect(again.failures).toEqual([]);
    await expectSameTables(source, target, manifest.tables);
    // No primary key nor unique key: nothing would conflict and every row would come again: refused.
    const keyless = await importDatabase({
      targetUrl,
      inputDir: dir,
      onConflict: 'skip',
      tables: ['devices', 'device_status_history'],
    }).catch((e: unknown) => e);
    expect(keyless).toBeInstanceOf(UsageError);
    expect((keyless as UsageError).problems).toEqual([
      expect.stringMatching(
        /^public\.device_status_history: --on-conflict skip needs a primary key, or a unique key over NOT NULL columns without a WHERE, in the target table .* it has none \(its rows would be inserted twice: a NULL or a partial key tells no row exists\); empty it with --truncate instead$/,
      ),
    ]);
    const skip = await importDatabase({
      targetUrl,
      inputDir: dir,
      onConflict: 'skip',
      tables: ['devices', 'sensors'],
    });
    const byName = new Map(skip.loaded.map((l) => [l.name, l]));
    expect(byName.get('devices')!.inserted).toBe(0);
    expect(byName.get('sensors')!.inserted).toBe(0);
    // This target has no auth users: only the references into auth.users are reported.
    expect(skip.violations.every((v) => v.references === 'auth.users (id)')).toBe(true);
    await expectSameTables(source, target, manifest.tables);
  });
});

describe('import pre-flight', () => {
  let sourceUrl: string;
  let dir: string;

  beforeAll(async () => {
    sourceUrl = await createDatabase('pf_src');
    const s = await connectTo(sourceUrl);
    await s.query(`create table a (id int primary key, v numeric(10,2), note text);
                   create table b (id int primary key, a_id int references a(id), payload jsonb);
                   insert into a select i, i * 1.5, 'n' || i from generate_series(1, 500) i;
                   insert into b select i, i, jsonb_build_object('i', i) from generate_series(1, 500) i;`);
    dir = await tempDir('preflight');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir });
  });

  it('reports every mismatch of the target at once and writes nothing', async () => {
    const targetUrl = await createDatabase('pf_tgt');
    const t = await connectTo(targetUrl);
    await t.query(`create table a (id int primary key, v numeric(5,1), extra text not null);
                   insert into a values (1, 1, 'x');`);
    const error = await importDatabase({ targetUrl, inputDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const problems = (error as UsageError).problems.join('\n');
    expect(problems).toMatch(
      /public\.a: column "v" is numeric\(5,1\) in the target but numeric\(10,2\) in the export/,
    );
    expect(problems).toMatch(/public\.a: column "note" \(text\) is missing in the target/);
    expect(problems).toMatch(/public\.a: target column "extra" is NOT NULL without a default/);
    expect(problems).toMatch(/public\.a: the target table is not empty/);
    expect(problems).toMatch(/public\.b: no such table in the target/);
    expect((await t.query('select count(*)::int as n from a')).rows[0].n).toBe(1);
    const dry = await importDatabase({ targetUrl, inputDir: dir, dryRun: true });
    expect(dry.problems.length).toBe((error as UsageError).problems.length);
  });

  it('refuses changed, truncated and missing files, naming them, before writing a row', async () => {
    const targetUrl = await createDatabase('pf_tgt2');
    const t = await connectTo(targetUrl);
    await t.query(`create table a (id int primary key, v numeric(10,2), note text);
                   create table b (id int primary key, a_id int references a(id), payload jsonb);`);
    const broken = await tempDir('broken');
    for (const f of ['metadata.json', 'public.a.json', 'public.b.json'])
      await writeFile(join(broken, f), await readFile(join(dir, f)));
    const a = await readFile(join(broken, 'public.a.json'), 'utf8');
    await writeFile(join(broken, 'public.a.json'), a.replace('"note":"n7"', '"nOte":"n7"'));
    await writeFile(
      join(broken, 'public.b.json'),
      (await readFile(join(broken, 'public.b.json'))).subarray(0, 1000),
    );
    const error = await importDatabase({ targetUrl, inputDir: broken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(String(error)).toMatch(/public\.a\.json \(public\.a\) does not match its sha256/);
    expect(String(error)).toMatch(
      /public\.b\.json \(public\.b\) has 1000 bytes, metadata\.json says \d+: truncated/,
    );
    expect((await t.query('select (select count(*) from a) + (select count(*) from b) as n')).rows[0].n).toBe(
      '0',
    );
    await expect(importDatabase({ targetUrl, inputDir: join(broken, 'nope') })).rejects.toThrow(
      /metadata\.json not found/,
    );
  });
});
