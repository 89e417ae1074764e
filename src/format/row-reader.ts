import { readExportFile } from './compression.js';
import { Transform, type TransformCallback } from 'node:stream';
import { RowFormatError } from '../errors.js';
import { Ch, INCOMPLETE, isWs, skipWs, stringEnd, valueEndOr } from '../codec/json-scan.js';
import type { ExportFormat } from './file-layout.js';

/**
 * Called with the exact bytes of one row object, `buf[start, end)`, and its number (from 1). The bytes
 * are only valid during the call: they may be a view into a chunk that is passed on afterwards.
 */
export type RowVisitor = (buf: Buffer, start: number, end: number, row: number) => void;

/** Strings up to this many bytes are scanned in a loop; longer ones with indexOf (a native call each). */
const SHORT_STRING = 64;

/** Where the reader is in the file layout. */
type State = 'open' | 'first' | 'between' | 'afterComma' | 'row' | 'done';

/**
 * The one parser of the export file layout (`json`: `[`, rows separated by `,`, `]`; `ndjson`: one row per
 * line), fed chunks as they come and handing out each row object's exact bytes (hashing them matches
 * hashing the row in SQL; the import decodes them). No streams inside, so it is tested by splitting
 * inputs at every byte.
 *
 * Every byte is examined once, whatever the chunking: the scanning state (inside a string? after a
 * backslash? which brackets are open?) carries over from chunk to chunk, and a row split across chunks is
 * kept as a list of pieces joined once when it completes. A row within one chunk is handed out in place.
 * So time is linear in the input and memory is about twice the largest row. The pieces are views, not
 * copies: a caller must not reuse a chunk's memory after passing it (streams never do).
 *
 * Inside a row only strings and bracket nesting are checked; the consumers read keys and values.
 * Layout errors, truncation included, are RowFormatErrors naming the row.
 */
export class RowReader {
  /** Rows handed out so far; during a visit, the number of the row being visited. */
  rows = 0;
  /** Bytes examined, for tests that check no byte is rescanned. */
  examined = 0;
  private state: State;
  /** ndjson: a line break has been seen since the last row. */
  private lineBreak = true;
  /** The closing brackets that the open ones of the current row expect, innermost last. */
  private readonly closers: number[] = [];
  private inString = false;
  /** The previous chunk ended inside a string on an escaping backslash. */
  private escaped = false;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;

  constructor(
    readonly format: ExportFormat,
    private readonly label = '',
  ) {
    this.state = format === 'json' ? 'open' : 'first';
  }

  /** Scans the next chunk of the file, calling `visit` for every row that completes in it. */
  parse(chunk: Buffer, visit: RowVisitor): void {
    const len = chunk.length;
    // Where the current row starts in this chunk: 0 for a row carried over from earlier chunks.
    let rowStart = 0;
    let i = 0;
    while (i < len) {
      if (this.state === 'row') {
        const end = this.scanRow(chunk, i);
        if (end === INCOMPLETE) break;
        this.emit(chunk, rowStart, end, visit);
        i = end;
        continue;
      }
      const c = chunk[i]!;
      this.examined++;
      if (isWs(c)) {
        if (c === Ch.Nl) this.lineBreak = true;
        i++;
        continue;
      }
      if (this.layoutByte(c)) rowStart = i;
      i++;
    }
    // The chunk ends inside a row (or on its opening brace): keep its piece for when the row completes.
    if (this.state === 'row' && rowStart < len) {
      this.pieces.push(chunk.subarray(rowStart));
      this.pieceBytes += len - rowStart;
    }
  }

  /** Call at the end of the file: a file that stops before its layout is complete is truncated. */
  end(): void {
    if (this.state === 'row' || this.state === 'afterComma')
      this.fail(`ends inside row ${this.rows + 1} (truncated?)`);
    if (this.format === 'json' && this.state === 'open') this.fail('is empty, not a JSON array (truncated?)');
    if (this.format === 'json' && this.state !== 'done')
      this.fail(`ends after row ${this.rows} without the closing ] (truncated?)`);
  }

  /** One byte of the layout between rows (not whitespace); returns whether it starts a row. */
  private layoutByte(c: number): boolean {
    switch (this.state) {
      case 'open':
        if (c !== Ch.LBracket) this.fail('is not a JSON array (it should start with [)');
        this.state = 'first';
        return false;
      case 'first':
        if (this.format === 'json' && c === Ch.RBracket) {
          this.state = 'done';
          return false;
        }
        if (this.format === 'ndjson' && !this.lineBreak && c === Ch.LBrace)
          this.fail(`expected a line break after row ${this.rows}`);
        return this.startRow(c);
      case 'between':
        if (c === Ch.Comma) this.state = 'afterComma';
        else if (c === Ch.RBracket) this.state = 'done';
        else this.fail(`expected , or ] after row ${this.rows}`);
        return false;
      case 'afterComma':
        return this.startRow(c);
      default: // 'done' ('row' bytes never come here)
        return this.fail('has data after the closing ]');
    }
  }

  private startRow(c: number): true {
    if (c !== Ch.LBrace) this.fail(`row ${this.rows + 1} is not an object`);
    this.closers.push(Ch.RBrace);
    this.state = 'row';
    return true;
  }

  /** Scans the current row from `from`; returns the end of the row (exclusive), or INCOMPLETE at the chunk end. */
  private scanRow(buf: Buffer, from: number): number {
    const len = buf.length;
    const closers = this.closers;
    let i = from;
    // Counted in a local and added once: a property write per byte costs a third of the scan.
    let structural = 0;
    try {
      while (i < len) {
        if (this.inString) {
          i = this.scanString(buf, i);
          continue;
        }
        const b = buf[i]!;
        structural++;
        if (b === Ch.Quote) {
          // Short strings (most values) in this loop; a long one, or one the chunk cuts, by scanString.
          const stop = Math.min(len, i + SHORT_STRING);
          let k = i + 1;
          while (k < stop && buf[k] !== Ch.Quote) k += buf[k] === Ch.Backslash ? 2 : 1;
          if (k < stop) {
            structural += k - i;
            i = k + 1;
            continue;
          }
          this.inString = true;
          if (k > len) {
            // The chunk ends on an escaping backslash.
            structural += len - i - 1;
            this.escaped = true;
            return INCOMPLETE;
          }
          structural += k - i - 1;
          i = k;
          continue;
        } else if (b === Ch.LBrace) closers.push(Ch.RBrace);
        else if (b === Ch.LBracket) closers.push(Ch.RBracket);
        else if (b === Ch.RBrace || b === Ch.RBracket) {
          if (closers.pop() !== b)
            this.fail(`row ${this.rows + 1}: ${String.fromCharCode(b)} does not close an open bracket`);
          if (closers.length === 0) return i + 1;
        }
        i++;
      }
      return INCOMPLETE;
    } finally {
      this.examined += structural;
    }
  }

  /**
   * Inside a string from `from`: returns the index after its closing quote, or the chunk's length when the
   * string goes on. Quotes are found with indexOf (native speed for huge values); a quote is escaped when
   * an odd number of backslashes precede it, counting the one the previous chunk may have ended on.
   */
  private scanString(buf: Buffer, from: number): number {
    const len = buf.length;
    let i = from;
    let carried = this.escaped;
    for (;;) {
      const quote = buf.indexOf(Ch.Quote, i);
      const stop = quote === -1 ? len : quote;
      let k = stop;
      while (k > i && buf[k - 1] === Ch.Backslash) k--;
      this.examined += stop - i + (quote === -1 ? 0 : 1) + (stop - k);
      const backslashes = stop - k + (k === i && carried ? 1 : 0);
      if (quote === -1) {
        this.escaped = backslashes % 2 === 1;
        return len;
      }
      if (backslashes % 2 === 0) {
        this.inString = false;
        this.escaped = false;
        return quote + 1;
      }
      i = quote + 1;
      carried = false;
    }
  }

  private emit(chunk: Buffer, start: number, end: number, visit: RowVisitor): void {
    this.rows++;
    this.state = this.format === 'json' ? 'between' : 'first';
    this.lineBreak = false;
    if (this.pieces.length === 0) {
      visit(chunk, start, end, this.rows);
      return;
    }
    this.pieces.push(chunk.subarray(0, end));
    const row = Buffer.concat(this.pieces, this.pieceBytes + end);
    this.pieces = [];
    this.pieceBytes = 0;
    visit(row, 0, row.length, this.rows);
  }

  /** Fails naming the row being read, or the one that was expected next. */
  private fail(what: string): never {
    throw new RowFormatError(this.label ? `${this.label}: ${what}` : what, this.rows + 1);
  }
}

/**
 * A Transform from a file's bytes to what `visit` returns for its rows (joined per chunk), so the results
 * stream onwards (into a COPY) in constant memory. `rows` counts the rows read.
 */
export class RowScanner extends Transform {
  private readonly reader: RowReader;

  constructor(
    private readonly label: string,
    format: ExportFormat,
    private readonly visit: (buf: Buffer, start: number, end: number, row: number) => string | void,
  ) {
    super();
    this.reader = new RowReader(format, label);
  }

  get rows(): number {
    return this.reader.rows;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out: string[] = [];
    try {
      this.reader.parse(chunk, (buf, start, end, row) => {
        const text = this.visit(buf, start, end, row);
        if (text) out.push(text);
      });
    } catch (err) {
      // A row the visitor found malformed is named with its file, as the reader's own errors are.
      if (err instanceof RowFormatError && this.label && !err.message.startsWith(this.label))
        return done(new RowFormatError(`${this.label}: ${err.message}`, err.row));
      return done(err as Error);
    }
    done(null, out.length > 0 ? out.join('') : undefined);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.reader.end();
    } catch (err) {
      return done(err as Error);
    }
    done();
  }
}

/** Visits every row of an export file, in memory bounded by the largest row; returns the number of rows. */
export async function forEachFileRow(path: string, format: ExportFormat, visit: RowVisitor): Promise<number> {
  const reader = new RowReader(format, path);
  for await (const chunk of readExportFile(path)) {
    reader.parse(chunk as Buffer, visit);
  }
  reader.end();
  return reader.rows;
}

/**
 * The raw bytes of the values of `names` in the row object `buf[start, end)`, as `[v1,v2,…]` (the row's key
 * in verify). A row that is not an object of keys and values is a RowFormatError naming row `row`.
 */
export function rowValuesText(
  buf: Buffer,
  start: number,
  end: number,
  names: readonly string[],
  row = 0,
): string {
  // A view of the row alone, so that no scan of a malformed row runs past its end.
  const obj = buf.subarray(start, end);
  const bad = (): never => {
    throw new RowFormatError(`row ${row}: not an object of keys and values`, row);
  };
  const wanted = new Map(names.map((n, i) => [JSON.stringify(n), i]));
  const values: string[] = new Array<string>(names.length).fill('null');
  let pos = skipWs(obj, 1);
  while (pos < obj.length && obj[pos] !== Ch.RBrace) {
    if (obj[pos] !== Ch.Quote) bad();
    const keyEnd = stringEnd(obj, pos);
    if (keyEnd === INCOMPLETE) bad();
    const key = obj.toString('utf8', pos, keyEnd);
    pos = skipWs(obj, keyEnd);
    if (obj[pos] !== Ch.Colon) bad();
    pos = skipWs(obj, pos + 1);
    const valueStop = pos < obj.length ? valueEndOr(obj, pos, bad) : bad();
    const index = wanted.get(key);
    if (index !== undefined) values[index] = obj.toString('utf8', pos, valueStop);
    pos = skipWs(obj, valueStop);
    if (obj[pos] === Ch.Comma) pos = skipWs(obj, pos + 1);
    else if (obj[pos] !== Ch.RBrace) bad();
  }
  return `[${values.join(',')}]`;
}
