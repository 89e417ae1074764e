import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { cli } from '../support/cli.js';
import { expectSameTables } from '../support/compare.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

const SCHEMA = `
  create table parent (id int primary key, name text);
  create table big (
    id bigint primary key,
    parent_id int references parent (id),
    code text not null,
    during int4range,
    note text,
    constraint big_code_key unique (code) deferrable initially deferred,
    constraint big_during_excl exclude using gist (during with &&)
  );
  create index big_lower_note on big (lower(note)) where note is not null;
  create index big_parent on big using hash (parent_id) with (fillfactor = 80);
  comment on index big_lower_note is 'case-insensitive search';
  comment on constraint big_code_key on big is 'codes are unique';
  create table small (id int primary key, v text);
  create index small_v on small (v);
`;

/** Every index and constraint of the public tables, as the catalog defines them. */
async function definitions(c: pg.Client): Promise<string[]> {
  const { rows } = await c.query<{ d: string }>(`
    select format('%s %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid),
                  coalesce(obj_description(oid, 'pg_constraint'), '-')) as d
      from pg_constraint where connamespace = 'public'::regnamespace
    union all
    select format('%s %s %s', indrelid::regclass, pg_get_indexdef(indexrelid),
                  coalesce(obj_description(indexrelid, 'pg_class'), '-'))
      from pg_index join pg_class on pg_class.oid = indrelid where relnamespace = 'public'::regnamespace
    order by 1`);
  return rows.map((r) => r.d);
}

describe('import builds indexes and key constraints after the data', () => {
  let source: pg.Client;
  let dir: string;

  beforeAll(async () => {
    const sourceUrl = await createDatabase('defer_src');
    source = await connectTo(sourceUrl);
    await source.query(SCHEMA);
    await source.query(`insert into parent select i, 'p' || i from generate_series(1, 10) i;
      insert into big select i, 1 + i % 10, 'c' || i, int4range(i * 2, i * 2 + 1), case when i % 3 = 0 then 'N' || i end
        from generate_series(1, 30000) i;
      insert into small select i, 'v' || i from generate_series(1, 100) i;`);
    dir = join(await tempDir('defer'), 'out');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true, splitRows: 10000, jobs: 2 });
  });

  it('ends with exactly the definitions the target had, comments included, and nothing left aside', async () => {
    const url = await createDatabase('defer_tgt');
    const target = await connectTo(url);
    await target.query(SCHEMA);
    const before = await definitions(target);
    const result = await importDatabase({ targetUrl: url, inputDir: dir, jobs: 2 });
    expect(result.failures).toEqual([]);
    // parent is referenced by a foreign key and small is small: only big's are set aside.
    expect(result.notes.join('\n')).toMatch(
      /indexes and key constraints of 1 empty table\(s\) are built after their data/,
    );
    expect(result.notes.join('\n')).toMatch(
      /built 5 index\(es\) and key constraint\(s\) of 1 table\(s\) after their data/,
    );
    expect(await definitions(target)).toEqual(before);
    expect(
      (await target.query('select count(*)::int as n from supamigrate.deferred_indexes')).rows[0].n,
    ).toBe(0);
    await expectSameTables(
      source,
      target,
      ['parent', 'big', 'small'].map((name) => ({ schema: 'public', name })),
    );
  });

  it('a definition the rows break: exit 1 naming it, the definitions kept for the next run', async () => {
    const url = await createDatabase('defer_bad');
    const target = await connectTo(url);
    await target.query(SCHEMA + `create unique index big_parent_unique on big (parent_id);`);
    const run = await cli(['import', '-i', dir, '--target-url', url]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(
      /public\.big: its index or constraint big_parent_unique could not be created again after loading the rows \(.*could not create unique index.*\); the definitions are kept in supamigrate\.deferred_indexes/,
    );
    const kept = await target.query<{ name: string }>(
      'select name from supamigrate.deferred_indexes order by position',
    );
    expect(kept.rows.map((r) => r.name)).toContain('big_parent_unique');
    // Fixed by the user (the index was wrong), the next import builds the rest.
    await target.query(`delete from supamigrate.deferred_indexes where name = 'big_parent_unique'`);
    const again = await cli(['import', '-i', dir, '--target-url', url, '--resume']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const fresh = await createDatabase('defer_ref');
    const reference = await connectTo(fresh);
    await reference.query(SCHEMA);
    expect(await definitions(target)).toEqual(await definitions(reference));
  });
});
