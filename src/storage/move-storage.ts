import type { S3Settings } from './s3-settings.js';
import { exportStorage } from './storage-export.js';
import { importStorage } from './storage-import.js';
import { verifyStorage, type StorageVerifyResult } from './storage-verify.js';

export interface MoveStorageOptions {
  /** The source database, whose storage.objects rows list the objects. */
  dbUrl: string;
  /** The export directory the files go through (its storage/). */
  dir: string;
  source: S3Settings;
  target: S3Settings;
  bucketMap?: readonly string[];
  /** A user-map.json (its owners and user folders). */
  userMap?: string;
  renameUserFolders?: boolean;
  /** Resume an earlier storage export in `dir` (else start it over: --force). */
  resume: boolean;
  signal?: AbortSignal;
}

export interface MoveStorageResult {
  objects: number;
  bytes: number;
  /** Objects kept or skipped from an earlier run (--resume). */
  kept: number;
  /** Bucket settings S3 cannot hold, to set by hand on the target. */
  notes: string[];
  /** Objects the export or the import could not move, one line each (then no verify). */
  failures: string[];
  verify: StorageVerifyResult | null;
}

/**
 * storage export → storage import → storage verify, as migrate and the demo run them: the objects of the
 * source's storage.objects downloaded into `dir` (each checked against its row), uploaded to the target
 * (objects already there with the same sha256 skipped), and the target compared with the export and the
 * source's rows. Stops after the first of the three that leaves failures.
 */
export async function moveStorage(options: MoveStorageOptions): Promise<MoveStorageResult> {
  const { dbUrl, dir, signal } = options;
  const target = {
    s3: options.target,
    bucketMap: options.bucketMap,
    userMap: options.userMap,
    renameUserFolders: options.renameUserFolders,
  };
  const exported = await exportStorage({
    dbUrl,
    outputDir: dir,
    s3: options.source,
    ...(options.resume ? { resume: true } : { force: true }),
    signal,
  });
  const result: MoveStorageResult = {
    objects: exported.manifest.objects.length,
    bytes: exported.manifest.objects.reduce((n, o) => n + o.size, 0),
    kept: exported.kept,
    notes: [],
    failures: exported.failures.map((f) => `storage export of ${f.bucket}/${f.key ?? ''}: ${f.error}`),
    verify: null,
  };
  if (result.failures.length > 0) return result;
  const imported = await importStorage({ ...target, inputDir: dir, resume: true, signal });
  result.notes.push(...imported.notes);
  result.kept += imported.skipped;
  result.failures.push(
    ...imported.failures.map((f) => `storage import of ${f.bucket}/${f.key ?? ''}: ${f.error}`),
  );
  if (result.failures.length > 0) return result;
  result.verify = await verifyStorage({ ...target, inputDir: dir, dbUrl, signal });
  return result;
}
