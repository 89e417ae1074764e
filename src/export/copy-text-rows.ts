import { Transform, type TransformCallback } from 'node:stream';
import { ByteSink } from '../codec/copy-text.js';
import type { EncodedColumn } from '../codec/encode-column.js';
import { Ch } from '../codec/json-scan.js';
import { nullAsMissingKey } from '../codec/row-sql.js';
import {
  hasBackslash,
  unescapeCopyText,
  writeArray,
  writeForm,
  valueEnd,
  writeRaw,
  type ColumnForm,
} from '../codec/text-to-json.js';
import { IntegrityError } from '../errors.js';
import { RowFramer, type ExportFormat } from '../format/file-layout.js';

/**
 * Turns the output of `COPY (SELECT <columns>) TO STDOUT` (text format) into file bytes: each line is a
 * row, each tab-separated field a column's text form (or, for a `server` column, its JSON), written as the
 * row's JSON object in the forms of src/codec/text-to-json.ts. Output goes out in blocks of about 1 MB.
 */
export class CopyTextToRows extends Transform {
  private readonly framer: RowFramer;
  private readonly sink = new ByteSink();
  private readonly keys: Buffer[];
  private readonly missingWhenNull: boolean[];
  /** The unfinished last line of the chunks so far. */
  private carry: Buffer[] = [];
  private readonly keysLength: number;
  /** The array delimiters of the columns (`,`, box's `;`, a type's own). */
  private readonly delimiters: ReadonlySet<number>;

  constructor(
    format: ExportFormat,
    columns: readonly EncodedColumn[],
    private readonly forms: readonly ColumnForm[],
    private readonly onRows: (rows: number) => void = () => undefined,
  ) {
    super();
    this.framer = new RowFramer(format);
    this.keys = columns.map((c) => Buffer.from(`${JSON.stringify(c.name)}:`));
    this.keysLength = this.keys.reduce((n, k) => n + k.length, 0);
    this.missingWhenNull = columns.map(nullAsMissingKey);
    this.delimiters = new Set(forms.flatMap((f) => (typeof f === 'object' ? [f.delimiter] : [])));
    const start = this.framer.start();
    this.sink.bytes(start, 0, start.length);
  }

  get rowCount(): number {
    return this.framer.rowCount;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const buf = chunk;
      let pos = 0;
      if (this.carry.length > 0) {
        const nl = chunk.indexOf(Ch.Nl);
        if (nl < 0) {
          this.carry.push(chunk);
          return done();
        }
        this.carry.push(chunk.subarray(0, nl + 1));
        const line = Buffer.concat(this.carry);
        this.carry = [];
        this.writeRow(line, 0, line.length - 1);
        pos = nl + 1;
      }
      for (let nl = buf.indexOf(Ch.Nl, pos); nl >= 0; nl = buf.indexOf(Ch.Nl, pos)) {
        this.writeRow(buf, pos, nl);
        pos = nl + 1;
      }
      if (pos < buf.length) this.carry.push(Buffer.from(buf.subarray(pos)));
    } catch (err) {
      return done(err as Error);
    }
    if (this.sink.pending >= 1 << 19) this.push(this.sink.take());
    this.onRows(this.framer.rowCount);
    done();
  }

  /** Writes the row whose COPY text is line[start, end) (without its newline). */
  private writeRow(line: Buffer, start: number, end: number): void {
    const sink = this.sink;
    const keys = this.keys;
    const before = this.framer.beforeRow();
    const after = this.framer.afterRow();
    sink.reserve(rowBound(line, start, end, this.delimiters) + this.keysLength + 8 * keys.length + 8);
    sink.bytes(before, 0, before.length);
    sink.buf[sink.len++] = Ch.LBrace;
    let first = true;
    let pos = start;
    const last = keys.length - 1;
    for (let i = 0; i <= last; i++) {
      if (i > 0) {
        // The previous field stopped at its tab.
        if (line[pos] !== Ch.Tab) throw this.fieldCount('fewer');
        pos++;
      }
      if (
        line[pos] === Ch.Backslash &&
        line[pos + 1] === 78 &&
        (pos + 2 === end || line[pos + 2] === Ch.Tab)
      ) {
        // \N: SQL NULL, or the key left out (json and jsonb, whose `null` is a value)
        if (!this.missingWhenNull[i]) {
          this.key(i, first);
          first = false;
          sink.bytes(NULL, 0, 4);
        }
        pos += 2;
        continue;
      }
      this.key(i, first);
      first = false;
      const form = this.forms[i]!;
      if (form === 'server') pos = writeRaw(sink, line, pos, end, Ch.Tab, true);
      else if (typeof form === 'string') pos = writeForm(sink, form, line, pos, end, Ch.Tab, true);
      else {
        const stop = valueEnd(line, pos, end, Ch.Tab);
        if (!hasBackslash(line, pos, stop)) writeArray(sink, form.element, form.delimiter, line, pos, stop);
        else {
          const text = unescapeCopyText(line, pos, stop);
          writeArray(sink, form.element, form.delimiter, text, 0, text.length);
        }
        pos = stop;
      }
    }
    if (pos !== end) throw this.fieldCount('more');
    sink.buf[sink.len++] = Ch.RBrace;
    // Bytes written past the end of a buffer are dropped without a word: a row must fit what was reserved.
    if (sink.len > sink.buf.length) throw new Error(`row ${this.framer.rowCount} outgrew its reserved room`);
    sink.bytes(after, 0, after.length);
  }

  private fieldCount(which: 'fewer' | 'more'): IntegrityError {
    const n = this.framer.rowCount;
    return new IntegrityError(`COPY row ${n} has ${which} fields than the ${this.keys.length} columns`);
  }

  private key(i: number, first: boolean): void {
    const sink = this.sink;
    if (!first) sink.buf[sink.len++] = Ch.Comma;
    sink.bytes(this.keys[i]!, 0, this.keys[i]!.length);
  }

  override _flush(done: TransformCallback): void {
    if (this.carry.length > 0) return done(new IntegrityError('COPY stream ended in the middle of a row'));
    const end = this.framer.end();
    this.sink.bytes(end, 0, end.length);
    if (this.sink.pending > 0) this.push(this.sink.take());
    done();
  }
}

const NULL = Buffer.from('null');

/** Rows longer than this get a bound counted from their bytes, not the worst case of 6 × their length. */
const LARGE_ROW = 1 << 20;

/**
 * The most the JSON of a row's fields can take, keys and separators aside: a byte becomes at most 6
 * (\u00XX), and only control characters, `"` and `\` grow at all, besides the quotes a value, or an
 * array's element (one per delimiter or brace), gets. For a large row these bytes are counted, so that
 * a row of one huge value (a 500 MB bytea) does not reserve six times its size.
 */
function rowBound(line: Buffer, start: number, end: number, delimiters: ReadonlySet<number>): number {
  const length = end - start;
  if (length <= LARGE_ROW) return 6 * length;
  let grows = 0;
  for (let i = start; i < end; i++) {
    const b = line[i]!;
    if (b < 0x20 || b === Ch.Quote || b === Ch.Backslash || b === Ch.LBrace || b === Ch.RBrace) grows++;
    else if (delimiters.has(b)) grows++;
  }
  return length + 5 * grows;
}
