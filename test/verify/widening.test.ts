import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { verify } from '../../src/verify/verify.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

/*
 * Import accepts widened target columns (the codec's widenings); verify must then read them back into the
 * export's form, or compare in the target's form where that cannot be done (json → jsonb), and still find
 * every real difference.
 */
describe('verify after an import into widened columns', () => {
  let sourceUrl: string;
  let targetUrl: string;
  let dir: string;
  let target: pg.Client;

  beforeAll(async () => {
    sourceUrl = await createDatabase('widen_src');
    targetUrl = await createDatabase('widen_tgt');
    const source = await connectTo(sourceUrl);
    target = await connectTo(targetUrl);
    await source.query(`
      create table ledger (id int primary key, amount numeric(14,6), doc json, n int, label varchar(20),
                           tags varchar(10)[], ratio real, big bigint, docs jsonb);
      insert into ledger
        select i, round(i * 1.000001, 6) * (case when i % 2 = 0 then -1 else 1 end),
               case i % 4 when 0 then null
                          when 1 then ('{ "b": 1,  "a": [1, 2.50, 1e3], "b": 2 }')::json
                          when 2 then ('"x' || i || '"')::json
                          else 'null'::json end,
               case when i % 5 = 0 then null else i * 1000 end,
               'label ' || i, array['a' || i, null], i / 7.0, i::bigint * 1000000000,
               jsonb_build_object('k', i)
          from generate_series(1, 500) i;`);
    await target.query(`
      create table ledger (id bigint primary key, amount numeric(16,8), doc jsonb, n bigint, label text,
                           tags text[], ratio double precision, big numeric, docs json);`);
    dir = await tempDir('widen');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true });
    const imported = await importDatabase({ targetUrl, inputDir: dir });
    expect(imported.failures).toEqual([]);
    expect(imported.problems).toEqual([]);
  });

  it('verifies clean on all three sides (exit 0), comparing the json column in the target form', async () => {
    const result = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    const [ledger] = result.tables;
    expect(ledger!.problems).toEqual([]);
    expect(ledger!.status).toBe('match');
    expect(ledger!.notes.join(' ')).toMatch(/target’s form/);
    expect(result.ok).toBe(true);
    const run = await cli(['verify', '-i', dir, '--db-url', sourceUrl, '--target-url', targetUrl]);
    expect(run.stderr).not.toMatch(/supamigrate:/);
    expect(run.code).toBe(0);
    // Files and target alone (the source may be gone by then).
    const filesOnly = await cli(['verify', '-i', dir, '--target-url', targetUrl]);
    expect(filesOnly.code, filesOnly.stdout + filesOnly.stderr).toBe(0);
  });

  it('finds a target value the export could not have held, though a cast back would hide it', async () => {
    // numeric(16,8) and double precision hold more than numeric(14,6) and real: cast back, these would
    // read as the export's values.
    await target.query(`update ledger set amount = amount + 0.00000001 where id = 11`);
    await target.query(`update ledger set ratio = ratio + 1e-12 where id = 12`);
    const result = await verify({ inputDir: dir, targetUrl });
    const [ledger] = result.tables;
    expect(result.ok).toBe(false);
    expect(ledger!.problems.join(' ')).toMatch(
      /2 row\(s\) of the target hold values the export's column types cannot hold.*\[11\], \[12\]/,
    );
    expect(ledger!.examples.map((e) => e.key).sort()).toEqual(['[11]', '[12]']);
    await target.query(`update ledger set amount = round(amount, 6) where id = 11`);
    await target.query(`update ledger set ratio = ratio::real::text::float8 where id = 12`);
    expect((await verify({ inputDir: dir, targetUrl })).ok).toBe(true);
  });

  it('still finds a change in a cast-back column and in the json column, naming the rows', async () => {
    await target.query(`update ledger set amount = amount + 0.000001 where id = 7`);
    await target.query(`update ledger set doc = '{"a": [1, 2.50, 1000], "b": 3}' where id = 9`);
    const result = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    const [ledger] = result.tables;
    expect(result.ok).toBe(false);
    expect(ledger!.status).toBe('mismatch');
    expect(ledger!.examples.map((e) => e.key).sort()).toEqual(['[7]', '[9]']);
    const run = await cli(['verify', '-i', dir, '--target-url', targetUrl]);
    expect(run.code).toBe(1);
    expect(run.stdout, run.stderr).toMatch(/public\.ledger/);
  });
});
