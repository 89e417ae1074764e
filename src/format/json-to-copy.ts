import { RowFormatError } from '../errors.js';
import { Transform, type TransformCallback } from 'node:stream';
import type { EncodedColumn } from '../codec/encode-column.js';
import { nullAsMissingKey } from '../codec/row-sql.js';
import { ByteSink, writeCopyValue, type ValueRewrite } from '../codec/copy-text.js';
import { Ch, INCOMPLETE, skipWs, stringEnd, valueEnd } from '../codec/json-scan.js';
import { RowReader } from './row-reader.js';

export type { ValueRewrite };

/*
 * Export file → COPY text, without JSON.parse on the hot path: a JSON.parse would turn numbers into JS
 * doubles (losing digits) and merge duplicate keys of `json` values. The row reader finds each row
 * object's bytes; this decoder checks its keys against the columns of metadata.json, and writes every
 * value's exact bytes in COPY text form. Only strings with escapes, and arrays, go through JSON.parse
 * (their values are strings, small integers and shortest-exact floats, which a double holds exactly).
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
  private readonly reader: RowReader;
  private readonly keys: Buffer[];
  /** Column names as messages quote them. */
  private readonly labels: string[];
  private readonly columns: readonly DecoderColumn[];
  private readonly sink = new ByteSink();
  private readonly visit = (buf: Buffer, start: number, end: number, row: number): void =>
    this.decodeRow(buf.subarray(start, end), row);

  constructor(
    columns: readonly DecoderColumn[],
    format: 'json' | 'ndjson',
    private readonly onRows: (rows: number) => void = () => undefined,
  ) {
    super();
    this.reader = new RowReader(format);
    this.columns = columns.map((c) => ({ ...c, optional: c.optional ?? nullAsMissingKey(c.column) }));
    this.keys = columns.map((c) => Buffer.from(JSON.stringify(c.column.name)));
    this.labels = columns.map((c) => JSON.stringify(c.column.name));
  }

  get rowCount(): number {
    return this.reader.rows;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.reader.parse(chunk, this.visit);
    } catch (err) {
      return done(err as Error);
    }
    this.pushOutput();
    this.onRows(this.reader.rows);
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      this.reader.end();
    } catch (err) {
      return done(err as Error);
    }
    this.onRows(this.reader.rows);
    done();
  }

  private pushOutput(): void {
    if (this.sink.pending > 0) this.push(this.sink.take());
  }

  /** Appends the COPY line of one complete row object, `buf` (from `{` to `}`). */
  private decodeRow(buf: Buffer, rowNumber: number): void {
    // The hot path: no closure or string is made per value; messages are built only on failure.
    const sink = this.sink;
    const last = buf.length - 1;
    let pos = 1;
    let first = true;
    let keysRead = 0;
    let i = 0;
    try {
      for (; i < this.columns.length; i++) {
        const spec = this.columns[i]!;
        const key = this.keys[i]!;
        pos = skipWs(buf, pos);
        const atEnd = pos >= last;
        let keyAt = pos;
        if (!atEnd && keysRead > 0) {
          if (buf[pos] !== Ch.Comma)
            throw this.bad(rowNumber, `expected a value for column ${this.labels[i]}`);
          keyAt = skipWs(buf, pos + 1);
        }
        if (atEnd || !hasAt(buf, keyAt, key)) {
          // json and jsonb columns write SQL NULL by leaving their key out.
          if (spec.optional) {
            if (spec.load) {
              if (!first) sink.byte(Ch.Tab);
              first = false;
              sink.text('\\N');
            }
            continue;
          }
          const end = !atEnd && buf[keyAt] === Ch.Quote ? stringEnd(buf, keyAt) : -1;
          const found = end < 0 ? '' : ` (found ${buf.toString('utf8', keyAt, Math.min(end, keyAt + 80))})`;
          throw this.bad(rowNumber, `expected key ${key.toString()}${found}`);
        }
        pos = skipWs(buf, keyAt + key.length);
        if (buf[pos] !== Ch.Colon) throw this.bad(rowNumber, `expected : after key ${key.toString()}`);
        const afterColon = pos + 1;
        pos = skipWs(buf, afterColon);
        let end = valueEnd(buf, pos);
        if (end === INCOMPLETE) throw new Error('a value does not end in its row');
        if (spec.column.encoding === 'json' && !spec.rewrite) {
          // A json value is its text, spaces and line breaks around it included: the export writes it
          // between the colon and the next comma or brace exactly as PostgreSQL holds it.
          pos = afterColon;
          end = skipWs(buf, end);
        }
        keysRead++;
        if (spec.load) {
          if (!first) sink.byte(Ch.Tab);
          first = false;
          writeCopyValue(sink, buf, pos, end, spec.column, spec.rewrite);
        }
        pos = end;
      }
    } catch (err) {
      if (err instanceof RowFormatError) throw err;
      throw this.bad(rowNumber, `column ${this.labels[i]}: ${(err as Error).message}`);
    }
    pos = skipWs(buf, pos);
    if (pos !== last) {
      throw this.bad(
        rowNumber,
        buf[pos] === Ch.Comma ? 'more keys than the table has columns' : 'expected } at the end of the row',
      );
    }
    sink.byte(Ch.Nl);
  }

  private bad(row: number, what: string): RowFormatError {
    return new RowFormatError(`row ${row}: ${what}`, row);
  }
}

/** Whether `bytes` are at `pos` in `buf`: a byte loop, cheaper than Buffer.compare's native call for keys. */
function hasAt(buf: Buffer, pos: number, bytes: Buffer): boolean {
  if (pos + bytes.length > buf.length) return false;
  for (let k = 0; k < bytes.length; k++) if (buf[pos + k] !== bytes[k]) return false;
  return true;
}
