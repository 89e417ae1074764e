import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { InterruptedError } from '../errors.js';
import { objectLabel, readStorageManifest, type StorageManifest } from '../format/storage-manifest.js';
import { SettingsProblems, type NumberOption } from '../settings.js';
import { plainMd5 } from './hash-file.js';
import { forEachParallel } from './parallel.js';
import { bucketExists, describeS3Error, parseS3Settings, s3Client, type S3Options } from './s3.js';
import { readSourceRows } from './source-rows.js';
import { defaultStorageJobs } from './storage-export.js';
import { parseTargetOptions, planTarget, type TargetObject, type TargetOptions } from './target-plan.js';

export interface StorageVerifyOptions extends TargetOptions {
  inputDir: string;
  s3: S3Options;
  /** Also compare the export with the source's storage.objects rows. */
  dbUrl?: string;
  /** Download and hash every object, instead of trusting an MD5 eTag or the sha256 import recorded. */
  download?: boolean;
  jobs?: NumberOption;
  signal?: AbortSignal;
}

export type StorageProblemKind = 'missing' | 'extra' | 'different' | 'not exported' | 'not in the source';

export interface StorageProblem {
  kind: StorageProblemKind;
  bucket: string;
  key: string;
  detail: string;
}

export interface StorageVerifyResult {
  ok: boolean;
  objects: number;
  /** How many objects' contents were compared by downloading them. */
  downloaded: number;
  problems: StorageProblem[];
}

interface Listed {
  size: number;
  eTag: string | null;
}

/**
 * Compares a storage export with the target (and with `dbUrl`, the source's storage.objects rows): lists
 * both sides and names every object missing, extra or different. Content is compared by the target's eTag
 * when it is a plain MD5, else by the sha256 import recorded as object metadata, else (and always with
 * `download`) by downloading and hashing the object.
 */
export async function verifyStorage(options: StorageVerifyOptions): Promise<StorageVerifyResult> {
  const check = new SettingsProblems();
  const s3 = parseS3Settings(options.s3, check);
  const jobs = check.integer(options.jobs, '--jobs', 1, defaultStorageJobs());
  const bucketMap = parseTargetOptions(options, check);
  if (options.dbUrl !== undefined) check.database(options.dbUrl, '--db-url', 'SUPABASE_DB_URL');
  check.done();
  const manifest = (await readStorageManifest(options.inputDir))!;
  const plan = await planTarget(manifest, bucketMap, options);
  const problems: StorageProblem[] = [];
  const add = (kind: StorageProblemKind, bucket: string, key: string, detail: string) =>
    problems.push({ kind, bucket, key, detail });
  for (const o of manifest.objects.filter((o) => o.state !== 'complete'))
    add('not exported', o.bucket, o.key, 'the storage export did not complete this object');
  if (options.dbUrl) await compareWithSource(options.dbUrl, manifest, add);

  const client = s3Client(s3);
  let downloaded = 0;
  try {
    const listed = new Map<string, Map<string, Listed>>();
    for (const bucket of plan.targetBuckets.keys()) {
      listed.set(
        bucket,
        (await bucketExists(client, s3.endpoint, bucket)) ? await listBucket(client, bucket) : new Map(),
      );
    }
    const toCompare: TargetObject[] = [];
    const expected = new Set<string>();
    for (const t of plan.objects.filter((t) => t.object.state === 'complete')) {
      expected.add(`${t.bucket}\0${t.key}`);
      const there = listed.get(t.bucket)!.get(t.key);
      if (!there) add('missing', t.bucket, t.key, 'not on the target');
      else if (there.size !== t.object.size)
        add('different', t.bucket, t.key, `${there.size} bytes on the target, ${t.object.size} exported`);
      else if (!options.download && plainMd5(there.eTag) && t.object.md5) {
        if (plainMd5(there.eTag) !== t.object.md5)
          add(
            'different',
            t.bucket,
            t.key,
            `content differs (MD5 ${plainMd5(there.eTag)} on the target, ${t.object.md5} exported)`,
          );
      } else toCompare.push(t);
    }
    for (const [bucket, keys] of listed)
      for (const [key, info] of keys)
        if (!expected.has(`${bucket}\0${key}`))
          add(
            'extra',
            bucket,
            key,
            `on the target (${info.size} byte${info.size === 1 ? '' : 's'}), not in the export`,
          );

    await forEachParallel(
      toCompare,
      jobs,
      async (t) => {
        try {
          const head = options.download
            ? null
            : await client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key }));
          let sha256 = head?.Metadata?.sha256 ?? null;
          if (!sha256) {
            sha256 = await downloadHash(client, t.bucket, t.key, options.signal);
            downloaded++;
          }
          if (sha256 !== t.object.sha256)
            add(
              'different',
              t.bucket,
              t.key,
              `content differs (sha256 ${sha256} on the target, ${t.object.sha256} exported)`,
            );
        } catch (err) {
          if (!options.signal?.aborted)
            add('different', t.bucket, t.key, `cannot read it: ${describeS3Error(err)}`);
        }
      },
      options.signal,
    );
    if (options.signal?.aborted) throw new InterruptedError('storage verify stopped before the end');
  } finally {
    client.destroy();
  }
  problems.sort((a, b) => cmp(a.bucket, b.bucket) || cmp(a.key, b.key) || cmp(a.kind, b.kind));
  return { ok: problems.length === 0, objects: plan.objects.length, downloaded, problems };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every key of a bucket with its size and eTag, page by page (bounded by the listing's own end). */
async function listBucket(client: S3Client, bucket: string): Promise<Map<string, Listed>> {
  const keys = new Map<string, Listed>();
  let token: string | undefined;
  for (let page = 0; page < 10_000_000; page++) {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of out.Contents ?? [])
      if (o.Key !== undefined) keys.set(o.Key, { size: o.Size ?? 0, eTag: o.ETag ?? null });
    if (!out.IsTruncated || !out.NextContinuationToken) break;
    token = out.NextContinuationToken;
  }
  return keys;
}

async function downloadHash(
  client: S3Client,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  if (!(out.Body instanceof Readable)) throw new Error('the S3 response has no body');
  const hash = createHash('sha256');
  for await (const chunk of out.Body as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/** The export against the source's rows now: objects added, removed or resized since. */
async function compareWithSource(
  dbUrl: string,
  manifest: StorageManifest,
  add: (kind: StorageProblemKind, bucket: string, key: string, detail: string) => void,
): Promise<void> {
  const rows = await readSourceRows(
    dbUrl,
    manifest.buckets.map((b) => b.id),
  );
  const exported = new Map(manifest.objects.map((o) => [`${o.bucket}\0${o.key}`, o]));
  const inSource = new Set<string>();
  for (const row of rows.objects) {
    const id = `${row.bucket}\0${row.key}`;
    inSource.add(id);
    const o = exported.get(id);
    if (!o) add('not exported', row.bucket, row.key, 'in storage.objects at the source, not in the export');
    else if (row.size !== null && o.state === 'complete' && row.size !== o.size)
      add('different', row.bucket, row.key, `storage.objects says ${row.size} bytes, ${o.size} exported`);
    else if (o.state === 'complete') {
      // Same size, other content: the row's eTag, when it is a plain MD5, against the bytes exported.
      const rowMd5 = plainMd5(row.eTag);
      if (rowMd5 && o.md5 && rowMd5 !== o.md5)
        add(
          'different',
          row.bucket,
          row.key,
          `storage.objects says MD5 ${rowMd5}, the exported bytes have ${o.md5}`,
        );
    }
  }
  for (const o of manifest.objects)
    if (!inSource.has(`${o.bucket}\0${o.key}`))
      add(
        'not in the source',
        o.bucket,
        o.key,
        `exported, no longer in storage.objects (${objectLabel(o.bucket, o.key)})`,
      );
}
