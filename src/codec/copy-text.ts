import type { EncodedColumn } from './encode-column.js';
import { ENCODING_RULES } from './encodings.js';
import { Ch } from './json-scan.js';

/*
 * The COPY side of the type rules: how one value of an export file, as its exact JSON bytes, becomes COPY
 * text for the target. Numbers keep their digits, strings without escapes are copied as they are, json and
 * jsonb keep their text; only strings with escapes, and arrays, go through JSON.parse (their values are
 * strings, small integers and shortest-exact floats, which a double holds exactly).
 */

/** Rewrites one value's text, or each element of an array (user-id mapping); returns null for SQL NULL. */
export type ValueRewrite = (text: string) => string | null;

/** A growing output buffer of COPY text. */
export class ByteSink {
  buf = Buffer.allocUnsafe(1 << 20);
  len = 0;
  private ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number) {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(src: Buffer, start: number, end: number) {
    this.ensure(end - start);
    src.copy(this.buf, this.len, start, end);
    this.len += end - start;
  }
  text(s: string) {
    this.ensure(Buffer.byteLength(s) + 0);
    this.len += this.buf.write(s, this.len);
  }
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
}

/** COPY text escaping of a decoded string. */
export const copyEscape = (s: string): string =>
  s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));

/**
 * A PostgreSQL array literal from a parsed JSON array. Its elements are strings, booleans, null, nested
 * arrays, or numbers that a double holds exactly (int2/int4/oid, and floats written with their shortest
 * exact digits), so JSON.parse loses nothing here.
 */
function arrayLiteral(value: unknown, delimiter = ','): string {
  if (!Array.isArray(value)) throw new Error('expected an array');
  const parts = value.map((v): string => {
    if (v === null) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v, delimiter);
    if (typeof v === 'string') return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    if (typeof v === 'boolean') return v ? 't' : 'f';
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
    throw new Error('an array element cannot be a JSON object');
  });
  return `{${parts.join(delimiter)}}`;
}

/** Writes the COPY text of the JSON value buf[start, end). */
export function writeCopyValue(
  sink: ByteSink,
  buf: Buffer,
  start: number,
  end: number,
  column: Pick<EncodedColumn, 'encoding' | 'elementDelimiter'>,
  rewrite?: ValueRewrite,
): void {
  const c = buf[start]!;
  const { encoding } = column;
  if (!rewrite && encoding !== 'array' && ENCODING_RULES[encoding].copy === 'json-text') {
    // The JSON text itself; `null` here is the JSON null (SQL NULL leaves the key out).
    rawEscaped(sink, buf, start, end);
    return;
  }
  if (c === 110 /* n */) {
    if (end - start !== 4) throw new Error('invalid literal');
    sink.text('\\N');
    return;
  }
  if (rewrite) {
    const text = buf.toString('utf8', start, end);
    if (c === Ch.LBracket) {
      sink.text(
        copyEscape(arrayLiteral(rewriteElements(JSON.parse(text), rewrite), column.elementDelimiter)),
      );
      return;
    }
    const mapped = rewrite(c === Ch.Quote ? (JSON.parse(text) as string) : text);
    sink.text(mapped === null ? '\\N' : copyEscape(mapped));
    return;
  }
  if (encoding === 'array' && c === Ch.LBracket) {
    sink.text(
      copyEscape(arrayLiteral(JSON.parse(buf.toString('utf8', start, end)), column.elementDelimiter)),
    );
    return;
  }
  if (c === Ch.Quote) {
    if (!hasBackslash(buf, start + 1, end - 1)) {
      // No escapes, and JSON strings hold no raw control characters: the bytes are already COPY text.
      sink.bytes(buf, start + 1, end - 1);
    } else {
      jsonStringToCopy(sink, buf, start + 1, end - 1);
    }
    return;
  }
  if (c === 116 /* t */ || c === 102 /* f */) {
    sink.byte(c);
    return;
  }
  if (c === Ch.LBrace || c === Ch.LBracket)
    throw new Error(`a ${encoding} value cannot be a JSON ${c === Ch.LBrace ? 'object' : 'array'}`);
  // A number: its exact digits.
  sink.bytes(buf, start, end);
}

/** Copies JSON text as it is, with COPY escaping (json keeps its whitespace, line breaks included). */
function rawEscaped(sink: ByteSink, buf: Buffer, start: number, end: number): void {
  let from = start;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === Ch.Backslash || b === Ch.Nl || b === Ch.Cr || b === Ch.Tab) {
      sink.bytes(buf, from, i);
      sink.text(b === Ch.Backslash ? '\\\\' : b === Ch.Nl ? '\\n' : b === Ch.Cr ? '\\r' : '\\t');
      from = i + 1;
    }
  }
  sink.bytes(buf, from, end);
}

/** Applies a user-id rewrite to every string element of a (nested) array. */
function rewriteElements(value: unknown, rewrite: ValueRewrite): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteElements(v, rewrite));
  return typeof value === 'string' ? rewrite(value) : value;
}

const ESCAPED_BYTE: Record<number, number> = {
  0x22: 0x22, // \" → "
  0x2f: 0x2f, // \/ → /
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
};
/** The letter COPY escapes a byte with, after a backslash. */
const COPY_ESCAPE: Record<number, number> = { 0x5c: 0x5c, 0x0a: 0x6e, 0x0d: 0x72, 0x09: 0x74 };

/**
 * The COPY text of the JSON string whose contents (between the quotes) are buf[start, end): its escapes
 * decoded and COPY's escapes applied, byte by byte, in one pass. No JavaScript string is made of it, so a
 * value of many escapes costs its bytes, not a string, its parsed copy and a replacement of each escape.
 * Equal to copyEscape(JSON.parse(…)) (a lone surrogate becomes U+FFFD, as Buffer's UTF-8 does).
 */
export function jsonStringToCopy(sink: ByteSink, buf: Buffer, start: number, end: number): void {
  let from = start;
  const code = (cp: number) => {
    const letter = COPY_ESCAPE[cp];
    if (letter !== undefined) {
      sink.byte(0x5c);
      sink.byte(letter);
    } else if (cp < 0x80) sink.byte(cp);
    else sink.text(String.fromCodePoint(cp));
  };
  for (let i = start; i < end; i++) {
    if (buf[i] !== Ch.Backslash) continue;
    sink.bytes(buf, from, i);
    const e = buf[i + 1]!;
    if (e === 0x75 /* u */) {
      let cp = parseInt(buf.toString('latin1', i + 2, i + 6), 16);
      i += 5;
      if (cp >= 0xd800 && cp <= 0xdbff && buf[i + 1] === Ch.Backslash && buf[i + 2] === 0x75) {
        const low = parseInt(buf.toString('latin1', i + 3, i + 7), 16);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        }
      }
      code(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
    } else {
      const plain = ESCAPED_BYTE[e];
      if (plain !== undefined) sink.byte(plain);
      else if (e === 0x5c || e === 0x6e || e === 0x72 || e === 0x74)
        code(e === 0x5c ? 0x5c : e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : 0x09);
      else throw new Error(`invalid escape \\${String.fromCharCode(e)} in a JSON string`);
      i += 1;
    }
    from = i + 1;
  }
  sink.bytes(buf, from, end);
}

function hasBackslash(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === Ch.Backslash) return true;
  return false;
}
