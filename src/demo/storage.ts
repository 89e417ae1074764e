import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { SettingsProblems } from '../settings.js';
import { parseS3Settings, s3Client, type S3Options } from '../storage/s3.js';
import { moveStorage, type MoveStorageResult } from '../storage/move-storage.js';
import { prepareBuckets } from '../storage/storage-import.js';

export interface DemoStorageOptions {
  source: S3Options;
  target: S3Options;
}

/** The sample's buckets get this prefix, so the demo never writes into buckets of yours. */
const PREFIX = 'supamigrate-demo-';

/**
 * The storage part of the demo: the sample's storage.objects rows get bytes of their own (a few hundred
 * bytes each, their size and MD5 eTag written back into the rows, as Supabase Storage records them),
 * uploaded to the source endpoint in buckets named supamigrate-demo-*; then storage export into the demo's
 * directory, storage import to the target endpoint, and storage verify against the target and the rows.
 */
export async function demoStorage(
  sourceUrl: string,
  outputDir: string,
  options: DemoStorageOptions,
  signal?: AbortSignal,
): Promise<MoveStorageResult> {
  const check = new SettingsProblems();
  const source = parseS3Settings(options.source, check);
  const target = parseS3Settings(options.target, check, process.env, {
    flag: '--target-s3',
    env: 'TARGET_AWS',
  });
  check.done();
  const db = new pg.Client({ connectionString: sourceUrl });
  await db.connect();
  let objects: { bucket: string; key: string; type: string; body: Buffer }[];
  try {
    // The rows' bucket ids renamed (foreign keys held back meanwhile: the sample's own superuser).
    await db.query('set session_replication_role = replica');
    await db.query(`update storage.objects set bucket_id = $1 || bucket_id`, [PREFIX]);
    await db.query(`update storage.buckets set id = $1 || id, name = $1 || name`, [PREFIX]);
    await db.query('set session_replication_role = origin');
    const rows = await db.query<{ id: string; bucket: string; key: string; type: string | null }>(
      `select id, bucket_id as bucket, name as key, metadata->>'mimetype' as type from storage.objects order by 1`,
    );
    objects = rows.rows.map((r) => ({
      bucket: r.bucket,
      key: r.key,
      type: r.type ?? 'application/octet-stream',
      body: Buffer.from(`supamigrate demo object ${r.bucket}/${r.key}\n`.repeat(1 + (r.key.length % 7))),
    }));
    for (const [i, o] of objects.entries()) {
      const md5 = createHash('md5').update(o.body).digest('hex');
      await db.query(
        `update storage.objects set metadata = coalesce(metadata, '{}') || jsonb_build_object('size', $2::int, 'eTag', $3::text, 'mimetype', $4::text) where id = $1`,
        [rows.rows[i]!.id, o.body.length, `"${md5}"`, o.type],
      );
    }
  } finally {
    await db.end();
  }
  const client = s3Client(source);
  try {
    await prepareBuckets(client, source, [...new Set(objects.map((o) => o.bucket))]);
    for (const o of objects)
      await client.send(
        new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: o.body, ContentType: o.type }),
      );
  } finally {
    client.destroy();
  }
  // Started over (--force): the demo replaces an earlier demo's export, as it does the data's.
  return moveStorage({ dbUrl: sourceUrl, dir: outputDir, source, target, resume: false, signal });
}
