import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { openExportFile } from '../format/compression.js';

export interface FileDigest {
  bytes: number;
  sha256: string;
  md5: string;
}

/** Size, sha256 and md5 of an export's file, read once (never through a symbolic link). */
export async function hashFile(path: string): Promise<FileDigest> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  const stream = createReadStream(path, { fd: openExportFile(path), highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    sha256.update(chunk);
    md5.update(chunk);
  }
  return { bytes, sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

/** The MD5 an eTag holds when it is a plain one (a single-part upload), else null (`"…-3"`, other forms). */
export function plainMd5(eTag: string | null | undefined): string | null {
  const match = /^(?:W\/)?"?([0-9a-fA-F]{32})"?$/.exec(eTag ?? '');
  return match ? match[1]!.toLowerCase() : null;
}
