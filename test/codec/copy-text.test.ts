import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arrayLiteral,
  ByteSink,
  copyEscape,
  jsonStringToCopy,
  writeCopyValue,
} from '../../src/codec/copy-text.js';

const viaParse = (json: string) => Buffer.from(copyEscape(JSON.parse(json) as string));

function viaBytes(json: string): Buffer {
  const buf = Buffer.from(json);
  const sink = new ByteSink();
  jsonStringToCopy(sink, buf, 1, buf.length - 1);
  return sink.take();
}

describe('jsonStringToCopy: a JSON string to COPY text, byte by byte', () => {
  it('equals copyEscape(JSON.parse(…)) for any string, with any escapes JSON allows (property)', () => {
    // Each part is JSON string text: plain text escaped by JSON.stringify, or an escape written by hand.
    const escaped = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'grapheme' }).map((text) => JSON.stringify(text).slice(1, -1)),
          fc.constantFrom('\\n', '\\r', '\\t', '\\\\', '\\"', '\\/', '\\b', '\\f', '\\u0001', '\\u00e9'),
          fc.integer({ min: 0x20, max: 0xffff }).map((c) => `\\u${c.toString(16).padStart(4, '0')}`),
        ),
      )
      .map((parts) => `"${parts.join('')}"`);
    fc.assert(
      fc.property(escaped, (json) => {
        expect(viaBytes(json).equals(viaParse(json))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const json = JSON.stringify(s);
        expect(viaBytes(json).equals(viaParse(json))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a pair of surrogate escapes as one character, and a lone one as U+FFFD', () => {
    expect(viaBytes('"\\ud83d\\ude00"').toString()).toBe('😀');
    expect(viaBytes('"a\\ud83db"').equals(viaParse('"a\\ud83db"'))).toBe(true);
  });

  it('costs the bytes of a value of 12 million escapes, not strings of it', () => {
    const json = `"${'a\\n'.repeat((12 * 1024 * 1024) / 4)}"`;
    const before = process.memoryUsage().rss;
    const out = viaBytes(json);
    expect(out.length).toBe(json.length - 2);
    // The sink doubles as it grows: at most a few times the value, never tens of times.
    expect(process.memoryUsage().rss - before).toBeLessThan(20 * json.length);
  });
});

describe('arrays to COPY text', () => {
  /** The array's COPY text as the decoder writes it, after `before` bytes already in the sink. */
  function arrayText(json: string, delimiter: string, before = 0): string {
    const sink = new ByteSink();
    for (let i = 0; i < before; i++) sink.byte(0x61);
    sink.take();
    const buf = Buffer.from(json);
    writeCopyValue(sink, buf, 0, buf.length, { encoding: 'array', elementDelimiter: delimiter });
    return sink.take().toString();
  }
  const spacedJson = (v: unknown): string =>
    Array.isArray(v) ? `[${v.map(spacedJson).join(', ')}]` : JSON.stringify(v);
  const viaParse = (json: string, delimiter: string) =>
    copyEscape(arrayLiteral(JSON.parse(json) as unknown, delimiter));

  it('equals the JSON.parse path for flat and nested arrays of any elements, spaced or not (property)', () => {
    const element = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('', 'NULL', 'a,b', '{x}', ' spaced ', 'back\\slash', 'quo"te', 'tab\tnl\n'),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
      fc.boolean(),
      fc.constant(null),
    );
    const array = fc.oneof(
      fc.array(element, { maxLength: 12 }),
      fc.array(fc.array(element, { maxLength: 3 }), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        array,
        fc.constantFrom(',', ';'),
        fc.boolean(),
        fc.nat(1 << 20),
        (value, delimiter, spaced, before) => {
          // jsonb writes arrays with a space after each comma; to_json without.
          const json = spaced ? spacedJson(value) : JSON.stringify(value);
          expect(arrayText(json, delimiter, before)).toBe(viaParse(json, delimiter));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("keeps a number's digits as the file has them, and writes null as NULL", () => {
    expect(arrayText('[1.50, -0, null, true, "x"]', ',')).toBe('{1.50,-0,NULL,t,"x"}');
  });

  it('refuses what is not an array of values, on either path', () => {
    expect(() => arrayText('[1,]', ',')).toThrow();
    expect(() => arrayText('[{"a":1}]', ',')).toThrow(/object/);
  });
});
