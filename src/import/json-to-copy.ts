import { RowFormatError } from '../errors.js';
import { Transform, type TransformCallback } from 'node:stream';
import type { EncodedColumn } from '../codec/encode-column.js';
import { nullAsMissingKey } from '../codec/row-sql.js';
import { ByteSink, writeCopyValue, type ValueRewrite } from '../codec/copy-text.js';
import { Ch, INCOMPLETE, isWs, skipWs, stringEnd, valueEnd } from '../codec/json-scan.js';

export type { ValueRewrite };

/*
 * Export file → COPY text, without JSON.parse on the hot path: a JSON.parse would turn numbers into JS
 * doubles (losing digits) and merge duplicate keys of `json` values. The decoder scans each row object,
 * checks its keys against the columns of metadata.json, and writes every value's exact bytes in COPY text
 * form. Only strings with escapes, and arrays, go through JSON.parse (their values are strings, small
 * integers and shortest-exact floats, which a double holds exactly).
 */

export interface DecoderColumn {
  column: EncodedColumn;
  /** SQL NULL is written by leaving the key out (json and jsonb columns). */
  optional?: boolean;
  /** false: the value is read and checked but not loaded (generated columns). */
  load: boolean;
  rewrite?: ValueRewrite;
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
          writeCopyValue(this.sink, buf, pos, end, spec.column, spec.rewrite);
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
}
