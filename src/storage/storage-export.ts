import type { S3Client } from '@aws-sdk/client-s3';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError, StorageObjectError, UsageError } from '../errors.js';
import {
  objectFileName,
  objectLabel,
  objectPath,
  readStorageManifest,
  storageDir,
  writeStorageManifest,
  type StorageBucket,
  type StorageManifest,
  type StorageObject,
} from '../format/storage-manifest.js';
import { SettingsProblems, type NumberOption } from '../settings.js';
import { VERSION } from '../version.js';
import { downloadObject, isTransientDownload, type DownloadedObject } from './download.js';
import { hashFile, plainMd5 } from './hash-file.js';
import { forEachParallel } from './parallel.js';
import { bucketExists, parseS3Settings, s3Client, type S3Options, type S3Settings } from './s3.js';
import { readSourceRows, type SourceBucket, type SourceObject } from './source-rows.js';

export interface StorageExportOptions {
  dbUrl: string;
  outputDir: string;
  s3: S3Options;
  /** Only these buckets (id or name; repeatable); default every bucket. */
  buckets?: readonly string[];
  /** Objects downloaded at once (default: 4 per core, at least 8: the work is waiting on the network). */
  jobs?: NumberOption;
  resume?: boolean;
  force?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: StorageEvent) => void;
}

export interface StorageExportSettings {
  dbUrl: string;
  outputDir: string;
  s3: S3Settings;
  buckets: string[] | null;
  jobs: number;
  resume: boolean;
  force: boolean;
}

export type StorageEvent =
  | { type: 'plan'; objects: number; bytes: number; kept?: number }
  | { type: 'object-done'; bucket: string; key: string; bytes: number; kept?: boolean }
  | { type: 'object-failed'; bucket: string; key: string; error: string }
  | { type: 'note'; message: string };

export interface StorageFailure {
  bucket: string;
  key: string | null;
  error: string;
}

export interface StorageExportResult {
  outputDir: string;
  manifest: StorageManifest;
  failures: StorageFailure[];
  /** Objects kept from an earlier run (--resume). */
  kept: number;
}

export { defaultStorageJobs } from './jobs.js';
import { defaultStorageJobs } from './jobs.js';

export function parseStorageExportSettings(options: StorageExportOptions): StorageExportSettings {
  const check = new SettingsProblems();
  const dbUrl = check.database(options.dbUrl, '--db-url', 'SUPABASE_DB_URL');
  const s3 = parseS3Settings(options.s3, check);
  const jobs = check.integer(options.jobs, '--jobs', 1, defaultStorageJobs());
  if (options.resume && options.force)
    check.problems.push('--resume cannot be combined with --force: leave one out');
  if (!options.outputDir) check.problems.push('--output-dir: expected a directory');
  check.done();
  const buckets = options.buckets && options.buckets.length > 0 ? [...new Set(options.buckets)] : null;
  return {
    dbUrl,
    outputDir: options.outputDir,
    s3,
    buckets,
    jobs,
    resume: options.resume ?? false,
    force: options.force ?? false,
  };
}

/**
 * Exports Supabase Storage: the buckets and objects storage.objects lists (one snapshot), each object's
 * bytes downloaded through S3 into `<dir>/storage/objects/`, checked (size, MD5 eTag) and hashed, with
 * `<dir>/storage/manifest.json`. An object that fails is reported and the others go on; the manifest says
 * complete only when every object is. `resume` keeps the files an earlier run finished (checked again).
 */
export async function exportStorage(options: StorageExportOptions): Promise<StorageExportResult> {
  const settings = parseStorageExportSettings(options);
  const emit = options.onEvent ?? (() => undefined);
  const dir = settings.outputDir;
  const previous = await checkStorageDir(settings);
  const rows = await readSourceRows(settings.dbUrl, settings.buckets);
  const client = s3Client(settings.s3);
  try {
    const failures: StorageFailure[] = [];
    let keptCount = 0;
    const missingBuckets = new Set<string>();
    for (const bucket of rows.buckets) {
      if (!rows.objects.some((o) => o.bucket === bucket.id)) continue;
      if (!(await bucketExists(client, settings.s3.endpoint, bucket.id))) missingBuckets.add(bucket.id);
    }
    const manifest = initialManifest(settings, rows.buckets, rows.objects);
    for (const id of missingBuckets) {
      const keys = rows.objects.filter((o) => o.bucket === id).map((o) => o.key);
      const n = keys.length;
      failures.push({
        bucket: id,
        key: null,
        error: `${id}: the bucket does not exist at ${settings.s3.endpoint} (NoSuchBucket), and storage.objects lists ${n} object${n === 1 ? '' : 's'} in it (${objectLabel(id, keys[0]!)}${n > 1 ? ', …' : ''})`,
      });
    }
    await writeStorageManifest(dir, manifest);
    const save = manifestSaver(dir, manifest);
    emit({ type: 'plan', objects: rows.objects.length, bytes: sum(rows.objects.map((o) => o.size ?? 0)) });

    const work = rows.objects
      .map((source, i) => ({ source, entry: manifest.objects[i]! }))
      .filter(({ source }) => !missingBuckets.has(source.bucket));
    await forEachParallel(
      work,
      settings.jobs,
      async ({ source, entry }) => {
        const kept = await keepEarlierFile(dir, source, entry, previous);
        try {
          if (!kept) {
            const got = await downloadWithRetries(client, source, objectPath(dir, entry), options.signal);
            Object.assign(entry, {
              size: got.bytes,
              sha256: got.sha256,
              md5: got.md5,
              contentType: entry.contentType ?? got.contentType,
              cacheControl: entry.cacheControl ?? got.cacheControl,
            });
          }
          entry.state = 'complete';
          emit({ type: 'object-done', bucket: entry.bucket, key: entry.key, bytes: entry.size, kept });
          if (kept) keptCount++;
          void save(false);
        } catch (err) {
          if (options.signal?.aborted) return;
          if (!(err instanceof StorageObjectError)) throw err;
          failures.push({ bucket: err.bucket, key: err.key, error: err.message });
          emit({ type: 'object-failed', bucket: err.bucket, key: err.key, error: err.message });
        }
      },
      options.signal,
    );
    manifest.complete = failures.length === 0 && manifest.objects.every((o) => o.state === 'complete');
    await save(true);
    if (manifest.complete) await removeStrayFiles(dir, manifest);
    if (options.signal?.aborted) {
      const done = manifest.objects.filter((o) => o.state === 'complete').length;
      throw new InterruptedError(
        `storage export stopped: ${done} of ${manifest.objects.length} objects are complete in ${dir}; finish it with supamigrate storage export --resume -o ${dir}`,
      );
    }
    return { outputDir: dir, manifest, failures, kept: keptCount };
  } finally {
    client.destroy();
  }
}

/** Three tries for a download that broke off or met a 5xx, a second apart, then the last failure. */
async function downloadWithRetries(
  client: S3Client,
  source: SourceObject,
  path: string,
  signal?: AbortSignal,
): Promise<DownloadedObject> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadObject(client, source, path, signal);
    } catch (err) {
      if (attempt >= 3 || signal?.aborted || !isTransientDownload(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

/**
 * The output directory, created (mode 0700) when missing. A storage export already there is refused
 * unless resumed (then its manifest is returned) or replaced with --force (then its files are removed).
 */
async function checkStorageDir(settings: StorageExportSettings): Promise<StorageManifest | null> {
  const dir = settings.outputDir;
  const info = await stat(dir).catch(() => null);
  if (info && !info.isDirectory()) throw new UsageError(`--output-dir ${dir}: it is a file, not a directory`);
  await mkdir(storageDir(dir), { recursive: true, mode: 0o700 });
  const previous = await readStorageManifest(dir, { optional: true }).catch((err: unknown) => {
    if (settings.force) return null;
    throw err;
  });
  if (settings.force) {
    await rm(join(storageDir(dir), 'objects'), { recursive: true, force: true });
    return null;
  }
  if (previous && !settings.resume) {
    throw new UsageError(
      `${dir} already holds a storage export (storage/manifest.json): finish it with --resume, replace it with --force, or choose another --output-dir`,
    );
  }
  // The selection is part of what is resumed: another one would replace the export (and drop files).
  const selection = (buckets: readonly string[] | null) =>
    buckets && buckets.length > 0 ? [...buckets].sort().join(', ') : 'every bucket';
  if (previous && selection(previous.selectedBuckets) !== selection(settings.buckets)) {
    throw new UsageError(
      `--resume: the storage export in ${dir} was of ${selection(previous.selectedBuckets)}, not ${selection(settings.buckets)}: give the same --bucket options, or --force to start over (or another --output-dir)`,
    );
  }
  if (previous && previous.endpoint !== settings.s3.endpoint) {
    throw new UsageError(
      `--resume: the storage export in ${dir} came from ${previous.endpoint}, not ${settings.s3.endpoint}: give the same --s3-endpoint, or --force to start over`,
    );
  }
  return previous;
}

/**
 * With --resume: whether the file an earlier run wrote for this object can stay. Only when that run recorded
 * it complete, the row still says the same object (size and eTag), and the file still hashes to what was
 * recorded; the manifest entry then takes the recorded hashes.
 */
async function keepEarlierFile(
  dir: string,
  source: SourceObject,
  entry: StorageObject,
  previous: StorageManifest | null,
): Promise<boolean> {
  const before = previous?.objects.find((p) => p.file === entry.file && p.state === 'complete');
  if (!before || before.eTag !== source.eTag || (source.size !== null && before.size !== source.size))
    return false;
  const digest = await hashFile(objectPath(dir, entry)).catch(() => null);
  if (!digest || digest.sha256 !== before.sha256 || digest.bytes !== before.size) return false;
  const rowMd5 = plainMd5(source.eTag);
  if (rowMd5 && digest.md5 !== rowMd5) return false;
  Object.assign(entry, {
    size: digest.bytes,
    sha256: digest.sha256,
    md5: digest.md5,
    contentType: entry.contentType ?? before.contentType,
    cacheControl: entry.cacheControl ?? before.cacheControl,
  });
  return true;
}

function initialManifest(
  settings: StorageExportSettings,
  buckets: SourceBucket[],
  objects: SourceObject[],
): StorageManifest {
  const summary = (id: string) => {
    const mine = objects.filter((o) => o.bucket === id);
    return { objectCount: mine.length, bytes: sum(mine.map((o) => o.size ?? 0)) };
  };
  return {
    formatVersion: 1,
    tool: `supamigrate ${VERSION}`,
    endpoint: settings.s3.endpoint,
    exportedAt: new Date().toISOString(),
    complete: false,
    selectedBuckets: settings.buckets,
    buckets: buckets.map((b): StorageBucket => ({ ...b, ...summary(b.id) })),
    objects: objects.map((o): StorageObject => ({
      bucket: o.bucket,
      key: o.key,
      size: o.size ?? 0,
      state: 'pending',
      sha256: null,
      md5: null,
      eTag: o.eTag,
      contentType: o.contentType,
      cacheControl: o.cacheControl,
      owner: o.owner,
      ownerId: o.ownerId,
      metadata: o.metadata,
      userMetadata: o.userMetadata,
      file: objectFileName(o.bucket, o.key),
    })),
  };
}

/**
 * Saves the manifest at most once a second (less often when it is large) while objects complete (so a killed run loses little), and at
 * the end; saves never overlap. Returns the promise of the save it started or joined.
 */
function manifestSaver(dir: string, manifest: StorageManifest) {
  let chain: Promise<void> = Promise.resolve();
  let last = performance.now();
  // A manifest of a million objects takes a while to write: saves then come further apart, so that
  // writing it never takes more than a tenth of the run.
  let gap = 1000;
  let queued = false;
  return (final: boolean): Promise<void> => {
    if (!final && (queued || performance.now() - last < gap)) return chain;
    queued = true;
    const saved = chain.then(async () => {
      queued = false;
      const began = performance.now();
      await writeStorageManifest(dir, manifest);
      last = performance.now();
      gap = Math.max(1000, 10 * (last - began));
    });
    // A save on the way that fails is followed by others; the last one's failure is the run's.
    chain = final ? saved : saved.catch(() => undefined);
    return chain;
  };
}

/**
 * Once the export is complete: removes from storage/objects what the manifest does not list (files of
 * objects deleted at the source since an earlier run, temporary files a killed run left), so the directory
 * holds exactly the export. Only names of the export's own form are looked at (two levels, bounded).
 */
async function removeStrayFiles(dir: string, manifest: StorageManifest): Promise<void> {
  const root = join(storageDir(dir), 'objects');
  const listed = new Set(manifest.objects.map((o) => o.file));
  const folders = await readdir(root).catch(() => [] as string[]);
  for (const folder of folders.filter((f) => /^[0-9a-f]{2}$/.test(f))) {
    const names = await readdir(join(root, folder)).catch(() => [] as string[]);
    for (const name of names) {
      if (!listed.has(`objects/${folder}/${name}`)) await rm(join(root, folder, name), { force: true });
    }
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
