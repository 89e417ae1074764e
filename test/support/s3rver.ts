import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

/*
 * s3rver (from npm) on 127.0.0.1 at a free port, keeping its objects in `dir`, in a process of its own:
 * the S3 server of the storage tests (test/support/s3.ts) and of bench/storage-memory.ts. It knows one key
 * pair, S3RVER/S3RVER: it refuses another access key id, but does not check SigV4 signatures (a wrong
 * secret passes). Its continuation tokens (listings of more than a page) are DES-encrypted, which OpenSSL 3
 * keeps in its legacy provider: the server runs with --openssl-legacy-provider.
 */

const S3RVER_BIN = fileURLToPath(new URL('../../node_modules/s3rver/bin/s3rver.js', import.meta.url));

export interface S3rver {
  child: ChildProcess;
  endpoint: string;
}

/** Starts s3rver and resolves once it listens (refused after 20 s, or if it exits first). */
export async function spawnS3rver(dir: string): Promise<S3rver> {
  const args = ['-d', dir, '-a', '127.0.0.1', '-p', '0', '-s', '--no-vhost-buckets'];
  const child = spawn(process.execPath, ['--openssl-legacy-provider', S3RVER_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on [\d.]+:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited (${code}): ${out}`)));
  });
  return { child, endpoint: `http://127.0.0.1:${port}` };
}

/** A client of s3rver's one key pair, path-style, checksums only where S3 requires them. */
export function s3rverClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
