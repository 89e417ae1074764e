import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSink, copyEscape, jsonStringToCopy } from '../../src/codec/copy-text.js';

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
