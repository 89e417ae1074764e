import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { RowFramer, type ExportFormat } from '../format/file-layout.js';

const EMPTY = Buffer.alloc(0);
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Turns the output of `COPY (SELECT <row json>) TO STDOUT (FORMAT binary)` into file bytes. The binary
 * format frames each row with a length and never escapes, so each row's JSON text is copied once, as it
 * is, into an output block of about 1 MB: no COPY text un-escaping, no per-row objects, and large writes.
 * Only a row split between two chunks is assembled from its pieces. `onRows` is told the running count.
 */
export class CopyBinaryToRows extends Transform {
  /** The start of an item split across chunks (header, row or trailer). */
  private pending: Buffer = EMPTY;
  private headerDone = false;
  private trailerSeen = false;
  private readonly framer: RowFramer;
  private out = Buffer.allocUnsafe(OUT_BLOCK);
  private outLength = 0;

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
    try {
      let pos = 0;
      if (!this.headerDone || this.pending.length > 0) {
        // Complete the split item first, from as few bytes of the new chunk as it needs.
        const joined = Buffer.concat([
          this.pending,
          chunk.subarray(0, Math.min(chunk.length, this.needed(this.pending, chunk))),
        ]);
        const used = this.consume(joined, 0);
        if (used === 0) {
          this.pending = joined;
          return done();
        }
        pos = used - this.pending.length;
        this.pending = EMPTY;
      }
      const end = this.consume(chunk, pos);
      if (end < chunk.length) this.pending = Buffer.from(chunk.subarray(end));
    } catch (err) {
      return done(err as Error);
    }
    // Large writes: a block goes out once nearly full (a chunk from the server is at most ~64 kB).
    if (this.outLength >= OUT_BLOCK - (1 << 16)) this.release();
    this.onRows(this.framer.rowCount);
    done();
  }

  /** How many bytes of `chunk` complete the item split at the end of `pending` (at most). */
  private needed(pending: Buffer, chunk: Buffer): number {
    if (!this.headerDone) return chunk.length;
    // A row starts with a 2-byte field count (-1: the trailer) and a 4-byte length.
    const head =
      pending.length >= 6 ? pending : Buffer.concat([pending, chunk.subarray(0, 6 - pending.length)]);
    if (head.length >= 2 && head.readInt16BE(0) === -1) return Math.max(0, 2 - pending.length);
    if (head.length < 6) return chunk.length;
    return 6 + Math.max(0, head.readInt32BE(2)) - pending.length;
  }

  /** Consumes the complete items of `buf` from `pos`; returns where the incomplete rest starts. */
  private consume(buf: Buffer, pos: number): number {
    if (!this.headerDone) {
      if (buf.length < 19) return 0;
      if (!buf.subarray(0, 11).equals(SIGNATURE))
        throw new IntegrityError('COPY stream has no binary signature');
      const extension = buf.readUInt32BE(15);
      if (buf.length < 19 + extension) return 0;
      pos = 19 + extension;
      this.headerDone = true;
      this.append(this.framer.start());
    }
    while (pos + 2 <= buf.length) {
      const fields = buf.readInt16BE(pos);
      if (fields === -1) {
        this.trailerSeen = true;
        return pos + 2;
      }
      if (pos + 6 > buf.length) break;
      const length = buf.readInt32BE(pos + 2);
      if (fields !== 1 || length < 0) {
        throw new IntegrityError(`unexpected COPY row (fields ${fields}, length ${length})`);
      }
      if (pos + 6 + length > buf.length) break;
      this.append(this.framer.beforeRow());
      this.appendRange(buf, pos + 6, pos + 6 + length);
      this.append(this.framer.afterRow());
      pos += 6 + length;
    }
    return pos;
  }

  private append(bytes: Buffer): void {
    if (bytes.length > 0) this.appendRange(bytes, 0, bytes.length);
  }

  private appendRange(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.outLength + n > this.out.length) {
      this.release();
      if (n > this.out.length) this.out = Buffer.allocUnsafe(n);
    }
    src.copy(this.out, this.outLength, start, end);
    this.outLength += n;
  }

  /** Pushes the output block and starts a new one (the pushed one is owned by the stream from now on). */
  private release(): void {
    if (this.outLength === 0) return;
    this.push(this.out.subarray(0, this.outLength));
    this.out = Buffer.allocUnsafe(OUT_BLOCK);
    this.outLength = 0;
  }

  override _flush(done: TransformCallback): void {
    if (!this.trailerSeen || this.pending.length > 0) {
      return done(new IntegrityError('COPY stream ended before its last row'));
    }
    this.append(this.framer.end());
    this.release();
    done();
  }
}

/** Output blocks: large enough for few writes, small enough for constant, modest memory. */
const OUT_BLOCK = 1 << 20;
