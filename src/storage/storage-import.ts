import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { InterruptedError, StorageObjectError, UsageError } from '../errors.js';
import { DigestTap } from '../format/atomic-write.js';
import { openExportFile } from '../format/compression.js';
import { objectPath, readStorageManifest, type StorageManifest } from '../format/storage-manifest.js';
import { SettingsProblems, type NumberOption } from '../settings.js';
import { forEachParallel } from './parallel.js';
import {
  bucketExists,
  describeS3Error,
  parseS3Settings,
  s3Client,
  s3ErrorCode,
  type S3Options,
  type S3Settings,
} from './s3.js';
import { defaultStorageJobs, type StorageEvent, type StorageFailure } from './storage-export.js';
import { parseTargetOptions, planTarget, type TargetObject, type TargetOptions } from './target-plan.js';

export interface StorageImportOptions extends TargetOptions {
  inputDir: string;
  s3: S3Options;
  jobs?: NumberOption;
  /** Skip objects the target already holds with the same size and sha256. */
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: StorageEvent) => void;
}

export interface StorageImportResult {
  objects: number;
  bytes: number;
  /** Objects already on the target (--resume). */
  skipped: number;
  createdBuckets: string[];
  /** Bucket settings S3 cannot hold, to set on the target by hand. */
  notes: string[];
  renamed: { bucket: string; from: string; to: string }[];
  /** With --user-map: each object whose owner the map has, with the old and new id. */
  owners: { bucket: string; key: string; from: string; to: string }[];
  unmappedOwners: string[];
  failures: StorageFailure[];
}

/** Multipart above this size (lib-storage's part size); one PUT below it. */
const PART_SIZE = 8 * 1024 * 1024;

/**
 * Uploads a storage export to an S3-compatible target (AWS S3, R2, MinIO, Supabase again): every object
 * with its content type and cache control, streamed from its file (multipart when large), its sha256
 * kept as `x-amz-meta-sha256` (what --resume and verify compare). Missing buckets are created; bucket
 * settings S3 cannot hold (public, size limit, MIME types) are returned as notes.
 */
export async function importStorage(options: StorageImportOptions): Promise<StorageImportResult> {
  const check = new SettingsProblems();
  const s3 = parseS3Settings(options.s3, check);
  const jobs = check.integer(options.jobs, '--jobs', 1, defaultStorageJobs());
  const bucketMap = parseTargetOptions(options, check);
  if (!options.inputDir) check.problems.push('--input-dir: expected a directory');
  check.done();
  const emit = options.onEvent ?? (() => undefined);
  const manifest = (await readStorageManifest(options.inputDir))!;
  if (!manifest.complete) {
    throw new UsageError(
      `the storage export in ${options.inputDir} is not complete: finish it with supamigrate storage export --resume -o ${options.inputDir}`,
    );
  }
  const plan = await planTarget(manifest, bucketMap, options);
  const client = s3Client(s3);
  try {
    const createdBuckets = await prepareBuckets(client, s3, [...plan.targetBuckets.keys()]);
    const notes = bucketNotes(manifest, bucketMap);
    emit({
      type: 'plan',
      objects: plan.objects.length,
      bytes: manifest.objects.reduce((n, o) => n + o.size, 0),
    });
    const failures: StorageFailure[] = [];
    let skipped = 0;
    await forEachParallel(
      plan.objects,
      jobs,
      async (target) => {
        try {
          const there = options.resume && (await alreadyThere(client, target));
          if (there) skipped++;
          else await uploadObject(client, options.inputDir, target, options.signal);
          emit({
            type: 'object-done',
            bucket: target.bucket,
            key: target.key,
            bytes: target.object.size,
            kept: there,
          });
        } catch (err) {
          if (options.signal?.aborted) return;
          const failure =
            err instanceof StorageObjectError
              ? err
              : new StorageObjectError(target.bucket, target.key, uploadProblem(err), { cause: err });
          failures.push({ bucket: failure.bucket, key: failure.key, error: failure.message });
          emit({ type: 'object-failed', bucket: failure.bucket, key: failure.key, error: failure.message });
        }
      },
      options.signal,
    );
    if (options.signal?.aborted) {
      throw new InterruptedError(
        `storage import stopped: finish it with supamigrate storage import --resume -i ${options.inputDir}`,
      );
    }
    return {
      objects: plan.objects.length,
      bytes: manifest.objects.reduce((n, o) => n + o.size, 0),
      skipped,
      createdBuckets,
      notes,
      renamed: plan.objects
        .filter((t) => t.renamedFrom !== null)
        .map((t) => ({ bucket: t.bucket, from: t.object.key, to: t.key })),
      owners: plan.objects
        .filter((t) => t.ownerMapped)
        .map((t) => ({
          bucket: t.bucket,
          key: t.key,
          from: t.object.ownerId ?? t.object.owner ?? '',
          to: t.owner ?? '',
        })),
      unmappedOwners: plan.unmappedOwners,
      failures,
    };
  } finally {
    client.destroy();
  }
}

/** Creates the target buckets that do not exist (wrong credentials stop here, before any upload). */
export async function prepareBuckets(client: S3Client, s3: S3Settings, buckets: string[]): Promise<string[]> {
  const created: string[] = [];
  for (const bucket of buckets) {
    if (await bucketExists(client, s3.endpoint, bucket)) continue;
    try {
      // AWS S3 outside us-east-1 wants the region said again; other S3 servers take the plain request.
      const aws = /\.amazonaws\.com$/.test(new URL(s3.endpoint).hostname) && s3.region !== 'us-east-1';
      await client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(aws
            ? { CreateBucketConfiguration: { LocationConstraint: s3.region as BucketLocationConstraint } }
            : {}),
        }),
      );
    } catch (err) {
      throw new UsageError(
        `bucket ${bucket} does not exist at ${s3.endpoint} and cannot be created (${describeS3Error(err)}): create it, or map to one that exists with --bucket-map`,
        { cause: err },
      );
    }
    created.push(bucket);
  }
  return created;
}

/** The source buckets' settings that S3 has no way to carry. */
function bucketNotes(manifest: StorageManifest, bucketMap: Map<string, string>): string[] {
  const notes: string[] = [];
  for (const b of manifest.buckets) {
    const to = bucketMap.get(b.id) ?? b.id;
    const settings = [
      b.public ? 'public (anyone may read its objects)' : null,
      b.fileSizeLimit !== null ? `file size limit ${b.fileSizeLimit} bytes` : null,
      b.allowedMimeTypes ? `allowed MIME types ${b.allowedMimeTypes.join(', ')}` : null,
    ].filter(Boolean);
    if (settings.length > 0) {
      notes.push(
        `bucket ${b.id}${to === b.id ? '' : ` (→ ${to})`} is ${settings.join(', ')} at the source; the S3 protocol cannot set that: set it on the target (on Supabase: Dashboard → Storage → the bucket's settings)`,
      );
    }
  }
  if (manifest.buckets.length > 0)
    notes.push(
      'policies on storage.objects (who may read and write which objects) are not part of S3: supamigrate schema lists them',
    );
  return notes;
}

/** With --resume: the target holds the object with the same size and the sha256 import recorded. */
async function alreadyThere(client: S3Client, target: TargetObject): Promise<boolean> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }));
    return head.ContentLength === target.object.size && head.Metadata?.sha256 === target.object.sha256;
  } catch (err) {
    const code = s3ErrorCode(err);
    if (code === 'NotFound' || code === 'NoSuchKey') return false;
    throw err;
  }
}

/**
 * Streams an object's file to the target, hashing it on the way: a file that no longer has the sha256 the
 * export recorded is removed from the target again and reported.
 */
async function uploadObject(
  client: S3Client,
  dir: string,
  target: TargetObject,
  signal?: AbortSignal,
): Promise<void> {
  const { object } = target;
  const path = objectPath(dir, object);
  const tap = new DigestTap();
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  const reading = pipeline(
    createReadStream(path, { fd: openExportFile(path), highWaterMark: 1 << 20 }),
    tap,
    body,
  );
  const upload = new Upload({
    client,
    queueSize: 2,
    // S3 takes at most 10,000 parts: objects over 80 GB get larger parts.
    partSize: Math.max(PART_SIZE, Math.ceil(object.size / 9_000)),
    leavePartsOnError: false,
    abortController: signal ? abortControllerOf(signal) : undefined,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: body,
      ContentType: object.contentType ?? undefined,
      CacheControl: object.cacheControl ?? undefined,
      Metadata: { sha256: object.sha256! },
    },
  });
  const uploading = upload.done().catch((err: unknown) => {
    body.destroy();
    throw err;
  });
  await Promise.all([reading, uploading]);
  if (tap.bytes !== object.size || tap.digest() !== object.sha256) {
    await client
      .send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }))
      .catch(() => undefined);
    throw new StorageObjectError(
      target.bucket,
      target.key,
      `${object.file} changed since the export (not the ${object.size} bytes of sha256 ${object.sha256} recorded): not uploaded`,
    );
  }
}

function abortControllerOf(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}

function uploadProblem(err: unknown): string {
  const errno = (err as NodeJS.ErrnoException).code;
  if (errno === 'ENOENT') return 'its file is missing from the export';
  if (errno === 'ELOOP') return (err as Error).message;
  return `upload failed: ${describeS3Error(err)}`;
}
