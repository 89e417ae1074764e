import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportQuery } from '../../src/codec/row-sql.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { RowFramer } from '../../src/format/file-layout.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

/**
 * Exports one table of `url` (the client builds the JSON from COPY text), requires the bytes the server's
 * own expressions give for every row (src/codec/row-sql.ts, the reference), and returns its rows as
 * parsed by JSON.parse, plus the file text.
 */
async function exportRows(
  url: string,
  table: string,
): Promise<{ rows: Record<string, unknown>[]; text: string }> {
  const dir = await tempDir('types');
  const result = await exportDatabase({
    dbUrl: url,
    outputDir: dir,
    tables: [table],
    skipAuth: true,
    force: true,
    jobs: 1,
  });
  expect(result.failures).toEqual([]);
  const entry = result.manifest!.tables[0]!;
  const text = await readFile(join(dir, entry.file!), 'utf8');
  const client = await connectTo(url);
  try {
    const sql = exportQuery({
      schema: entry.schema,
      name: entry.name,
      kind: 'table',
      columns: entry.columns,
    });
    const { rows } = await client.query<[string]>({ text: sql, rowMode: 'array' });
    const framer = new RowFramer('json');
    const reference = [framer.start(), ...rows.flatMap(([json]) => [framer.beforeRow(), json]), framer.end()];
    expect(text, 'the client-built file equals the server-built rows').toBe(reference.join(''));
  } finally {
    await client.end();
  }
  return { rows: JSON.parse(text) as Record<string, unknown>[], text };
}

describe('type rules', () => {
  let url: string;
  let client: pg.Client;

  beforeAll(async () => {
    url = await createDatabase('types');
    client = await connectTo(url);
    await client.query(`
      create type "Mood" as enum ('ok', 'needs attention', 'Cri"tical!');
      create type pair as (x int, label text);
      create domain pct as numeric(5,2) check (value between 0 and 100);
      create table hostile (
        id int primary key, i2 int2, i4 int4, i8 int8, o oid, n numeric, p pct, m money, f4 real, f8 float8,
        b bool, tz timestamptz, ts timestamp, d date, t time, tt timetz, iv interval, j json, jb jsonb,
        by bytea, u uuid, ip inet, e "Mood", c pair, r int4range, tr tstzrange, bits bit(4), x xml,
        ia int[], na numeric[], i8a int8[], tza timestamptz[], ja jsonb[], ta text[], ba bytea[], ma money[],
        ea "Mood"[], "Sp ace" text, "select" int, "Quo""te" text);
      insert into hostile values
       (1, -32768, 2147483647, 9223372036854775807, 4294967295, 123456789012345678901234567890.123456789012345, 99.99,
        -92233720368547758.08, 3.4028235e38, 4.9e-324, true, '2025-01-23 16:51:17.123456+00', '2025-01-23 16:51:17.5',
        '2025-01-23', '23:59:59.999999', '12:00+05:30', '1 year 2 mons -3 days 04:05:06.789',
        '{"a":1,"a":2,  "n": 1.000000000000000000001}', '{"big": 12345678901234567890.123456789, "e": 1e400}',
        '\\x00010203feff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', 'needs attention', '(1,"a ""b"" c")',
        '[1,10)', '[2025-01-01 00:00+00,infinity)', B'1010', '<a>x &amp; y</a>',
        '{{1,NULL,3},{4,5,6}}', '{1.10,NaN,Infinity,NULL}', '{9223372036854775807,-1}',
        '{"2025-01-23 16:51:17.123456+00","0044-03-15 10:00:00+00 BC",NULL,infinity}', '{"{\\"k\\": 1.50}",NULL}',
        '{"with \\"quote\\"","back\\\\slash",NULL,"NULL",""}', '{"\\\\x00ff"}', '{1.5,NULL}', '{"Cri\\"tical!",ok}',
        'unicode é 🎉 \u2028 line', 1, E'tab\\there\\nnewline'),
       (2, null, null, -9223372036854775808, 0, 'NaN', 0, 0, 'NaN', '-0', false, 'infinity', '-infinity',
        '0044-03-15 BC', '00:00', null, '-178000000 years', '[]', 'null', '\\x', null, '::1', 'Cri"tical!', '(,)',
        'empty', 'empty', B'0000', null, '[0:1]={7,8}', '{}', null, '{}', null, '{}', null, null, null, '', null, ''),
       (3, null, null, null, null, 'Infinity', null, null, 'Infinity', '-Infinity', null, '0044-03-15 10:00:00.5+00 BC',
        '20250-01-01 00:00:00', '5874897-12-31', null, null, null, '  {"spaced" : true}  ', '"str"', null, null, null,
        null, null, null, null, null, null, '{{{1}}}', '{-Infinity}', null, null, null, null, null, null, null, null, null, null),
       (4, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    `);
  });

  it('writes every type by its rule', async () => {
    const { rows, text } = await exportRows(url, 'hostile');
    const [r1, r2, r3] = [
      rows.find((r) => r.id === 1)!,
      rows.find((r) => r.id === 2)!,
      rows.find((r) => r.id === 3)!,
    ];
    expect(r1).toMatchObject({
      i2: -32768,
      i4: 2147483647,
      i8: '9223372036854775807',
      o: 4294967295,
      n: '123456789012345678901234567890.123456789012345',
      p: '99.99',
      m: '-92233720368547758.08',
      f4: 3.4028235e38,
      f8: 5e-324,
      b: true,
      tz: '2025-01-23T16:51:17.123456Z',
      ts: '2025-01-23T16:51:17.5',
      d: '2025-01-23',
      t: '23:59:59.999999',
      tt: '12:00:00+05:30',
      iv: '1 year 2 mons -3 days +04:05:06.789',
      by: '\\x00010203feff',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      ip: '192.168.0.1/24',
      e: 'needs attention',
      c: '(1,"a ""b"" c")',
      r: '[1,10)',
      tr: '["2025-01-01 00:00:00+00",infinity)',
      bits: '1010',
      x: '<a>x &amp; y</a>',
      ia: [
        [1, null, 3],
        [4, 5, 6],
      ],
      na: ['1.10', 'NaN', 'Infinity', null],
      i8a: ['9223372036854775807', '-1'],
      tza: ['2025-01-23T16:51:17.123456Z', '0044-03-15T10:00:00Z BC', null, 'infinity'],
      ja: ['{"k": 1.50}', null],
      ta: ['with "quote"', 'back\\slash', null, 'NULL', ''],
      ba: ['\\x00ff'],
      ma: ['1.50', null],
      ea: ['Cri"tical!', 'ok'],
      'Sp ace': 'unicode é 🎉 \u2028 line',
      select: 1,
      'Quo"te': 'tab\there\nnewline',
    });
    // json keeps its text byte for byte (duplicate keys, spacing, digits); jsonb its exact numbers.
    expect(text).toContain('"j":{"a":1,"a":2,  "n": 1.000000000000000000001}');
    expect(text).toContain('"big": 12345678901234567890.123456789}');
    expect(text).toContain('"ja":["{\\"k\\": 1.50}",null]');
    expect(r2).toMatchObject({
      i8: '-9223372036854775808',
      n: 'NaN',
      f4: 'NaN',
      b: false,
      tz: 'infinity',
      ts: '-infinity',
      d: '0044-03-15 BC',
      iv: '-178000000 years',
      j: [],
      jb: null,
      by: '\\x',
      e: 'Cri"tical!',
      c: '(,)',
      r: 'empty',
      ia: '[0:1]={7,8}',
      na: [],
      tza: [],
      'Sp ace': '',
      'Quo"te': '',
    });
    expect(text).toMatch(/"id":2,.*"f8":-0,/);
    expect(r3).toMatchObject({
      n: 'Infinity',
      f4: 'Infinity',
      f8: '-Infinity',
      tz: '0044-03-15T10:00:00.5Z BC',
      ts: '20250-01-01T00:00:00',
      d: '5874897-12-31',
      jb: 'str',
      ia: [[[1]]],
      na: ['-Infinity'],
    });
    expect(text).toContain('"j":  {"spaced" : true}  ,');
    expect(r2.jb).toBeNull();
    // SQL NULL in json and jsonb columns leaves the key out, as `null` is a JSON value there.
    const r4 = rows.find((r) => r.id === 4)!;
    expect(Object.keys(r4)).not.toContain('j');
    expect(Object.keys(r4)).not.toContain('jb');
    expect(r4.ja).toBeNull();
    expect(text).toContain('{"id":4,"i2":null,');
    expect(r2.tt).toBeNull();
  });

  it('every value read back by PostgreSQL from its exported form equals the original', async () => {
    // The oracle is PostgreSQL itself: each exported value, cast back to the column's type, must be
    // IS NOT DISTINCT FROM the stored one. (This is what the importer relies on.)
    const { text } = await exportRows(url, 'hostile');
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => l.replace(/,$/, ''));
    const columns = (
      await client.query<{ name: string; type: string }>(
        `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = 'hostile'::regclass and attnum > 0 and not attisdropped and attname not in ('j', 'jb', 'ja', 'ia', 'na', 'i8a', 'tza', 'ta', 'ba', 'ma', 'ea')`,
      )
    ).rows;
    for (const line of lines) {
      for (const col of columns) {
        const { rows } = await client.query<{ same: boolean }>(
          `select (($1::json ->> $2)::${col.type})::text is not distinct from h.${client.escapeIdentifier(col.name)}::text as same
             from hostile h where h.id = ($1::json ->> 'id')::int`,
          [line, col.name],
        );
        expect(rows[0]?.same, `${col.name} in ${line.slice(0, 40)}`).toBe(true);
      }
    }
  });

  it('round-trips generated numbers, floats, timestamps, text and jsonb exactly (property)', async () => {
    await client.query(
      `create table prop (id int primary key, n numeric, f float8, f4 real, ts timestamptz, t text, jb jsonb, i8 int8)`,
    );
    const row = fc.record({
      n: fc.oneof(
        fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
        fc
          .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.nat({ max: 10 ** 9 }))
          .map(([a, b]) => `${a}.${String(b).padStart(9, '0')}`),
        fc.constantFrom('NaN', 'Infinity', '-Infinity', '0.000000000000000000000001'),
      ),
      f: fc.double(),
      f4: fc.float(),
      ts: fc.bigInt({ min: -210866803200000000n, max: 9214646400000000000n / 1000n }),
      t: fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, '')),
      jb: fc.jsonValue().map((v) => JSON.stringify(v)),
      i8: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 20 }), async (rows) => {
        await client.query('truncate prop');
        for (const [i, r] of rows.entries()) {
          const f = Number.isNaN(r.f)
            ? 'NaN'
            : r.f === Infinity
              ? 'Infinity'
              : r.f === -Infinity
                ? '-Infinity'
                : Object.is(r.f, -0)
                  ? '-0'
                  : String(r.f);
          const f4 = Number.isNaN(r.f4)
            ? 'NaN'
            : r.f4 === Infinity
              ? 'Infinity'
              : r.f4 === -Infinity
                ? '-Infinity'
                : Object.is(r.f4, -0)
                  ? '-0'
                  : String(r.f4);
          await client.query(
            `insert into prop values ($1, $2::numeric, $3::float8, $4::real, to_timestamp(0) + $5::int8 * interval '1 microsecond', $6, $7::jsonb, $8::int8)`,
            [i, r.n, f, f4, r.ts.toString(), r.t, r.jb, r.i8],
          );
        }
        const { text, rows: exported } = await exportRows(url, 'prop');
        const lines = text
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => l.replace(/,$/, ''));
        expect(exported).toHaveLength(rows.length);
        for (const line of lines) {
          const { rows: check } = await client.query(
            `select ($1::json->>'n')::numeric is not distinct from p.n and ($1::json->>'n') = p.n::text as n,
                    ($1::json->>'f')::float8::text = p.f::text as f,
                    ($1::json->>'f4')::real::text = p.f4::text as f4,
                    ($1::json->>'ts')::timestamptz = p.ts and ($1::json->>'ts') ~ '^\\d{4,}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z( BC)?$' as ts,
                    ($1::json->>'t') = p.t as t,
                    ($1::json->'jb')::jsonb = p.jb and ($1::json->'jb')::text = p.jb::text as jb,
                    ($1::json->>'i8') = p.i8::text as i8
               from prop p where p.id = ($1::json->>'id')::int`,
            [line],
          );
          expect(check[0]).toEqual({ n: true, f: true, f4: true, ts: true, t: true, jb: true, i8: true });
        }
      }),
      { numRuns: 25 },
    );
  });

  it('builds the same bytes on the client as on the server for arrays, json, bytea and dates (property)', async () => {
    await client.query(`create table prop_forms (id int primary key, ta text[], tza timestamptz[], fa float8[],
      ia int4[], bo bool[], j json, jb jsonb[], by bytea, d date, ts timestamp, c char(4), ip inet, v varchar(9))`);
    const tricky = [
      'a',
      '"',
      '\\',
      '\n',
      '\t',
      '\b',
      '\f',
      '\r',
      '\v',
      '\x01',
      '\x1f',
      '\x7f',
      '{',
      '}',
      ',',
      ' ',
      'é',
      '🎉',
      '\u2028',
      'N',
    ];
    const text = fc.oneof(
      fc.string({ unit: 'binary' }).map((x) => x.replace(/\0/g, '')),
      fc.array(fc.constantFrom(...tricky), { maxLength: 12 }).map((parts) => parts.join('')),
    );
    const micros = fc.bigInt({ min: -210866803200000000n, max: 9214646400000000000n / 1000n });
    const row = fc.record({
      ta: fc.array(
        fc.option(fc.oneof(text, fc.constantFrom('NULL', '', '{a,b}', '"q"', 'back\\slash', ' sp '))),
      ),
      tza: fc.array(fc.option(micros)),
      fa: fc.array(fc.option(fc.double())),
      ia: fc.array(fc.option(fc.integer())),
      bo: fc.array(fc.option(fc.boolean())),
      j: fc.jsonValue().map((v) => ` ${JSON.stringify(v, null, 1)}\t`),
      jb: fc.array(fc.option(fc.jsonValue().map((v) => JSON.stringify(v)))),
      by: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      day: fc.integer({ min: -2451545, max: 2400000 }),
      c: fc.string({ maxLength: 4 }),
      v: fc.option(text.map((x) => x.slice(0, 9))),
    });
    const floatText = (f: number | null) =>
      f === null
        ? null
        : Number.isNaN(f)
          ? 'NaN'
          : Object.is(f, -0)
            ? '-0'
            : String(f).replace('Infinity', 'Infinity');
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 8 }), async (rows) => {
        await client.query('truncate prop_forms');
        for (const [i, r] of rows.entries()) {
          await client.query(
            `insert into prop_forms values ($1, $2::text[],
               array(select to_timestamp(0) + x * interval '1 microsecond' from unnest($3::int8[]) with ordinality u(x, n) order by n),
               $4::float8[], $5::int4[], $6::bool[], $7::json, $8::jsonb[], $9::bytea, date '2000-01-01' + $10::int,
               timestamp '2000-01-01' + $10::int * interval '1 hour', $11, '10.0.0.1'::inet, $12)`,
            [
              i,
              r.ta,
              r.tza.map((x) => x?.toString() ?? null),
              r.fa.map(floatText),
              r.ia,
              r.bo,
              r.j,
              r.jb,
              r.by,
              r.day,
              r.c,
              r.v,
            ],
          );
        }
        // exportRows requires the client's bytes (stream) to equal the server's (batch).
        const { rows: exported } = await exportRows(url, 'prop_forms');
        expect(exported).toHaveLength(rows.length);
      }),
      { numRuns: 30 },
    );
  });

  it('builds rows of several MB exactly: escapes, array elements and quotes beyond the row bound of small rows', async () => {
    await client.query(
      `create table big_rows (id int, t text, b bytea, flags bool[], words text[], j jsonb)`,
    );
    await client.query(`insert into big_rows
      select 1, repeat(E'\\x01"\\\\,{}\\n\\t;é', 300000), decode(repeat('00ff22', 400000), 'hex'),
             array_fill(true, array[400000]), array_fill(''::text, array[200000]),
             (select jsonb_agg(g) from generate_series(1, 200000) g)
      union all select 2, null, null, '{}', '{NULL}', 'null'`);
    const { rows } = await exportRows(url, 'big_rows');
    expect(rows).toHaveLength(2);
    expect((rows[0]!.flags as boolean[]).length).toBe(400000);
  });
});
