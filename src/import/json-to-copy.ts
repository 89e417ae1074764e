import { Transform, type TransformCallback } from 'node:stream';
import type { ColumnInfo } from '../catalog/types.js';
import { nullAsMissingKey } from '../export/row-sql.js';
import { Ch, INCOMPLETE, isWs, skipWs, stringEnd, valueEnd } from './json-scan.js';

/*
 * Export file → COPY text, without JSON.parse on the hot path: a JSON.parse would turn numbers into JS
 * doubles (losing digits) and merge duplicate keys of `json` values. The decoder scans each row object,
 * checks its keys against the columns of metadata.json, and writes every value's exact bytes in COPY text
 * form. Only strings with escapes, and arrays, go through JSON.parse (their values are strings, small
 * integers and shortest-exact floats, which a double holds exactly).
 */

/** A problem with the file's content: `row` counts from 1, `column` names the value. */
export class RowFormatError extends Error {
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Rewrites one value's text, or each element of an array (user-id mapping); returns null for SQL NULL. */
export type ValueRewrite = (text: string) => string | null;

export interface DecoderColumn {
  column: ColumnInfo;
  /** SQL NULL is written by leaving the key out (json and jsonb columns). */
  optional?: boolean;
  /** false: the value is read and checked but not loaded (generated columns). */
  load: boolean;
  rewrite?: ValueRewrite;
}

class ByteSink {
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

/**
 * Transforms an export file (format json or ndjson) into COPY text rows for the columns with `load`.
 * `onRows` is told the running row count per chunk. A file that ends inside a row, has a key out of
 * place or a value of the wrong shape fails the stream with a RowFormatError naming the row.
 */
export class JsonToCopyText extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private state: 'start' | 'rows' | 'end' = 'start';
  private rows = 0;
  private readonly keys: Buffer[];
  private readonly columns: readonly DecoderColumn[];
  private readonly sink = new ByteSink();

  constructor(
    columns: readonly DecoderColumn[],
    private readonly format: 'json' | 'ndjson',
    private readonly onRows: (rows: number) => void = () => undefined,
  ) {
    super();
    this.columns = columns.map((c) => ({ ...c, optional: c.optional ?? nullAsMissingKey(c.column) }));
    this.keys = columns.map((c) => Buffer.from(JSON.stringify(c.column.name)));
    if (format === 'ndjson') this.state = 'rows';
  }

  get rowCount(): number {
    return this.rows;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos: number;
    try {
      pos = this.consume(buf, false);
    } catch (err) {
      return done(err as Error);
    }
    this.pending = pos < buf.length ? Buffer.from(buf.subarray(pos)) : Buffer.alloc(0);
    if (this.sink.len > 0) this.push(this.sink.take());
    this.onRows(this.rows);
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      const pos = this.consume(this.pending, true);
      let rest = pos;
      while (rest < this.pending.length && isWs(this.pending[rest]!)) rest++;
      if (rest < this.pending.length || (this.format === 'json' && this.state !== 'end')) {
        throw new RowFormatError(
          this.state === 'start'
            ? 'the file is not a JSON array'
            : `the file ends inside row ${this.rows + 1} (truncated?)`,
          this.rows + 1,
        );
      }
    } catch (err) {
      return done(err as Error);
    }
    if (this.sink.len > 0) this.push(this.sink.take());
    this.onRows(this.rows);
    done();
  }

  /** Consumes complete rows from buf; returns where the unconsumed rest starts. */
  private consume(buf: Buffer, final: boolean): number {
    let pos = 0;
    for (;;) {
      while (pos < buf.length && isWs(buf[pos]!)) pos++;
      if (pos >= buf.length) return pos;
      const c = buf[pos]!;
      if (this.state === 'start') {
        if (c !== Ch.LBracket)
          throw new RowFormatError('the file is not a JSON array (it should start with [)', 1);
        this.state = 'rows';
        pos++;
        continue;
      }
      if (this.state === 'end')
        throw new RowFormatError('unexpected data after the closing ]', this.rows + 1);
      if (this.format === 'json') {
        if (c === Ch.RBracket) {
          this.state = 'end';
          pos++;
          continue;
        }
        if (this.rows > 0) {
          if (c !== Ch.Comma)
            throw new RowFormatError(`expected , or ] after row ${this.rows}`, this.rows + 1);
          let p = pos + 1;
          while (p < buf.length && isWs(buf[p]!)) p++;
          if (p >= buf.length) return pos;
          const end = this.row(buf, p);
          if (end === INCOMPLETE) {
            if (final)
              throw new RowFormatError(
                `the file ends inside row ${this.rows + 1} (truncated?)`,
                this.rows + 1,
              );
            return pos;
          }
          pos = end;
          continue;
        }
      }
      const end = this.row(buf, pos);
      if (end === INCOMPLETE) {
        if (final)
          throw new RowFormatError(`the file ends inside row ${this.rows + 1} (truncated?)`, this.rows + 1);
        return pos;
      }
      pos = end;
    }
  }

  /** Parses one row object at `start`, appends its COPY line; returns the end, or INCOMPLETE. */
  private row(buf: Buffer, start: number): number {
    const rowNumber = this.rows + 1;
    const mark = this.sink.len;
    const fail = (what: string): never => {
      throw new RowFormatError(`row ${rowNumber}: ${what}`, rowNumber);
    };
    if (buf[start] !== Ch.LBrace) fail('expected a row object');
    let pos = start + 1;
    let first = true;
    let keysRead = 0;
    for (let i = 0; i < this.columns.length; i++) {
      const spec = this.columns[i]!;
      const key = this.keys[i]!;
      pos = skipWs(buf, pos);
      if (pos >= buf.length) return this.rollback(mark);
      const atEnd = buf[pos] === Ch.RBrace;
      let keyAt = pos;
      if (!atEnd && keysRead > 0) {
        if (buf[pos] !== Ch.Comma) fail(`expected a value for column ${JSON.stringify(spec.column.name)}`);
        keyAt = skipWs(buf, pos + 1);
      }
      if (!atEnd && keyAt + key.length > buf.length) return this.rollback(mark);
      if (atEnd || !buf.subarray(keyAt, keyAt + key.length).equals(key)) {
        // json and jsonb columns write SQL NULL by leaving their key out.
        if (spec.optional) {
          if (spec.load) {
            this.separator(first);
            first = false;
            this.sink.text('\\N');
          }
          continue;
        }
        const end = atEnd ? INCOMPLETE : stringEnd(buf, keyAt);
        const found =
          end === INCOMPLETE ? '' : ` (found ${buf.toString('utf8', keyAt, Math.min(end, keyAt + 80))})`;
        fail(`expected key ${key.toString()}${found}`);
      }
      pos = skipWs(buf, keyAt + key.length);
      if (pos >= buf.length) return this.rollback(mark);
      if (buf[pos] !== Ch.Colon) fail(`expected : after key ${key.toString()}`);
      const afterColon = pos + 1;
      pos = skipWs(buf, afterColon);
      if (pos >= buf.length) return this.rollback(mark);
      let end = valueEnd(buf, pos);
      if (end === INCOMPLETE) return this.rollback(mark);
      if (spec.column.encoding === 'json' && !spec.rewrite) {
        // A json value is its text, spaces and line breaks around it included: the export writes it
        // between the colon and the next comma or brace exactly as PostgreSQL holds it.
        const after = skipWs(buf, end);
        if (after >= buf.length) return this.rollback(mark);
        pos = afterColon;
        end = after;
      }
      keysRead++;
      if (spec.load) {
        this.separator(first);
        first = false;
        try {
          this.field(buf, pos, end, spec);
        } catch (err) {
          fail(`column ${JSON.stringify(spec.column.name)}: ${(err as Error).message}`);
        }
      }
      pos = end;
    }
    pos = skipWs(buf, pos);
    if (pos >= buf.length) return this.rollback(mark);
    if (buf[pos] !== Ch.RBrace) {
      fail(
        buf[pos] === Ch.Comma ? 'more keys than the table has columns' : 'expected } at the end of the row',
      );
    }
    this.sink.byte(Ch.Nl);
    this.rows++;
    return pos + 1;
  }

  private separator(first: boolean): void {
    if (!first) this.sink.byte(Ch.Tab);
  }

  private rollback(mark: number): number {
    this.sink.len = mark;
    return INCOMPLETE;
  }

  /** Writes the COPY text of the JSON value buf[start, end). */
  private field(buf: Buffer, start: number, end: number, spec: DecoderColumn): void {
    const c = buf[start]!;
    const { encoding } = spec.column;
    if (!spec.rewrite && (encoding === 'json' || encoding === 'jsonb')) {
      // The JSON text itself; `null` here is the JSON null (SQL NULL leaves the key out).
      this.rawEscaped(buf, start, end);
      return;
    }
    if (c === 110 /* n */) {
      if (end - start !== 4) throw new Error('invalid literal');
      this.sink.text('\\N');
      return;
    }
    if (spec.rewrite) {
      const text = buf.toString('utf8', start, end);
      if (c === Ch.LBracket) {
        this.sink.text(
          copyEscape(
            arrayLiteral(rewriteElements(JSON.parse(text), spec.rewrite), spec.column.elementDelimiter),
          ),
        );
        return;
      }
      const mapped = spec.rewrite(c === Ch.Quote ? (JSON.parse(text) as string) : text);
      this.sink.text(mapped === null ? '\\N' : copyEscape(mapped));
      return;
    }
    if (encoding === 'array' && c === Ch.LBracket) {
      this.sink.text(
        copyEscape(arrayLiteral(JSON.parse(buf.toString('utf8', start, end)), spec.column.elementDelimiter)),
      );
      return;
    }
    if (c === Ch.Quote) {
      if (!hasBackslash(buf, start + 1, end - 1)) {
        // No escapes, and JSON strings hold no raw control characters: the bytes are already COPY text.
        this.sink.bytes(buf, start + 1, end - 1);
      } else {
        this.sink.text(copyEscape(JSON.parse(buf.toString('utf8', start, end)) as string));
      }
      return;
    }
    if (c === 116 /* t */ || c === 102 /* f */) {
      this.sink.byte(c);
      return;
    }
    if (c === Ch.LBrace || c === Ch.LBracket)
      throw new Error(`a ${encoding} value cannot be a JSON ${c === Ch.LBrace ? 'object' : 'array'}`);
    // A number: its exact digits.
    this.sink.bytes(buf, start, end);
  }

  /** Copies JSON text as it is, with COPY escaping (json keeps its whitespace, line breaks included). */
  private rawEscaped(buf: Buffer, start: number, end: number): void {
    let from = start;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b === Ch.Backslash || b === Ch.Nl || b === Ch.Cr || b === Ch.Tab) {
        this.sink.bytes(buf, from, i);
        this.sink.text(b === Ch.Backslash ? '\\\\' : b === Ch.Nl ? '\\n' : b === Ch.Cr ? '\\r' : '\\t');
        from = i + 1;
      }
    }
    this.sink.bytes(buf, from, end);
  }
}

/** Applies a user-id rewrite to every string element of a (nested) array. */
function rewriteElements(value: unknown, rewrite: ValueRewrite): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteElements(v, rewrite));
  return typeof value === 'string' ? rewrite(value) : value;
}

function hasBackslash(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === Ch.Backslash) return true;
  return false;
}
