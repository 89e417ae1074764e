import type { ColumnInfo } from '../catalog/types.js';
import { IntegrityError } from '../errors.js';
import type { ByteSink } from './copy-text.js';

/** What the writers touch of a ByteSink: its buffer, with room reserved, and the length written. */
type Out = Pick<ByteSink, 'buf' | 'len'>;
import { encodingOf } from './encode-column.js';
import { ENCODING_RULES, type TextForm } from './encodings.js';
import { Ch } from './json-scan.js';

/*
 * The client side of the export's type rules: the JSON of a value built from its COPY text form, byte for
 * byte what the server's expressions (src/codec/row-sql.ts) give, so that the source server only runs its
 * output functions (as pg_dump makes it do) and the client writes the JSON. Which form each encoding takes
 * is ENCODING_RULES[…].fromText; a column no form fits is built by the server.
 */

/** How the client writes one column: a form, an array of elements of a form, or `server` (its JSON is read). */
export type ColumnForm = TextForm | { element: TextForm; delimiter: number } | 'server';

/**
 * The form of each column. `::text` of a type with a cast of its own (inet, character) is not the text COPY
 * prints, so text-encoded values of such types, like every encoding without a form, are left to the server.
 */
export function columnForms(columns: readonly Pick<ColumnInfo, 'valueType'>[]): ColumnForm[] {
  return columns.map(({ valueType }): ColumnForm => {
    const encoding = encodingOf({ valueType });
    if (encoding.encoding !== 'array') {
      const form = ENCODING_RULES[encoding.encoding].fromText.value;
      return form === null || (encoding.encoding === 'text' && valueType.textCast) ? 'server' : form;
    }
    const elementEncoding = encoding.elementEncoding ?? 'text';
    const element = ENCODING_RULES[elementEncoding].fromText.element;
    if (element === null || (elementEncoding === 'text' && valueType.element?.textCast)) return 'server';
    return { element, delimiter: (encoding.elementDelimiter ?? ',').charCodeAt(0) };
  });
}

const SHORT_ESCAPES: Record<number, number> = { 8: 98, 12: 102, 10: 110, 13: 114, 9: 116 };
const HEX = Buffer.from('0123456789abcdef');
const NULL = Buffer.from('null');
/** COPY text's escapes: `\b \f \n \r \t \v`; a backslash before any other byte stands for that byte (`\\`). */
const COPY_UNESCAPE: Record<number, number> = { 98: 8, 102: 12, 110: 10, 114: 13, 116: 9, 118: 11 };

/*
 * The writers below read src from `start` up to `end` or to the first `stop` byte, whichever comes first,
 * and return where they stopped: a row of COPY text is read field by field in one pass (stop = tab; a tab
 * inside a value is escaped), an array element up to its end (stop = -1). `escaped`: the source is COPY
 * text, whose escapes are undone in the same pass. The caller has reserved 6 bytes per source byte, plus 8.
 */

/**
 * A JSON string, escaped as PostgreSQL's escape_json does: `"` and `\`, \b \f \n \r \t, other control
 * characters as \u00XX; every other byte (UTF-8 included) as it is.
 */
export function writeJsonString(
  sink: Out,
  src: Buffer,
  start: number,
  end: number,
  stop = -1,
  escaped = false,
): number {
  const out = sink.buf;
  let at = sink.len;
  out[at++] = Ch.Quote;
  let i = start;
  for (; i < end; i++) {
    let b = src[i]!;
    if (b >= 0x20 && b !== Ch.Quote && b !== Ch.Backslash) {
      out[at++] = b;
      continue;
    }
    if (b === stop) break;
    if (escaped && b === Ch.Backslash) {
      b = src[++i]!;
      b = COPY_UNESCAPE[b] ?? b;
      if (b >= 0x20 && b !== Ch.Quote && b !== Ch.Backslash) {
        out[at++] = b;
        continue;
      }
    }
    out[at++] = Ch.Backslash;
    if (b === Ch.Quote || b === Ch.Backslash) out[at++] = b;
    else if (SHORT_ESCAPES[b] !== undefined) out[at++] = SHORT_ESCAPES[b]!;
    else {
      out[at++] = 117; // u00XX
      out[at++] = 48;
      out[at++] = 48;
      out[at++] = HEX[b >> 4]!;
      out[at++] = HEX[b & 15]!;
    }
  }
  out[at++] = Ch.Quote;
  sink.len = at;
  return i;
}

/** The bytes as they are (a number, json's own text, JSON the server built). */
export function writeRaw(
  sink: Out,
  src: Buffer,
  start: number,
  end: number,
  stop = -1,
  escaped = false,
): number {
  const out = sink.buf;
  let at = sink.len;
  let i = start;
  for (; i < end; i++) {
    let b = src[i]!;
    if (b === stop) break;
    if (escaped && b === Ch.Backslash) {
      b = src[++i]!;
      b = COPY_UNESCAPE[b] ?? b;
    }
    out[at++] = b;
  }
  sink.len = at;
  return i;
}

/** Where the value starting at `start` ends: at `end` or at the first `stop` byte. */
export function valueEnd(src: Buffer, start: number, end: number, stop: number): number {
  let i = start;
  while (i < end && src[i] !== stop) i++;
  return i;
}

/** Whether src[start, end) holds a backslash (COPY text with escapes to undo). */
export function hasBackslash(src: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (src[i] === Ch.Backslash) return true;
  return false;
}

/** src[start, end) with COPY text's escapes undone, in a new buffer. */
export function unescapeCopyText(src: Buffer, start: number, end: number): Buffer {
  const sink: Out = { buf: Buffer.allocUnsafe(end - start), len: 0 };
  writeRaw(sink, src, start, end, -1, true);
  return sink.buf.subarray(0, sink.len);
}

const isWord = (src: Buffer, start: number, end: number, word: string): boolean =>
  end - start === word.length && src.toString('latin1', start, end) === word;

/** Writes the JSON of one value's text in the given form (no COPY escapes: only strings and raw have them). */
export function writeForm(
  sink: Out,
  form: TextForm,
  src: Buffer,
  start: number,
  end: number,
  stop = -1,
  escaped = false,
): number {
  switch (form) {
    case 'string':
      return writeJsonString(sink, src, start, end, stop, escaped);
    case 'raw':
      return writeRaw(sink, src, start, end, stop, escaped);
    case 'float': {
      // NaN, Infinity, -Infinity are not JSON numbers: to_json quotes them.
      const c = src[start] === 45 ? src[start + 1] : src[start];
      return c === 78 || c === 73
        ? writeJsonString(sink, src, start, end, stop)
        : writeRaw(sink, src, start, end, stop);
    }
    case 'boolean': {
      const stopped = valueEnd(src, start, end, stop);
      if (stopped - start !== 1 || (src[start] !== 116 && src[start] !== 102)) {
        throw badText('boolean', src, start, stopped);
      }
      sink.len += sink.buf.write(src[start] === 116 ? 'true' : 'false', sink.len, 'latin1');
      return stopped;
    }
    case 'timestamp':
    case 'timestamptz':
      return writeTimestamp(sink, form === 'timestamptz', src, start, end, stop);
  }
}

/**
 * ISO `2025-01-23 16:51:17.5+00 BC` → `"2025-01-23T16:51:17.5Z BC"` (to_json's XSD form, UTC written Z);
 * `infinity` and `-infinity` as they are. The session is in UTC, so the offset is always +00.
 */
function writeTimestamp(
  sink: Out,
  withZone: boolean,
  src: Buffer,
  start: number,
  end: number,
  stop: number,
): number {
  const out = sink.buf;
  let at = sink.len;
  out[at++] = Ch.Quote;
  let spaced = false;
  let i = start;
  for (; i < end; i++) {
    const b = src[i]!;
    if (b === stop) break;
    if (b === Ch.Space && !spaced) {
      spaced = true;
      out[at++] = 84; // T
    } else out[at++] = b;
  }
  if (!spaced) {
    if (!isWord(src, start, i, 'infinity') && !isWord(src, start, i, '-infinity')) {
      throw badText('timestamp', src, start, i);
    }
  } else if (withZone) {
    // +00 must be the whole offset: at the end, or before " BC".
    const bc = out[at - 1] === 67 && out[at - 2] === 66 && out[at - 3] === Ch.Space ? 3 : 0;
    const z = at - bc - 3;
    if (out[z] !== 43 || out[z + 1] !== 48 || out[z + 2] !== 48) {
      throw badText('timestamptz', src, start, i);
    }
    out[z] = 90; // Z
    if (bc) out.copyWithin(z + 1, at - 3, at);
    at -= 2;
  }
  out[at++] = Ch.Quote;
  sink.len = at;
  return i;
}

/**
 * Writes the JSON of an array's text form src[start, end) as array_to_json does: nested JSON arrays of the
 * elements in their form, `null` for NULL. An array with another lower bound than 1 (`[0:1]={…}`) is
 * written as a JSON string of its text, as the server's rule does.
 */
export function writeArray(
  sink: Out,
  element: TextForm,
  delimiter: number,
  src: Buffer,
  start: number,
  end: number,
): void {
  if (src[start] === Ch.LBracket) {
    writeJsonString(sink, src, start, end);
    return;
  }
  const pos = writeLevel(sink, element, delimiter, src, start, end);
  if (pos !== end) throw badText('array', src, start, end);
}

/** Writes the `{…}` at src[pos]; returns the position after its `}`. */
function writeLevel(
  sink: Out,
  element: TextForm,
  delimiter: number,
  src: Buffer,
  pos: number,
  end: number,
): number {
  if (src[pos] !== Ch.LBrace) throw badText('array', src, pos, end);
  sink.buf[sink.len++] = Ch.LBracket;
  pos++;
  if (src[pos] === Ch.RBrace) {
    sink.buf[sink.len++] = Ch.RBracket;
    return pos + 1;
  }
  for (;;) {
    if (pos >= end) throw badText('array', src, pos, end);
    const c = src[pos]!;
    if (c === Ch.LBrace) pos = writeLevel(sink, element, delimiter, src, pos, end);
    else if (c === Ch.Quote) pos = writeQuotedElement(sink, element, src, pos, end);
    else {
      let stop = pos;
      while (stop < end && src[stop] !== delimiter && src[stop] !== Ch.RBrace) stop++;
      if (isWord(src, pos, stop, 'NULL')) writeRaw(sink, NULL, 0, 4);
      else writeForm(sink, element, src, pos, stop);
      pos = stop;
    }
    if (src[pos] === delimiter) {
      sink.buf[sink.len++] = Ch.Comma;
      pos++;
    } else if (src[pos] === Ch.RBrace) {
      sink.buf[sink.len++] = Ch.RBracket;
      return pos + 1;
    } else throw badText('array', src, pos, end);
  }
}

/** A `"…"` element (`\"` and `\\` escaped inside); returns the position after its closing quote. */
function writeQuotedElement(sink: Out, element: TextForm, src: Buffer, pos: number, end: number): number {
  let close = pos + 1;
  let escaped = false;
  while (close < end && src[close] !== Ch.Quote) {
    if (src[close] === Ch.Backslash) {
      escaped = true;
      close++;
    }
    close++;
  }
  if (close >= end) throw badText('array', src, pos, end);
  if (!escaped) {
    writeForm(sink, element, src, pos + 1, close);
    return close + 1;
  }
  const text = Buffer.allocUnsafe(close - pos);
  let n = 0;
  for (let i = pos + 1; i < close; i++) {
    if (src[i] === Ch.Backslash) i++;
    text[n++] = src[i]!;
  }
  writeForm(sink, element, text, 0, n);
  return close + 1;
}

function badText(what: string, src: Buffer, start: number, end: number): IntegrityError {
  const text = src.toString('utf8', start, Math.min(end, start + 80));
  return new IntegrityError(`unexpected ${what} text from the server: ${JSON.stringify(text)}`);
}
