import type { EncodedColumn } from './encode-column.js';
import { ENCODING_RULES } from './encodings.js';
import { Ch, skipWs } from './json-scan.js';

/*
 * The COPY side of the type rules: how one value of an export file, as its exact JSON bytes, becomes COPY
 * text for the target. Numbers keep their digits, strings without escapes are copied as they are, json and
 * jsonb keep their text; only strings with escapes, and arrays, go through JSON.parse (their values are
 * strings, small integers and shortest-exact floats, which a double holds exactly).
 */

/** Rewrites one value's text, or each element of an array (user-id mapping); returns null for SQL NULL. */
export type ValueRewrite = (text: string) => string | null;

/**
 * A growing output buffer of COPY text. `take` hands out a view of what was written and goes on writing
 * after it in the same slab (no copy per chunk); a slab is never written again once handed out.
 */
export class ByteSink {
  buf = Buffer.allocUnsafe(SLAB_BYTES);
  /** Where the bytes not yet taken start. */
  start = 0;
  len = 0;
  /** Makes room for `n` more bytes after `len` (callers may then write `buf` directly). */
  reserve(n: number) {
    if (this.len + n <= this.buf.length) return;
    const pending = this.len - this.start;
    // Growing by doubling (values appended in small pieces), but a large piece gets exactly its room.
    const next = Buffer.allocUnsafe(n >= SLAB_BYTES ? pending + n : Math.max(SLAB_BYTES, 2 * (pending + n)));
    this.buf.copy(next, 0, this.start, this.len);
    this.buf = next;
    this.start = 0;
    this.len = pending;
  }
  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.len - this.start;
  }
  byte(b: number) {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  bytes(src: Buffer, start: number, end: number) {
    const n = end - start;
    this.reserve(n);
    if (n > 256) {
      src.copy(this.buf, this.len, start, end);
      this.len += n;
      return;
    }
    // Short values (ids, numbers, timestamps, small json): a loop is cheaper than the native copy call.
    const buf = this.buf;
    let at = this.len;
    for (let i = start; i < end; i++) buf[at++] = src[i]!;
    this.len = at;
  }
  text(s: string) {
    this.reserve(Buffer.byteLength(s));
    this.len += this.buf.write(s, this.len);
  }
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.len);
    this.start = this.len;
    // Once the slab is mostly handed out, or was grown for a huge row (its memory goes back), the next
    // bytes go to a new one.
    if (this.buf.length !== SLAB_BYTES || this.buf.length - this.len < SLAB_BYTES / 8) {
      this.buf = Buffer.allocUnsafe(SLAB_BYTES);
      this.start = this.len = 0;
    }
    return out;
  }
}

const SLAB_BYTES = 1 << 20;

/** COPY text escaping of a decoded string. */
export const copyEscape = (s: string): string =>
  s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));

/**
 * A PostgreSQL array literal from a parsed JSON array. Its elements are strings, booleans, null, nested
 * arrays, or numbers that a double holds exactly (int2/int4/oid, and floats written with their shortest
 * exact digits), so JSON.parse loses nothing here.
 */
export function arrayLiteral(value: unknown, delimiter = ','): string {
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
    if (flatArrayToCopy(sink, buf, start, end, column.elementDelimiter ?? ',')) return;
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

/**
 * The common array, flat, of strings without escapes, numbers, booleans and nulls, written byte by byte as
 * arrayLiteral would write it; returns false (having written nothing) for any other, which then goes
 * through JSON.parse. Numbers keep their digits, as scalar numbers do.
 */
function flatArrayToCopy(
  sink: ByteSink,
  buf: Buffer,
  start: number,
  end: number,
  delimiter: string,
): boolean {
  const mark = sink.pending;
  const delim = delimiter.charCodeAt(0);
  if (delimiter.length !== 1 || delim >= 0x80 || delim === Ch.Backslash) return false;
  sink.byte(Ch.LBrace);
  let pos = skipWs(buf, start + 1);
  let first = true;
  while (pos < end - 1) {
    if (!first) {
      if (buf[pos] !== Ch.Comma) return undo(sink, mark);
      pos = skipWs(buf, pos + 1);
      sink.byte(delim);
    }
    first = false;
    const b = buf[pos]!;
    if (b === Ch.Quote) {
      const close = buf.indexOf(Ch.Quote, pos + 1);
      if (close < 0 || close >= end) return undo(sink, mark);
      // A backslash means escapes (and maybe an escaped quote): the general path decodes them.
      for (let k = pos + 1; k < close; k++) if (buf[k] === Ch.Backslash) return undo(sink, mark);
      sink.byte(Ch.Quote);
      sink.bytes(buf, pos + 1, close);
      sink.byte(Ch.Quote);
      pos = close + 1;
    } else if (b === 110 /* null */ || b === 116 /* true */ || b === 102 /* false */) {
      const word = b === 110 ? 4 : b === 116 ? 4 : 5;
      if (buf.toString('latin1', pos, pos + word) !== (b === 110 ? 'null' : b === 116 ? 'true' : 'false'))
        return undo(sink, mark);
      if (b === 110) sink.text('NULL');
      else sink.byte(b);
      pos += word;
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      let e = pos + 1;
      while (e < end && NUMBER_BYTE[buf[e]!]) e++;
      // -0 and the digits as written: what String(JSON.parse) gives for the exact numbers export writes.
      sink.bytes(buf, pos, e);
      pos = e;
    } else return undo(sink, mark);
    pos = skipWs(buf, pos);
  }
  if (pos !== end - 1 || buf[pos] !== Ch.RBracket) return undo(sink, mark);
  sink.byte(Ch.RBrace);
  return true;
}

const NUMBER_BYTE = new Uint8Array(256);
for (const ch of '0123456789+-.eE') NUMBER_BYTE[ch.charCodeAt(0)] = 1;

/** Drops what was written after `mark` pending bytes (a grown buffer keeps the pending bytes at its start). */
function undo(sink: ByteSink, mark: number): false {
  sink.len = sink.start + mark;
  return false;
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
