import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';

export type ExportFormat = 'json' | 'ndjson';

/**
 * Lays rows out in a file: `json` is one array, `[`, then one row object per line separated by `,`, then `]`;
 * `ndjson` is one row object per line. (A `json`-typed value keeps its own text, line breaks included.)
 */
export class RowFramer {
  private rows = 0;
  constructor(readonly format: ExportFormat) {}

  get rowCount(): number {
    return this.rows;
  }

  start(): Buffer {
    return Buffer.from(this.format === 'json' ? '[\n' : '');
  }

  /** The separator to write before the next row. */
  beforeRow(): Buffer {
    const sep = this.format === 'json' && this.rows > 0 ? COMMA_NL : EMPTY;
    this.rows++;
    return sep;
  }

  afterRow(): Buffer {
    return this.format === 'ndjson' ? NL : EMPTY;
  }

  end(): Buffer {
    if (this.format === 'ndjson') return EMPTY;
    return Buffer.from(this.rows > 0 ? '\n]\n' : ']\n');
  }
}

const EMPTY = Buffer.alloc(0);
const NL = Buffer.from('\n');
const COMMA_NL = Buffer.from(',\n');
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Turns the output of `COPY (SELECT <row json>) TO STDOUT (FORMAT binary)` into file bytes. The binary
 * format frames each row with a length and never escapes, so the client copies the JSON text as it is:
 * no COPY text un-escaping and no per-row objects. `onRows` is told the running row count per chunk.
 */
export class CopyBinaryToRows extends Transform {
  private pending: Buffer = EMPTY;
  private headerDone = false;
  private trailerSeen = false;
  private readonly framer: RowFramer;

  constructor(
    format: ExportFormat,
    private readonly onRows: (rows: number) => void = () => undefined,
  ) {
    super();
    this.framer = new RowFramer(format);
  }

  get rowCount(): number {
    return this.framer.rowCount;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos = 0;
    const out: Buffer[] = [];
    try {
      if (!this.headerDone) {
        if (buf.length < 19) {
          this.pending = buf;
          return done();
        }
        if (!buf.subarray(0, 11).equals(SIGNATURE))
          throw new IntegrityError('COPY stream has no binary signature');
        const extension = buf.readUInt32BE(15);
        if (buf.length < 19 + extension) {
          this.pending = buf;
          return done();
        }
        pos = 19 + extension;
        this.headerDone = true;
        out.push(this.framer.start());
      }
      while (pos + 2 <= buf.length) {
        const fields = buf.readInt16BE(pos);
        if (fields === -1) {
          this.trailerSeen = true;
          pos += 2;
          break;
        }
        if (pos + 6 > buf.length) break;
        const length = buf.readInt32BE(pos + 2);
        if (fields !== 1 || length < 0)
          throw new IntegrityError(`unexpected COPY row (fields ${fields}, length ${length})`);
        if (pos + 6 + length > buf.length) break;
        out.push(this.framer.beforeRow(), buf.subarray(pos + 6, pos + 6 + length), this.framer.afterRow());
        pos += 6 + length;
      }
      this.pending = pos < buf.length ? Buffer.from(buf.subarray(pos)) : EMPTY;
      buf = EMPTY;
    } catch (err) {
      return done(err as Error);
    }
    if (out.length > 0) this.push(Buffer.concat(out));
    this.onRows(this.framer.rowCount);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.trailerSeen || this.pending.length > 0) {
      return done(new IntegrityError('COPY stream ended before its last row'));
    }
    this.push(this.framer.end());
    done();
  }
}
