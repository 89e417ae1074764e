import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lstat, open, rename, rm } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Counts and hashes the bytes that pass through. */
export class DigestTap extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface WrittenFile {
  bytes: number;
  sha256: string;
}

/** The temporary name a file is written under until it is complete. */
export const partialPath = (path: string) => join(dirname(path), `.${basename(path)}.partial`);

/**
 * Writes a stream to `path` readable by the owner only (mode 0600: exports hold personal data). The
 * bytes go to a temporary name, are flushed to disk, and only then renamed to `path`, so a file under
 * its final name is always complete. On failure the temporary file is removed.
 */
export async function writeFileAtomically(
  path: string,
  source: [Readable, ...Transform[]],
  signal?: AbortSignal,
  /** Checks what was written before it gets its final name; throwing removes the temporary file. */
  check?: (written: WrittenFile) => void | Promise<void>,
): Promise<WrittenFile> {
  const temp = partialPath(path);
  const tap = new DigestTap();
  let written: WrittenFile;
  try {
    const file = createWriteStream(temp, { mode: 0o600, highWaterMark: 1 << 20 });
    file.once('open', () => void chmod(temp, 0o600).catch(() => undefined));
    await pipeline([...source, tap, file], signal ? { signal } : {});
    // One fsync once all is written (the stream's own `flush` option costs a sync per write): the data
    // is on disk before the file gets its final name.
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    written = { bytes: tap.bytes, sha256: tap.digest() };
    await check?.(written);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined); // the write's own error is the one to tell
    throw err;
  }
  await rename(temp, path);
  return written;
}

/**
 * Writes `value` as indented JSON to `path`, mode 0600, the way writeFileAtomically writes a stream:
 * under the temporary name, flushed to disk, then renamed, so a reader (or a crash) never sees half of
 * it. For metadata.json, import-state.json and user-map.json, which are rewritten while in use.
 */
export async function writeJsonAtomically(
  path: string,
  value: unknown,
  options: { concurrent?: boolean } = {},
): Promise<void> {
  await writeTextAtomically(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/**
 * Refuses to replace files that exist (a UsageError naming them) unless `force`: files written for the
 * user (user maps, provider exports) are replaced only when asked, as `export` replaces an export.
 */
export async function refuseToOverwrite(paths: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  const existing: string[] = [];
  for (const path of paths) {
    const found = await lstat(path).then(
      () => true,
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(err)),
    );
    if (found) existing.push(path);
  }
  if (existing.length > 0) {
    throw new UsageError(
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: not replaced (give --force to replace ${existing.length === 1 ? 'it' : 'them'})`,
    );
  }
}

/** A failed write as the user reads it: which file, and why in words (ENOSPC → "the disk is full"). */
export function writeFailure(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC'
      ? 'the disk is full (ENOSPC)'
      : code === 'EDQUOT'
        ? 'the disk quota is exhausted (EDQUOT)'
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied (${code})`
          : code === 'EROFS'
            ? 'read-only file system (EROFS)'
            : code === 'EISDIR'
              ? 'a directory is in the way (EISDIR)'
              : (err as Error).message;
  return new Error(`cannot write ${path}: ${why}`, { cause: err });
}

/**
 * Writes text to `path` the way writeJsonAtomically writes JSON: mode 0600 whatever was there before.
 * `concurrent`: other processes may write the same file at once (two imports of one export into two
 * targets), so the temporary name is this process's own.
 */
export async function writeTextAtomically(
  path: string,
  text: string,
  options: { concurrent?: boolean } = {},
): Promise<void> {
  const temp = options.concurrent
    ? join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`)
    : partialPath(path);
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      // open() keeps the mode of a temporary file an earlier run left behind; the renamed file must be
      // 0600 whatever was there before (it replaces the old file, and with it the old file's mode).
      await handle.chmod(0o600);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined); // the write's own error is the one to tell
    throw writeFailure(path, err);
  }
  await rename(temp, path).catch((err: unknown) => {
    throw writeFailure(path, err);
  });
}
