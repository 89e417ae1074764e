import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { afterAll } from 'vitest';
import { tempDir } from './db.js';
import { s3rverClient, spawnS3rver } from './s3rver.js';

/*
 * A real S3-protocol server for the tests: s3rver (test/support/s3rver.ts), its objects in a temporary
 * directory, stopped after the file's tests.
 */

// The SDK's notice about its own future Node.js versions is not what these tests look at.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const S3_KEYS = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
};
const servers: ChildProcess[] = [];
const clients: S3Client[] = [];

export interface TestS3 {
  endpoint: string;
  client: S3Client;
}

export async function startS3(label = 's3'): Promise<TestS3> {
  const { child, endpoint } = await spawnS3rver(await tempDir(label));
  servers.push(child);
  const client = s3rverClient(endpoint);
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
