import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { RowFramer, type ExportFormat } from '../format/file-layout.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Turns the output of `COPY (SELECT <row json>) TO STDOUT (FORMAT binary)` into file bytes. The binary
 * format frames each row with a length and never escapes, so each row's JSON text is copied once, as it
 * is, into an output block of about 1 MB: no COPY text un-escaping, no per-row objects, and large writes.
 * Only a row split between two chunks is assembled from its pieces. `onRows` is told the running count.
 */
export class CopyBinaryToRows extends Transform {
  /** The pieces of an item split across chunks (header, row or trailer), and their total length. */
  private pieces: Buffer[] = [];
  private piecesLength = 0;
  /** Bytes copied to join split items: at most about the input's size (tests check it stays linear). */
  joinedBytes = 0;
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
      let buf = chunk;
      if (this.piecesLength > 0 || !this.headerDone) {
        // An item (header, row or trailer) split across chunks: its pieces are kept until it is whole,
        // then joined once, so a row of any size costs time linear in its bytes.
        this.pieces.push(chunk);
        this.piecesLength += chunk.length;
        const need = this.itemLength();
        if (need === null || this.piecesLength < need) return done();
        buf = Buffer.concat(this.pieces, this.piecesLength);
        this.joinedBytes += buf.length;
        this.pieces = [];
        this.piecesLength = 0;
      }
      const end = this.consume(buf, 0);
      if (end < buf.length) {
        // A copy: the rest must not keep a large joined buffer alive.
        this.pieces = [Buffer.from(buf.subarray(end))];
        this.piecesLength = buf.length - end;
      }
    } catch (err) {
      return done(err as Error);
    }
    // Large writes: a block goes out once nearly full (a chunk from the server is at most ~64 kB).
    if (this.outLength >= OUT_BLOCK - (1 << 16)) this.release();
    this.onRows(this.framer.rowCount);
    done();
  }

  /** The length of the item the kept pieces start with, or null while its first bytes are not all here. */
  private itemLength(): number | null {
    const head = this.head(this.headerDone ? 6 : 19);
    if (!this.headerDone) return head.length < 19 ? null : 19 + head.readUInt32BE(15);
    if (head.length < 2) return null;
    // A row starts with a 2-byte field count (-1: the trailer) and a 4-byte length.
    if (head.readInt16BE(0) === -1) return 2;
    return head.length < 6 ? null : 6 + Math.max(0, head.readInt32BE(2));
  }

  /** The first `n` bytes of the kept pieces (fewer when there are fewer). */
  private head(n: number): Buffer {
    const first = this.pieces[0]!;
    if (first.length >= n || this.pieces.length === 1) return first.subarray(0, n);
    return Buffer.concat(this.pieces, Math.min(n, this.piecesLength)).subarray(0, n);
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
    if (!this.trailerSeen || this.piecesLength > 0) {
      return done(new IntegrityError('COPY stream ended before its last row'));
    }
    this.append(this.framer.end());
    this.release();
    done();
  }
}

/** Output blocks: large enough for few writes, small enough for constant, modest memory. */
const OUT_BLOCK = 1 << 20;
