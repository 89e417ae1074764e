import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { migrate, type MigrateEvent } from '../../src/migrate/migrate.js';
import { openSharedSnapshot } from '../../src/pg/snapshot.js';
import { verify } from '../../src/verify/verify.js';
import { expectSameTables } from '../support/compare.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';
import { FaultProxy } from '../support/proxy.js';

/*
 * migrate's direct path: tables whose columns the target has with the same types go from the source's
 * COPY straight into the target's, the others through files; both in one snapshot, both verified.
 */

const SCHEMA = `
  create table parents (id int primary key, name text not null, at timestamptz, tags text[], doc jsonb);
  create table children (id int primary key, parent_id int not null references parents(id), amount numeric(12,4),
                         note text, raw bytea, span interval, price money, addr inet, code char(4));
  create table counters (id int primary key, hits int not null);
`;
const DATA = `
  insert into parents select i, E'name \\t "' || i || E'"\\n\\\\', timestamptz '2024-02-29 12:00:00.123456+00' + i * interval '1 hour',
    array['a,b', null, 'c"d', ''], jsonb_build_object('i', i, 'nested', jsonb_build_array(i, 'x', null))
    from generate_series(1, 3000) i;
  insert into children select i, 1 + i % 3000, i / 7.0, case when i % 5 = 0 then null else 'n' || i end,
    decode(md5(i::text), 'hex'), i * interval '1 minute 1 second', i / 3.0, '10.1.2.3/32', 'ab'
    from generate_series(1, 20000) i;
  insert into counters select i, i * 2 from generate_series(1, 500) i;
  analyze;
`;
const TABLES = ['parents', 'children', 'counters'].map((name) => ({ schema: 'public', name }));
const HANG = 60_000;

const methods = (r: Awaited<ReturnType<typeof migrate>>) =>
  Object.fromEntries((r.export?.manifest?.tables ?? []).map((t) => [t.name, t.method]));

describe('migrate: the direct path (COPY to COPY)', () => {
  let sourceUrl: string;
  let source: pg.Client;

  beforeAll(async () => {
    sourceUrl = await createDatabase('direct_src');
    source = await connectTo(sourceUrl);
    await source.query(SCHEMA + DATA);
  });
  afterAll(async () => {
    await source?.end();
  });

  it('copies tables of the same types directly and the others through files; verify compares both', async () => {
    const targetUrl = await createDatabase('direct_mixed');
    const target = await connectTo(targetUrl);
    // counters.hits is wider in the target: that table goes through a file (and its values are read there).
    await target.query(SCHEMA.replace('hits int not null', 'hits bigint not null'));
    const result = await migrate({
      dbUrl: sourceUrl,
      targetUrl,
      jobs: 2,
      tempDir: await tempDir('direct-work'),
    });
    expect(result.failures).toEqual([]);
    expect(result.complete).toBe(true);
    expect(methods(result)).toEqual({ parents: 'direct', children: 'direct', counters: 'batch' });
    expect(result.steps.find((s) => s.step === 'data')?.detail).toBe(
      '1 tables exported, 2 copied directly, 3 loaded',
    );
    expect(result.import?.rowsLoaded).toBe(23_500);
    // Checksums on every side given: source and target for the direct tables, and the file for the other.
    const verified = result.verify?.mode === 'checksums' ? result.verify.result : null;
    expect(verified?.ok).toBe(true);
    const sides = Object.fromEntries(verified!.tables.map((t) => [t.name, Object.keys(t.sides).sort()]));
    expect(sides).toEqual({
      parents: ['source', 'target'],
      children: ['source', 'target'],
      counters: ['files', 'source', 'target'],
    });
    expect(verified!.tables.find((t) => t.name === 'children')?.expectedRows).toBe(20_000);
    await expectSameTables(source, target, TABLES);
    await target.end();
  });

  it(
    'a source connection that stalls mid-COPY fails within --io-timeout; the retry copies the table once',
    async () => {
      const targetUrl = await createDatabase('direct_stall');
      const target = await connectTo(targetUrl);
      await target.query(SCHEMA);
      const proxy = await FaultProxy.start(sourceUrl);
      try {
        // Connection 0 holds the snapshot; a reader of the direct copies stalls once it has read 200 kB.
        proxy.stall({ direction: 'toClient', afterBytes: 200_000, where: (c) => c.index > 0 && c.sawCopy });
        const notes: string[] = [];
        const result = await migrate({
          dbUrl: proxy.url(sourceUrl),
          targetUrl,
          jobs: 2,
          ioTimeout: 2,
          retries: 2,
          verify: 'counts',
          tempDir: await tempDir('direct-stall-work'),
          onEvent: (e: MigrateEvent) => {
            if (e.type === 'import' && e.event.type === 'note') notes.push(e.event.message);
          },
        });
        expect(proxy.log.join('; ')).toMatch(/stalled toClient/);
        expect(result.failures).toEqual([]);
        expect(methods(result).children).toBe('direct');
        expect(notes.join('\n'), notes.join('\n')).toMatch(
          /public\.(parents|children): no data from the source database .* for 2 s \(--io-timeout\).*; retrying \(1 of 2\)/,
        );
        await expectSameTables(source, target, TABLES);
        const loaded = await target.query(
          `select "table", count(*)::int as n, sum(rows)::int as rows from supamigrate.import_progress group by 1 order by 1`,
        );
        expect(loaded.rows).toEqual([
          { table: 'children', n: 1, rows: 20_000 },
          { table: 'counters', n: 1, rows: 500 },
          { table: 'parents', n: 1, rows: 3_000 },
        ]);
      } finally {
        await proxy.close();
        await target.end();
      }
    },
    HANG,
  );

  it(
    'the target connection cut mid-COPY rolls the table back; the retry copies it once',
    async () => {
      const targetUrl = await createDatabase('direct_cut');
      const target = await connectTo(targetUrl);
      await target.query(SCHEMA);
      const proxy = await FaultProxy.start(targetUrl);
      try {
        proxy.stall({ direction: 'toServer', afterBytes: 150_000, where: (c) => c.sawCopy });
        const result = await migrate({
          dbUrl: sourceUrl,
          targetUrl: proxy.url(targetUrl),
          jobs: 1,
          ioTimeout: 2,
          retries: 1,
          tempDir: await tempDir('direct-cut-work'),
        });
        expect(proxy.log.join('; ')).toMatch(/stalled toServer/);
        expect(result.failures).toEqual([]);
        expect(result.complete).toBe(true);
        await expectSameTables(source, target, TABLES);
      } finally {
        await proxy.close();
        await target.end();
      }
    },
    HANG,
  );
});

describe('migrate: types and settings that differ between the two databases', () => {
  it('refuses a type of the same name defined otherwise in the target, naming the column', async () => {
    const types = `create type pair as (x int, y int); create domain amount as float8;
      create table uses (id int primary key, p pair, ps pair[], a amount);`;
    const sourceUrl = await createDatabase('types_src');
    const targetUrl = await createDatabase('types_tgt');
    const source = await connectTo(sourceUrl);
    await source.query(`${types} insert into uses values (1, '(1,2)', '{"(3,4)"}', 0.1);`);
    const target = await connectTo(targetUrl);
    await target.query(types.replace('(x int, y int)', '(y int, x int)').replace('as float8', 'as float4'));
    const refused = await migrate({ dbUrl: sourceUrl, targetUrl, tempDir: await tempDir('types-work') }).then(
      () => null,
      (err: Error & { problems?: string[] }) => err.problems ?? [err.message],
    );
    expect(refused).toEqual([
      expect.stringMatching(
        /^type public\.pair \(column public\.uses\.p\) is not the same type in the target: public\.pair \{x integer, y integer\} .* in the source, public\.pair \{y integer, x integer\} .* in the target; its values would be read there as other values/,
      ),
      expect.stringMatching(/^type public\.pair\[\] \(column public\.uses\.ps\) is not the same type/),
      expect.stringMatching(
        /^type public\.amount \(column public\.uses\.a\) is not the same type in the target: public\.amount \{double precision\}/,
      ),
    ]);
    expect((await target.query('select count(*)::int as n from uses')).rows[0].n).toBe(0);
    await source.end();
    await target.end();
  });

  it('a domain with a NOT VALID check is created in an empty target, the check not valid there either', async () => {
    const sourceUrl = await createDatabase('notvalid_src');
    const targetUrl = await createDatabase('notvalid_tgt');
    const source = await connectTo(sourceUrl);
    await source.query(`create domain positive as int; create table n (id int primary key, v positive);
      insert into n values (1, 5); alter domain positive add constraint positive_check check (value > 0) not valid;`);
    const result = await migrate({ dbUrl: sourceUrl, targetUrl, tempDir: await tempDir('notvalid-work') });
    expect(result.failures).toEqual([]);
    expect(result.complete).toBe(true);
    const target = await connectTo(targetUrl);
    expect(
      (await target.query(`select convalidated from pg_constraint where conname = 'positive_check'`)).rows,
    ).toEqual([{ convalidated: false }]);
    expect((await target.query('select v from n')).rows).toEqual([{ v: 5 }]);
    await source.end();
    await target.end();
  });

  it('a LATIN1 source into a UTF8 target: the text arrives as it was, and verify agrees', async () => {
    const sourceUrl = await createDatabase(
      'latin1_src',
      `ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
    );
    const targetUrl = await createDatabase('latin1_tgt');
    const source = await connectTo(sourceUrl);
    await source.query(`create table words (id int primary key, w text, ws text[]);
      insert into words values (1, 'café ÿ ½', '{é,"ü ö"}'), (2, E'tab\\there', null);`);
    const result = await migrate({ dbUrl: sourceUrl, targetUrl, tempDir: await tempDir('latin1-work') });
    expect(result.failures).toEqual([]);
    expect(result.complete).toBe(true);
    expect(result.verify?.result.ok).toBe(true);
    const target = await connectTo(targetUrl);
    expect((await target.query('select w, ws::text from words order by id')).rows).toEqual([
      { w: 'café ÿ ½', ws: '{é,"ü ö"}' },
      { w: 'tab\there', ws: null },
    ]);
    await source.end();
    await target.end();
  });

  it('reg* values and NULL array elements arrive as they were, whatever the target database sets', async () => {
    const ddl = `create schema b; create table public.foo (i int); create table b.foo (i int);
      create table r (id int primary key, rc regclass, rt regtype, ta text[]);`;
    const sourceUrl = await createDatabase('settings_src');
    const targetUrl = await createDatabase('settings_tgt');
    const source = await connectTo(sourceUrl);
    await source.query(
      `${ddl} insert into r values (1, 'public.foo', 'integer', '{NULL,x,"NULL"}'), (2, 'b.foo', 'b.foo', null);`,
    );
    const target = await connectTo(targetUrl);
    await target.query(ddl);
    const name = new URL(targetUrl).pathname.slice(1);
    await target.query(
      `alter database "${name}" set search_path = b, public; alter database "${name}" set array_nulls = off`,
    );
    const result = await migrate({
      dbUrl: sourceUrl,
      targetUrl,
      schemas: ['public', 'b'],
      tempDir: await tempDir('settings-work'),
    });
    expect(result.failures).toEqual([]);
    expect(methods(result).r).toBe('direct');
    const read = `set search_path = ''; select id, rc::text, rt::text, ta::text, ta[1] is null as first_null from public.r order by id`;
    const rows = async (c: pg.Client) => ((await c.query(read)) as unknown as pg.QueryResult[])[1]!.rows;
    expect(await rows(target)).toEqual(await rows(source));
    expect((await rows(target))[0]).toEqual({
      id: 1,
      rc: 'public.foo',
      rt: 'integer',
      ta: '{NULL,x,"NULL"}',
      first_null: true,
    });
    await source.end();
    await target.end();
  });
});

describe('migrate: the source snapshot lost during the direct copies', () => {
  it(
    'the tables not copied fail with migrate’s advice; --resume copies them in a new snapshot',
    async () => {
      const sourceUrl = await createDatabase('direct_lost_src');
      const source = await connectTo(sourceUrl);
      await source.query(
        SCHEMA +
          DATA +
          `insert into children select i, 1, null, repeat('x', 400) from generate_series(20001, 120000) i;`,
      );
      const targetUrl = await createDatabase('direct_lost_tgt');
      const target = await connectTo(targetUrl);
      await target.query(SCHEMA);
      const options = {
        dbUrl: sourceUrl,
        targetUrl,
        jobs: 1,
        retries: 1,
        tempDir: await tempDir('direct-lost-work'),
      };
      const running = migrate(options);
      // Once children's copy runs: every source session ends (the snapshot's holder and the reader).
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { rows } = await target.query(
          `select count(*)::int as n from pg_stat_activity where query like 'COPY "public"."children"%' and state = 'active'`,
        );
        if (rows[0].n > 0) break;
        if (Date.now() > deadline) throw new Error('the copy of children never began');
        await new Promise((r) => setTimeout(r, 10));
      }
      await source.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
      );
      const first = await running;
      expect(first.complete).toBe(false);
      expect(first.failures.join('\n')).toMatch(
        /load of public\.children: .*the source snapshot was lost .*run the same migrate with --resume to copy the rest in a new snapshot/,
      );
      expect((await target.query('select count(*)::int as n from children')).rows[0].n).toBe(0);
      const resumed = await migrate({ ...options, resume: true });
      expect(resumed.failures).toEqual([]);
      expect(resumed.complete).toBe(true);
      await expectSameTables(source, target, TABLES);
      await source.end();
      await target.end();
    },
    HANG,
  );
});

describe('verify of tables copied directly (no file)', () => {
  it('compares the source with the target, finds a changed row, and needs both databases', async () => {
    // Two databases with the same rows (the data is deterministic): as after a direct copy.
    const [sourceUrl, targetUrl] = [
      await createDatabase('direct_verify_src'),
      await createDatabase('direct_verify_tgt'),
    ];
    for (const url of [sourceUrl, targetUrl]) {
      const setup = await connectTo(url);
      await setup.query(SCHEMA + DATA);
      await setup.end();
    }
    const dir = await tempDir('direct-verify');
    const snapshot = await openSharedSnapshot(sourceUrl);
    try {
      const exported = await exportDatabase({
        dbUrl: sourceUrl,
        outputDir: dir,
        skipAuth: true,
        snapshot,
        direct: (t) => t.name !== 'counters',
      });
      expect(
        Object.fromEntries(exported.manifest!.tables.map((t) => [t.name, `${t.method} ${t.state}`])),
      ).toEqual({ parents: 'direct pending', children: 'direct pending', counters: 'batch complete' });
    } finally {
      await snapshot.close();
    }
    const same = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    expect(same.ok).toBe(true);
    expect(same.tables.find((t) => t.name === 'children')?.notes.join(' ')).toMatch(/copied directly/);

    const target = await connectTo(targetUrl);
    await target.query(`update children set note = 'changed' where id = 77`);
    await target.end();
    const changed = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    expect(changed.ok).toBe(false);
    const children = changed.tables.find((t) => t.name === 'children')!;
    expect(children.problems).toEqual(['source and target hold different data (20000 rows each)']);
    expect(children.examples.map((e) => [e.key, e.between])).toEqual([['[77]', 'source/target']]);

    const filesOnly = await verify({ inputDir: dir });
    expect(filesOnly.ok).toBe(false);
    expect(filesOnly.tables.find((t) => t.name === 'parents')?.problems.join(' ')).toMatch(
      /copied directly by migrate, with no file: give both --db-url and --target-url/,
    );
  });
});
