import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { EncodedColumn } from '../../src/codec/encode-column.js';
import type { ValueEncoding } from '../../src/codec/encodings.js';
import { RowFormatError } from '../../src/errors.js';
import { JsonToCopyText, type DecoderColumn } from '../../src/format/json-to-copy.js';

const col = (name: string, encoding: ValueEncoding, extra: Partial<EncodedColumn> = {}): EncodedColumn => ({
  name,
  type: encoding,
  nullable: true,
  generated: null,
  identity: null,
  hasDefault: false,
  encoding,
  ...extra,
});

const rewrite = (id: string) => (id === 'u1' ? 'U1' : id === 'u2' ? 'U2' : id);

/** One column of every encoding, a hostile name, a generated column and user-id rewrites. */
const COLUMNS: DecoderColumn[] = [
  { column: col('id', 'number'), load: true },
  { column: col('big', 'bigint'), load: true },
  { column: col('num', 'numeric'), load: true },
  { column: col('m', 'money'), load: true },
  { column: col('f', 'float'), load: true },
  { column: col('b', 'boolean'), load: true },
  { column: col('tz', 'timestamptz'), load: true },
  { column: col('ts', 'timestamp'), load: true },
  { column: col('d', 'date'), load: true },
  { column: col('j', 'json'), load: true },
  { column: col('jb', 'jsonb'), load: true },
  { column: col('by', 'bytea'), load: true },
  { column: col('t', 'text'), load: true },
  { column: col('Quo"te', 'text'), load: true },
  { column: col('ia', 'array', { elementEncoding: 'number' }), load: true },
  { column: col('ta', 'array', { elementEncoding: 'text' }), load: true },
  { column: col('boxes', 'array', { elementEncoding: 'text', elementDelimiter: ';' }), load: true },
  { column: col('gen', 'number', { generated: 'stored' }), load: false },
  { column: col('uid', 'text'), load: true, rewrite },
  { column: col('uids', 'array', { elementEncoding: 'text' }), load: true, rewrite },
];

/**
 * Rows as the export writes them (see test/export/type-rules.test.ts): json keeps its text and spacing,
 * SQL NULL in json and jsonb leaves the key out.
 */
const ROWS = [
  String.raw`{"id":1,"big":"9223372036854775807","num":"123456789012345678901234567890.123","m":"-92233720368547758.08","f":5e-324,"b":true,"tz":"2025-01-23T16:51:17.123456Z","ts":"2025-01-23T16:51:17.5","d":"2025-01-23","j":  {"a":1,"a":2,  "n": 1.000000000000000000001}  ,"jb":{"s": "\u0001 ctl, \u00e9", "k": [1, 2]},"by":"\\x00010203feff","t":"tab\there\nnewline \"q\" \\ é 🎉 \u2028","Quo\"te":"] } , [ {","ia":[[1,null,3],[4,5,6]],"ta":["with \"quote\"","back\\slash",null,"NULL",""],"boxes":["(1,1),(0,0)","(3,3),(2,2)"],"gen":2,"uid":"u1","uids":["u1","u2",null]}`,
  String.raw`{"id":2,"big":null,"num":"NaN","m":null,"f":"-Infinity","b":false,"tz":"infinity","ts":null,"d":"0044-03-15 BC","jb":null,"by":"\\x","t":"","Quo\"te":null,"ia":"[0:1]={7,8}","ta":[],"boxes":null,"gen":4,"uid":null,"uids":[]}`,
  '{"id":3,"big":"-1","num":"-0.000000000000000000001","m":"0.00","f":-0,"b":null,"tz":null,"ts":"-infinity","d":null,"j":\t[1,\n 2]\r\n,"by":null,"t":"\\u0000 is not here, \\\\N is","Quo\\"te":"x","ia":null,"ta":["{}","a,b"],"boxes":[],"gen":6,"uid":"u3","uids":null}',
];

const FILES = {
  json: `[\n${ROWS.join(',\n')}\n]\n`,
  ndjson: `${ROWS.join('\n')}\n`,
};

/** The COPY text of `chunks` and the row count, or the error. */
async function decode(format: 'json' | 'ndjson', chunks: readonly Buffer[], columns = COLUMNS) {
  const decoder = new JsonToCopyText(columns, format);
  const out: Buffer[] = [];
  try {
    await pipeline(
      Readable.from(chunks, { objectMode: false }),
      decoder,
      new Writable({ write: (chunk: Buffer, _enc, done) => (out.push(chunk), done()) }),
    );
  } catch (err) {
    if (err instanceof RowFormatError) return `${err.row}: ${err.message}`;
    throw err;
  }
  return { rows: decoder.rowCount, text: Buffer.concat(out).toString() };
}

describe('JsonToCopyText', () => {
  it('writes each row as COPY text, with the same output for json and ndjson', async () => {
    const json = await decode('json', [Buffer.from(FILES.json)]);
    expect(json).toMatchObject({ rows: 3 });
    const lines = (json as { text: string }).text.split('\n');
    expect(lines).toHaveLength(4);
    const first = lines[0]!.split('\t');
    // json keeps its text and spacing; jsonb its text; generated columns are read, not loaded.
    expect(first[9]).toBe('  {"a":1,"a":2,  "n": 1.000000000000000000001}  ');
    expect(first[10]).toBe('{"s": "\\\\u0001 ctl, \\\\u00e9", "k": [1, 2]}');
    expect(first).toHaveLength(COLUMNS.length - 1);
    expect(first.slice(-2)).toEqual(['U1', '{"U1","U2",NULL}']);
    expect(lines[1]!.split('\t')[9]).toBe('\\N');
    expect(lines[2]!.split('\t').slice(9, 11)).toEqual(['\\t[1,\\n 2]\\r\\n', '\\N']);
    expect(await decode('ndjson', [Buffer.from(FILES.ndjson)])).toEqual(json);
  });

  it.each(['json', 'ndjson'] as const)(
    'gives the same COPY text for %s split at every byte, and in 1-byte chunks',
    async (format) => {
      const b = Buffer.from(FILES[format]);
      const whole = await decode(format, [b]);
      for (let p = 0; p <= b.length; p++) {
        expect(await decode(format, [b.subarray(0, p), b.subarray(p)])).toEqual(whole);
      }
      expect(
        await decode(
          format,
          Array.from(b, (_, i) => b.subarray(i, i + 1)),
        ),
      ).toEqual(whole);
    },
  );

  it('refuses the json file truncated at every position with a RowFormatError', async () => {
    const b = Buffer.from(FILES.json);
    for (let p = 0; p < b.length - 1; p++) {
      expect(typeof (await decode('json', [b.subarray(0, p)])), `cut at ${p}`).toBe('string');
    }
  });

  it.each([
    [
      'a key out of place',
      ROWS[1]!.replace('"num"', '"nope"'),
      /^2: row 2: expected key "num" \(found "nope"\)/,
    ],
    ['a missing comma', ROWS[1]!.replace(',"num"', ' "num"'), /^2: row 2: expected a value for column "num"/],
    ['a key too many', ROWS[1]!.replace('"uids":[]', '"uids":[],"x":1'), /^2: row 2: more keys/],
    ['a value of the wrong shape', ROWS[1]!.replace('"num":"NaN"', '"num":{}'), /^2: row 2: column "num"/],
    ['no value', ROWS[1]!.replace('"num":"NaN"', '"num":'), /^2: row 2: column "num"/],
  ])('names the row of %s, however the file is split', async (_what, bad, message) => {
    const b = Buffer.from(`[\n${[ROWS[0], bad, ROWS[2]].join(',\n')}\n]\n`);
    for (let p = 0; p <= b.length; p += 7) {
      expect(await decode('json', [b.subarray(0, p), b.subarray(p)])).toMatch(message);
    }
  });
});
