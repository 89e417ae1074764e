import { createReadStream } from 'node:fs';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RowFormatError } from '../errors.js';
import { Ch, INCOMPLETE, isWs, skipWs, stringEnd, valueEnd } from '../codec/json-scan.js';

/** Called with the exact bytes of one row object, `buf[start, end)`; may return text to pass on. */
export type RowVisitor = (buf: Buffer, start: number, end: number) => string | void;

/**
 * Finds the row objects of an export file as it streams through, and calls `visit` with each row's exact
 * bytes (what the database wrote, so hashing them matches hashing the row in SQL). What `visit` returns is
 * passed on downstream, so the results can stream onwards (into a COPY) in constant memory.
 */
export class RowScanner extends Transform {
  private pending = Buffer.alloc(0);
  private state: 'start' | 'rows' | 'end';
  rows = 0;

  constructor(
    private readonly label: string,
    private readonly format: 'json' | 'ndjson',
    private readonly visit: RowVisitor,
  ) {
    super();
    this.state = format === 'json' ? 'start' : 'rows';
  }

  private fail(what: string): never {
    throw new RowFormatError(`${this.label}: ${what}`, this.rows + 1);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: string[] = [];
    let pos = 0;
    try {
      for (;;) {
        pos = skipWs(buf, pos);
        if (pos >= buf.length) break;
        const c = buf[pos]!;
        if (this.state === 'start') {
          if (c !== Ch.LBracket) this.fail('not a JSON array');
          this.state = 'rows';
          pos++;
          continue;
        }
        if (this.state === 'end') this.fail('data after the closing ]');
        if (this.format === 'json' && c === Ch.RBracket) {
          this.state = 'end';
          pos++;
          continue;
        }
        let at = pos;
        if (this.format === 'json' && this.rows > 0) {
          if (c !== Ch.Comma) this.fail(`expected , after row ${this.rows}`);
          at = skipWs(buf, pos + 1);
          if (at >= buf.length) break;
        }
        if (buf[at] !== Ch.LBrace) this.fail(`row ${this.rows + 1} is not an object`);
        const end = valueEnd(buf, at);
        if (end === INCOMPLETE) break;
        const text = this.visit(buf, at, end);
        if (text) out.push(text);
        this.rows++;
        pos = end;
      }
    } catch (err) {
      return done(err as Error);
    }
    this.pending = Buffer.from(buf.subarray(pos));
    done(null, out.length > 0 ? out.join('') : undefined);
  }

  override _flush(done: TransformCallback): void {
    if (skipWs(this.pending, 0) < this.pending.length || (this.format === 'json' && this.state !== 'end')) {
      return done(
        new RowFormatError(`${this.label}: ends inside row ${this.rows + 1} (truncated?)`, this.rows + 1),
      );
    }
    done();
  }
}

/** Visits every row of an export file, in constant memory; returns the number of rows. */
export async function forEachFileRow(
  path: string,
  format: 'json' | 'ndjson',
  visit: RowVisitor,
): Promise<number> {
  const scanner = new RowScanner(path, format, visit);
  const discard = new Writable({ write: (_chunk, _enc, done) => done() });
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), scanner, discard);
  return scanner.rows;
}

/** The raw bytes of the values of `names` in a row object, as `[v1,v2,…]` (the row's key in verify). */
export function rowValuesText(buf: Buffer, start: number, end: number, names: readonly string[]): string {
  const wanted = new Map(names.map((n, i) => [JSON.stringify(n), i]));
  const values: string[] = new Array<string>(names.length).fill('null');
  let pos = skipWs(buf, start + 1);
  while (pos < end && buf[pos] !== Ch.RBrace) {
    const keyEnd = stringEnd(buf, pos);
    const key = buf.toString('utf8', pos, keyEnd);
    pos = skipWs(buf, skipWs(buf, keyEnd) + 1); // past the colon
    const valueStop = valueEnd(buf, pos);
    const index = wanted.get(key);
    if (index !== undefined) values[index] = buf.toString('utf8', pos, valueStop);
    pos = skipWs(buf, valueStop);
    if (buf[pos] === Ch.Comma) pos = skipWs(buf, pos + 1);
    if (isWs(buf[pos] ?? 0)) pos = skipWs(buf, pos);
  }
  return `[${values.join(',')}]`;
}
