import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RowFormatError } from '../../src/errors.js';
import { forEachFileRow, RowReader, rowValuesText } from '../../src/format/row-reader.js';

type Format = 'json' | 'ndjson';

/** Rows with what makes scanning hard: nesting, escapes, multi-byte UTF-8, delimiters inside strings. */
const ROWS = [
  '{"id":1,"o":{"a":[1,{"b":[]}],"c":{}},"s":"x"}',
  String.raw`{"q":"he said \"hi\" \\ back\\","u":"\u00e9\ud83d\ude00\u0000"}`,
  String.raw`{"m":"héllo wörld 😀 ✓ 中文","k":"] } , [ { \" : \\","n":-1.5e-10,"t":true,"f":false,"z":null}`,
  '{"j": \n [1,\t\n 2] \r\n,"e":' + String.raw`"\\\""` + '}',
  '{}',
  String.raw`{"deep":[[[[{"a":[[]]}]]]],"bs":"\\\\\\\\","x":"\""}`,
];

/** Files in both formats and spacings, and files of no rows; with the rows each holds. */
const FILES: { name: string; format: Format; text: string; rows: string[] }[] = [
  { name: 'json', format: 'json', text: `[\n${ROWS.join(',\n')}\n]\n`, rows: ROWS },
  { name: 'compact json', format: 'json', text: `[${ROWS.join(',')}]`, rows: ROWS },
  { name: 'spaced json', format: 'json', text: ` \r\n[ ${ROWS.join(' ,\t')} ]\n\n`, rows: ROWS },
  { name: 'ndjson', format: 'ndjson', text: `${ROWS.join('\n')}\n`, rows: ROWS },
  { name: 'crlf ndjson', format: 'ndjson', text: `${ROWS.join('\r\n')}`, rows: ROWS },
  { name: 'empty json', format: 'json', text: '[\n]\n', rows: [] },
  { name: 'empty ndjson', format: 'ndjson', text: '', rows: [] },
  { name: 'blank ndjson', format: 'ndjson', text: '\n\n', rows: [] },
];

/** The rows read from `chunks` (as latin1, one char per byte), or the RowFormatError; any other error throws. */
function read(format: Format, chunks: readonly Buffer[]): string[] | RowFormatError {
  const reader = new RowReader(format, 'f');
  const rows: string[] = [];
  try {
    for (const chunk of chunks) {
      reader.parse(chunk, (buf, start, end, row) => {
        expect(row).toBe(rows.length + 1);
        rows.push(buf.toString('latin1', start, end));
      });
    }
    reader.end();
  } catch (err) {
    if (err instanceof RowFormatError) return err;
    throw err;
  }
  return rows;
}

const latin1 = (rows: readonly string[]) => rows.map((r) => Buffer.from(r).toString('latin1'));
const bytesOf = (b: Buffer) => Array.from(b, (_, i) => b.subarray(i, i + 1));
const splitAt = (b: Buffer, cuts: readonly number[]) => {
  const at = [0, ...[...cuts].sort((x, y) => x - y), b.length];
  return at.slice(1).map((end, i) => b.subarray(at[i], end));
};
/** What a read gives, comparable across chunkings: the rows, or the error's message and row. */
const outcome = (r: string[] | RowFormatError) =>
  r instanceof RowFormatError ? `${r.row}: ${r.message}` : r;

describe('RowReader', () => {
  it.each(FILES)('hands out the exact bytes of every row of $name', ({ format, text, rows }) => {
    const whole = read(format, [Buffer.from(text)]);
    expect(whole).toEqual(latin1(rows));
    for (const row of whole as string[]) JSON.parse(Buffer.from(row, 'latin1').toString());
  });

  it.each(FILES)('reads $name the same split at every byte, and in 1-byte chunks', ({ format, text }) => {
    const b = Buffer.from(text);
    const whole = read(format, [b]);
    for (let p = 0; p <= b.length; p++)
      expect(read(format, [b.subarray(0, p), b.subarray(p)])).toEqual(whole);
    expect(read(format, bytesOf(b))).toEqual(whole);
  });

  it('reads every file the same under random chunkings (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FILES),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 40 }),
        (file, cuts) => {
          const b = Buffer.from(file.text);
          const chunks = splitAt(
            b,
            cuts.map((c) => c % (b.length + 1)),
          );
          expect(read(file.format, chunks)).toEqual(latin1(file.rows));
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each(FILES.filter((f) => f.rows.length > 0))(
    'refuses $name truncated at every position, unless only whole rows or spacing are cut',
    ({ name, format, text, rows }) => {
      const b = Buffer.from(text);
      // ndjson may end after any whole row; json only once its ] is there.
      const sep = name.startsWith('crlf') ? '\r\n' : '\n';
      const valid = new Set(
        format === 'json' ? [text.trimEnd()] : rows.map((_, k) => rows.slice(0, k + 1).join(sep)).concat(''),
      );
      for (let p = 0; p < b.length; p++) {
        const prefix = b.subarray(0, p);
        const got = read(format, [prefix]);
        const ok = valid.has(prefix.toString().trimEnd());
        if (ok) expect(got).toEqual(latin1(rows).slice(0, (got as string[]).length));
        else expect(got, `cut at ${p}`).toBeInstanceOf(RowFormatError);
        expect(outcome(read(format, bytesOf(prefix)))).toEqual(outcome(got));
      }
    },
  );

  it('says where a truncated file ends', () => {
    expect(read('json', [Buffer.from('[\n{"a":1},\n{"b":"x')])).toMatchObject({
      message: 'f: ends inside row 2 (truncated?)',
      row: 2,
    });
    expect(read('json', [Buffer.from('[\n{"a":1},\n')])).toMatchObject({ row: 2 });
    expect(read('json', [Buffer.from('[\n{"a":1}\n')])).toMatchObject({
      message: 'f: ends after row 1 without the closing ] (truncated?)',
    });
    expect(read('json', [Buffer.from('')])).toMatchObject({ message: /empty/, row: 1 });
    expect(read('ndjson', [Buffer.from('{"a":1}\n{"b":')])).toMatchObject({ row: 2 });
  });

  it.each([
    ['json', '[\n{"a":1}\n{"b":2}\n]\n', 2, /expected , or \] after row 1/],
    ['json', '[\n{"a":1}\n]\nx', 2, /data after the closing \]/],
    ['json', '[\n{"a":1}\n]\n[\n]\n', 2, /data after the closing \]/],
    ['json', '[\n1\n]\n', 1, /row 1 is not an object/],
    ['json', '[\n"{}"\n]\n', 1, /row 1 is not an object/],
    ['json', '[\n{"a":1},\n"x"\n]\n', 2, /row 2 is not an object/],
    ['json', '[\n{"a":1},\n]\n', 2, /row 2 is not an object/],
    ['json', '[\n[{"a":1}]\n]\n', 1, /row 1 is not an object/],
    ['json', '{"a":1}', 1, /not a JSON array/],
    ['json', '[{"a":[1}]', 1, /row 1: \} does not close/],
    ['json', '[{"a":1}}]', 2, /expected , or \]/],
    ['ndjson', '1\n', 1, /row 1 is not an object/],
    ['ndjson', '{"a":1}\n"x"\n', 2, /row 2 is not an object/],
    ['ndjson', '{"a":1} {"b":2}\n', 2, /expected a line break after row 1/],
    ['ndjson', '{"a":1}\n[1]\n', 2, /row 2 is not an object/],
    ['ndjson', '{"a":1}\n]', 2, /row 2 is not an object/],
    ['ndjson', '{"a":{"b":1}\n', 1, /ends inside row 1/],
  ] as const)('refuses %s %j (row %i), however it is split', (format, text, row, message) => {
    const b = Buffer.from(text);
    for (let p = 0; p <= b.length; p++) {
      expect(read(format, [b.subarray(0, p), b.subarray(p)])).toMatchObject({ row, message });
    }
    expect(read(format, bytesOf(b))).toMatchObject({ row, message });
  });

  it('gives the same rows or the same RowFormatError whatever the chunking, on any input (property)', () => {
    // Inputs drawn from the bytes that matter to the scanner, and valid files with bytes changed.
    const structural = fc
      .array(fc.constantFrom(...'[]{}",:\\ \n\r1ae'.split(''), '"x"', '{"a":1}', ',\n', 'é'), {
        maxLength: 60,
      })
      .map((parts) => Buffer.from(parts.join('')));
    const mutated = fc
      .tuple(
        fc.constantFrom(...FILES.filter((f) => f.text.length > 0)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      )
      .map(([file, flips]) => {
        const b = Buffer.from(file.text);
        for (const [at, byte] of flips) b[at % b.length] = byte;
        return b;
      });
    fc.assert(
      fc.property(
        fc.oneof(structural, mutated),
        fc.constantFrom<Format>('json', 'ndjson'),
        fc.array(fc.nat(), { maxLength: 10 }),
        (b, format, cuts) => {
          const whole = outcome(read(format, [b]));
          expect(
            outcome(
              read(
                format,
                splitAt(
                  b,
                  cuts.map((c) => c % (b.length + 1)),
                ),
              ),
            ),
          ).toEqual(whole);
          expect(outcome(read(format, bytesOf(b)))).toEqual(whole);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['one 20 MB string', `"${'lorem ipsum é '.repeat(1_430_000)}"`],
    ['one 20 MB string of escapes', `"${String.raw`\\\\\\\"`.repeat(2_500_000)}"`],
    ['one 20 MB array', `[${'[1,{"a":"b"}],'.repeat(1_430_000)}0]`],
  ])('examines each byte of %s at most twice in 64 KiB chunks (linear time)', (_name, value) => {
    const b = Buffer.from(`[\n{"id":1,"v":${value}}\n]\n`);
    const reader = new RowReader('json');
    const rows: Buffer[] = [];
    for (let at = 0; at < b.length; at += 1 << 16) {
      reader.parse(b.subarray(at, at + (1 << 16)), (buf, start, end) => rows.push(buf.subarray(start, end)));
    }
    reader.end();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.equals(b.subarray(2, b.length - 3))).toBe(true);
    expect(reader.examined).toBeGreaterThanOrEqual(b.length - 4);
    expect(reader.examined).toBeLessThanOrEqual(2 * b.length);
  });

  it('examines each byte at most twice in 1-byte chunks too', () => {
    const b = Buffer.from(`[{"v":"${String.raw`a\\\"\\\\`.repeat(20_000)}"}]`);
    const reader = new RowReader('json');
    let got: Buffer | undefined;
    for (let at = 0; at < b.length; at++) reader.parse(b.subarray(at, at + 1), (buf) => (got = buf));
    reader.end();
    expect(got!.equals(b.subarray(1, b.length - 1))).toBe(true);
    expect(reader.examined).toBeLessThanOrEqual(2 * b.length);
  });
});

describe('forEachFileRow and rowValuesText', () => {
  const dir = mkdtempSync(join(tmpdir(), 'row-reader-'));

  it('visits every row of a file, and names the file when it is truncated', async () => {
    const path = join(dir, 'rows.json');
    writeFileSync(path, FILES[0]!.text);
    const seen: string[] = [];
    const rows = await forEachFileRow(path, 'json', (buf, start, end) => {
      seen.push(buf.toString('latin1', start, end));
    });
    expect(rows).toBe(ROWS.length);
    expect(seen).toEqual(latin1(ROWS));
    writeFileSync(path, FILES[0]!.text.slice(0, 30));
    await expect(forEachFileRow(path, 'json', () => undefined)).rejects.toThrow(
      new RowFormatError(`${path}: ends inside row 1 (truncated?)`, 1),
    );
  });

  it('takes the key values of a row, and refuses a row that is not keys and values', () => {
    const row = Buffer.from('xx{"a":1, "b" : "x,}", "c":[1,{"d":2}] }yy');
    expect(rowValuesText(row, 2, row.length - 2, ['c', 'a', 'missing'])).toBe('[[1,{"d":2}],1,null]');
    for (const bad of ['{"a"}', '{1:2}', '{"a":1 "b":2}', '{"a":}', '{"a":"x}']) {
      const b = Buffer.from(`${bad}"}`);
      expect(() => rowValuesText(b, 0, bad.length, ['a'], 7)).toThrow(RowFormatError);
    }
  });
});
