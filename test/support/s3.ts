import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll } from 'vitest';
import { tempDir } from './db.js';

/*
 * A real S3-protocol server for the tests: s3rver (from npm), on 127.0.0.1 at a free port, keeping its
 * objects in a temporary directory, in a process of its own. s3rver knows one key pair, S3RVER/S3RVER: it
 * refuses another access key id, but does not check SigV4 signatures (a wrong secret passes). Its continuation tokens (listings of more than a page) are DES-encrypted, which
 * OpenSSL 3 keeps in its legacy provider: the server runs with --openssl-legacy-provider.
 */

// The SDK's notice about its own future Node.js versions is not what these tests look at.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const S3_KEYS = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
};
const S3RVER_BIN = fileURLToPath(new URL('../../node_modules/s3rver/bin/s3rver.js', import.meta.url));
const servers: ChildProcess[] = [];
const clients: S3Client[] = [];

export interface TestS3 {
  endpoint: string;
  client: S3Client;
}

export async function startS3(label = 's3'): Promise<TestS3> {
  const dir = await tempDir(label);
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      S3RVER_BIN,
      '-d',
      dir,
      '-a',
      '127.0.0.1',
      '-p',
      '0',
      '-s',
      '--no-vhost-buckets',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  servers.push(child);
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
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  clients.push(client);
  return { endpoint, client };
}

afterAll(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.kill();
});

export const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface FixtureObject {
  bucket: string;
  key: string;
  body: Buffer;
  contentType?: string;
  cacheControl?: string;
  owner?: string;
  /** Put the row but not the bytes (an object missing at the source). */
  rowOnly?: boolean;
  /** What the row's metadata says the size is (default: the body's). */
  rowSize?: number;
}

export async function createStorageSchema(db: pg.Client): Promise<void> {
  const sql = await readFile(new URL('../fixtures/storage-schema.sql', import.meta.url), 'utf8');
  await db.query(sql);
}

export async function addBucket(
  db: pg.Client,
  s3: TestS3 | null,
  id: string,
  settings: { public?: boolean; fileSizeLimit?: number; mimeTypes?: string[] } = {},
): Promise<void> {
  await db.query(
    'insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types) values ($1, $1, $2, $3, $4)',
    [id, settings.public ?? false, settings.fileSizeLimit ?? null, settings.mimeTypes ?? null],
  );
  if (s3) await s3.client.send(new CreateBucketCommand({ Bucket: id }));
}

/** Puts each object's bytes at S3 and its row in storage.objects, as Supabase Storage does. */
export async function addObjects(db: pg.Client, s3: TestS3, objects: FixtureObject[]): Promise<void> {
  const rows = objects.map((o) => {
    const contentType = o.contentType ?? 'application/octet-stream';
    const cacheControl = o.cacheControl ?? 'max-age=3600';
    const metadata = {
      eTag: `"${md5(o.body)}"`,
      size: o.rowSize ?? o.body.length,
      mimetype: contentType,
      cacheControl,
      lastModified: new Date().toISOString(),
      contentLength: o.rowSize ?? o.body.length,
      httpStatusCode: 200,
    };
    return { o, contentType, cacheControl, metadata };
  });
  // Eight uploads at a time, then the rows in one statement.
  for (let i = 0; i < rows.length; i += 8) {
    await Promise.all(
      rows
        .slice(i, i + 8)
        .filter(({ o }) => !o.rowOnly)
        .map(({ o, contentType, cacheControl }) =>
          s3.client.send(
            new PutObjectCommand({
              Bucket: o.bucket,
              Key: o.key,
              Body: o.body,
              ContentType: contentType,
              CacheControl: cacheControl,
            }),
          ),
        ),
    );
  }
  await db.query(
    `insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
     select r->>'bucket', r->>'key', (r->>'owner')::uuid, r->>'owner', r->'metadata'
     from jsonb_array_elements($1::jsonb) r`,
    [
      JSON.stringify(
        rows.map(({ o, metadata }) => ({ bucket: o.bucket, key: o.key, owner: o.owner ?? null, metadata })),
      ),
    ],
  );
}

export async function getObject(s3: TestS3, bucket: string, key: string) {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  return { body, contentType: out.ContentType, cacheControl: out.CacheControl, metadata: out.Metadata };
}

export async function objectExists(s3: TestS3, bucket: string, key: string): Promise<boolean> {
  return s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );
}
