import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, type Hash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { StorageObjectError } from '../errors.js';
import { writeFailure, writeFileAtomically } from '../format/atomic-write.js';
import { plainMd5 } from './hash-file.js';
import { describeS3Error, s3ErrorCode } from './s3.js';
import type { SourceObject } from './source-rows.js';

/** Hashes the bytes that pass through with MD5 (the eTag of a single-part upload). */
class Md5Tap extends Transform {
  private readonly hash: Hash = createHash('md5');
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface DownloadedObject {
  bytes: number;
  sha256: string;
  md5: string;
  /** What S3 says the content type is, when the row does not say. */
  contentType: string | null;
  cacheControl: string | null;
}

/**
 * Downloads one object to `path`, streaming (a megabyte at a time, whatever its size), hashing as it writes,
 * under a temporary name renamed only once the bytes are checked: their count against the row's
 * `metadata.size` and the response's Content-Length, their MD5 against the row's and the response's eTag
 * when they are plain MD5s. Anything else is an StorageObjectError, and no file is left under `path`.
 */
export async function downloadObject(
  client: S3Client,
  object: SourceObject,
  path: string,
  signal?: AbortSignal,
): Promise<DownloadedObject> {
  const { bucket, key } = object;
  let response;
  try {
    response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    const missing = s3ErrorCode(err) === 'NoSuchKey';
    throw new StorageObjectError(
      bucket,
      key,
      missing
        ? 'listed in storage.objects but missing at the source S3 endpoint (NoSuchKey)'
        : describeS3Error(err),
      { cause: err },
    );
  }
  const body = response.Body;
  if (!(body instanceof Readable)) throw new StorageObjectError(bucket, key, 'the S3 response has no body');
  const md5 = new Md5Tap();
  const rowMd5 = plainMd5(object.eTag);
  const responseMd5 = plainMd5(response.ETag);
  const check = ({ bytes }: { bytes: number }) => {
    const got = md5.digest();
    const problems: string[] = [];
    if (object.size !== null && bytes !== object.size)
      problems.push(`storage.objects says ${object.size} bytes, S3 sent ${bytes}`);
    if (response.ContentLength !== undefined && bytes !== response.ContentLength)
      problems.push(`S3 said ${response.ContentLength} bytes (Content-Length) and sent ${bytes}`);
    if (rowMd5 && got !== rowMd5)
      problems.push(`the bytes' MD5 ${got} is not the eTag storage.objects records (${rowMd5})`);
    else if (responseMd5 && got !== responseMd5)
      problems.push(`the bytes' MD5 ${got} is not the eTag S3 sent (${responseMd5})`);
    if (problems.length > 0) throw new StorageObjectError(bucket, key, problems.join('; '));
    return got;
  };
  let md5Hex = '';
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const written = await writeFileAtomically(path, [body, md5], signal, (w) => {
      md5Hex = check(w);
    });
    return {
      ...written,
      md5: md5Hex,
      contentType: response.ContentType ?? null,
      cacheControl: response.CacheControl ?? null,
    };
  } catch (err) {
    body.destroy();
    if (err instanceof StorageObjectError || signal?.aborted) throw err;
    const errno = (err as NodeJS.ErrnoException).code;
    const problem =
      errno && /^E[A-Z]+$/.test(errno) && errno !== 'ECONNRESET' && errno !== 'ETIMEDOUT'
        ? writeFailure(path, err).message
        : `the download broke off: ${describeS3Error(err)}`;
    throw new StorageObjectError(bucket, key, problem, { cause: err });
  }
}

/**
 * A failure another attempt may not have: the connection broke off mid-body, or the server answered 5xx
 * (503 Slow Down). Not: a missing object, wrong bytes, a write to disk.
 */
export function isTransientDownload(err: unknown): boolean {
  if (!(err instanceof StorageObjectError)) return false;
  const cause = err.cause as { code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = cause?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  return /the download broke off/.test(err.message);
}
