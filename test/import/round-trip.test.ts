import fc from 'fast-check';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { expectSameTables } from '../support/compare.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

const WIDE_COLUMNS = 160;

/** DDL created in both databases: hostile names and every type the export rules name. */
const SCHEMA = `
  create extension if not exists hstore;
  create schema "My Schema";
  create type "My Schema"."Status ""quoted""" as enum ('a b', 'Ünïcode', 'it''s', '"');
  create type "My Schema".pair as (x int, label text, at timestamptz);
  create table "My Schema"."Order Items" (
    "select" int primary key, "Mixed Case" text, "quo""te" text, "from" "My Schema"."Status ""quoted""",
    p "My Schema".pair, tags "My Schema"."Status ""quoted"""[]
  );
  create table everything (
    id int generated always as identity primary key,
    j json, jb jsonb, by bytea, n numeric, m money, f4 real, f8 float8, d date, ts timestamp, tz timestamptz,
    ia int[], na numeric[], ta text[], ja jsonb[], tza timestamptz[], ba bool[],
    r int4range, mr int4multirange, h hstore, x xml, iv interval, bits varbit, c char(5), ip inet, pt point,
    doubled int generated always as (id * 2) stored
  );
  create table no_key (a int, b text);
  create table parted (id bigserial, day date not null, v text, primary key (id, day)) partition by range (day);
  create table parted_2024 partition of parted for values from ('2024-01-01') to ('2025-01-01');
  create table parted_other partition of parted default;
  create table wide (id int primary key, ${Array.from({ length: WIDE_COLUMNS }, (_, i) => `c${i} text`).join(', ')});
`;

const DATA = `
  insert into "My Schema"."Order Items" values
    (1, 'x', 'he said "hi"\\', 'a b', '(1,"a ""b""",2025-01-01T00:00:00Z)', '{"a b",Ünïcode,"it''s","\\""}'),
    (2, null, E'tab\\tnew\\nline\\r', '"', '(,,)', '{}'),
    (3, '', '', 'it''s', null, null);
  insert into everything (j, jb, by, n, m, f4, f8, d, ts, tz, ia, na, ta, ja, tza, ba, r, mr, h, x, iv, bits, c, ip, pt) values
    ('{"a":1,"a":2, "big": 1e999, "x":  [1,2]}', '{"n": 123456789012345678901234567890.000000000001, "s": "\\u0001 ctl, \\u00e9"}',
     (select string_agg(set_byte('\\x00'::bytea, 0, b), ''::bytea) from generate_series(0, 255) b),
     'NaN', '92233720368547758.07', 'NaN', '-Infinity', '4713-01-01 BC', '294276-12-31 23:59:59.999999', '0001-01-01 00:00:00+00 BC',
     '{{1,NULL},{NULL,4}}', '{{1.5,NaN},{Infinity,NULL}}', '{"NULL",NULL,"","{}","a,b"}', '{"{\\"k\\": [1, 2]}","null",NULL,"[1,2]"}',
     '{infinity,-infinity,NULL,"2000-02-29 12:00:00.000001+00"}', '{t,f,NULL}', '[1,5)', '{[1,3),[7,9)}',
     'a=>1, "b c"=>NULL, "q\\"t"=>"x\\\\y"', '<r a="1">t &lt; x</r>', '-1 year +2 mons -3 days 04:05:06.000007', B'10101',
     'ab', '2001:db8::1/64', '(1.5,-0)'),
    ('[]', '"string"', '\\x', '-0.000000000000000000001', '-92233720368547758.08', '-0', '1e-320', 'infinity', '-infinity', 'infinity',
     '[2:3]={1,2}', '{}', '{}', '{}', '{}', '{}', 'empty', '{}', '', '<e/>', '0', B'', '', '0.0.0.0', '(0,0)'),
    (null, 'null', null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
  insert into no_key values (1, 'dup'), (1, 'dup'), (null, null), (null, null);
  insert into parted (day, v) select date '2023-12-30' + i, 'v' || i from generate_series(0, 9) i;
  insert into wide (id, c0, c159) select i, 'first ' || i, 'last ' || i from generate_series(1, 20) i;
`;

describe('export → import round trip of hostile values and names', () => {
  let source: pg.Client;
  let target: pg.Client;
  let sourceUrl: string;
  let targetUrl: string;

  beforeAll(async () => {
    sourceUrl = await createDatabase('rt_src');
    targetUrl = await createDatabase('rt_tgt');
    source = await connectTo(sourceUrl);
    target = await connectTo(targetUrl);
    await source.query(SCHEMA);
    await target.query(SCHEMA);
    await source.query(DATA);
  });

  it.each(['json', 'ndjson'] as const)('is byte-exact in %s format, with parallel jobs', async (format) => {
    const dir = await tempDir(`rt-${format}`);
    const exported = await exportDatabase({
      dbUrl: sourceUrl,
      outputDir: dir,
      schemas: ['public', 'My Schema'],
      format,
      jobs: 2,
      skipAuth: true,
    });
    expect(exported.failures).toEqual([]);
    const imported = await importDatabase({ targetUrl, inputDir: dir, jobs: 2, truncate: true });
    expect(imported.failures).toEqual([]);
    const tables = exported.manifest!.tables;
    expect(tables.map((t) => t.name).sort()).toEqual([
      'Order Items',
      'everything',
      'no_key',
      'parted',
      'wide',
    ]);
    await expectSameTables(source, target, tables);
    // Rows of the partitioned table went through the parent into the right partitions.
    const partitions = await target.query(
      `select tableoid::regclass::text as p, count(*)::int as n from parted group by 1 order by 1`,
    );
    expect(partitions.rows).toEqual([
      { p: 'parted_2024', n: 8 },
      { p: 'parted_other', n: 2 },
    ]);
    // The generated column was computed by the target, identity values kept.
    expect(
      (await target.query('select array_agg(id order by id) as ids from everything')).rows[0].ids,
    ).toEqual([1, 2, 3]);
    const next = await target.query(`insert into everything (j) values ('{}') returning id`);
    expect(next.rows[0].id).toBeGreaterThan(3);
  });
});

describe('export → import round trip of generated rows (property)', () => {
  it('every generated value of every rule comes back byte for byte', async () => {
    const ddl = `create table gen (id int primary key, n numeric, f float8, r real, i8 int8, t text, tz timestamptz, ts timestamp,
                   d date, jb jsonb, j json, by bytea, ta text[], fa float8[], b bool, u uuid)`;
    const sourceUrl = await createDatabase('prop_src');
    const targetUrl = await createDatabase('prop_tgt');
    const source = await connectTo(sourceUrl);
    const target = await connectTo(targetUrl);
    await source.query(ddl);
    await target.query(ddl);
    const special = (x: number) =>
      Number.isNaN(x)
        ? 'NaN'
        : x === Infinity
          ? 'Infinity'
          : x === -Infinity
            ? '-Infinity'
            : Object.is(x, -0)
              ? '-0'
              : String(x);
    const text = fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, ''));
    const micros = fc.bigInt({ min: -210866803200000000n, max: 9214646400000000000n / 1000n });
    const row = fc.record({
      n: fc.oneof(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
        fc.constantFrom('NaN', 'Infinity', '-1.000000000000000000000000001'),
      ),
      f: fc.double().map(special),
      r: fc.float().map(special),
      i8: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
      t: fc.option(text),
      tz: micros.map(String),
      ts: micros.map(String),
      d: fc.integer({ min: -2451545, max: 2000000 }),
      jb: fc.option(fc.jsonValue().map((v) => JSON.stringify(v))),
      j: fc.option(fc.jsonValue().map((v) => JSON.stringify(v, null, 1))),
      by: fc.uint8Array({ maxLength: 40 }).map((a) => `\\x${Buffer.from(a).toString('hex')}`),
      ta: fc.array(fc.option(text), { maxLength: 5 }),
      fa: fc.array(fc.double().map(special), { maxLength: 4 }),
      b: fc.option(fc.boolean()),
      u: fc.uuid(),
    });
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 15 }), async (rows) => {
        round++;
        await source.query('truncate gen');
        for (const [i, r] of rows.entries()) {
          await source.query(
            `insert into gen values ($1, $2::numeric, $3::float8, $4::real, $5::int8, $6, to_timestamp(0) + $7::int8 * interval '1 microsecond',
               timestamp '1970-01-01' + $8::int8 * interval '1 microsecond', date '2000-01-01' + $9::int, $10::jsonb, $11::json, $12::bytea,
               $13::text[], $14::float8[], $15, $16::uuid)`,
            [i, r.n, r.f, r.r, r.i8, r.t, r.tz, r.ts, r.d, r.jb, r.j, r.by, r.ta, r.fa, r.b, r.u],
          );
        }
        const dir = await tempDir('prop');
        await exportDatabase({
          dbUrl: sourceUrl,
          outputDir: dir,
          skipAuth: true,
          force: true,
          jobs: 1,
          streamingThreshold: round % 2,
        });
        const result = await importDatabase({ targetUrl, inputDir: dir, truncate: true, jobs: 1 });
        expect(result.failures).toEqual([]);
        await expectSameTables(source, target, [{ schema: 'public', name: 'gen' }]);
      }),
      { numRuns: 30 },
    );
  });
});
