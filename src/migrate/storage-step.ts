import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrateSettings } from './settings.js';

export interface StorageStepResult {
  objects: number;
  bytes: number;
  /** Objects kept or skipped from an earlier run (--resume). */
  kept: number;
  /** Bucket settings S3 cannot hold, to set by hand on the target. */
  notes: string[];
  /** What keeps the files from being moved and verified, one line each. */
  failures: string[];
}

/**
 * storage: the files of Supabase Storage, after the data: exported from the source's S3 endpoint into the
 * work directory (listed from storage.objects, each checked against its row), uploaded to the target's, and
 * the target compared with the export and the source's rows. A resumed migrate resumes each of the three.
 */
export async function moveStorage(settings: MigrateSettings, workDir: string): Promise<StorageStepResult> {
  const storage = settings.storage!;
  // Loaded here: the AWS SDK only when a run moves files.
  const { exportStorage } = await import('../storage/storage-export.js');
  const { importStorage } = await import('../storage/storage-import.js');
  const { verifyStorage } = await import('../storage/storage-verify.js');
  const resume = await stat(join(workDir, 'storage', 'manifest.json')).then(
    () => true,
    () => false,
  );
  const target = {
    s3: storage.target,
    bucketMap: storage.bucketMap,
    userMap: storage.userMapFile,
    renameUserFolders: storage.renameUserFolders,
  };
  const exported = await exportStorage({
    dbUrl: settings.dbUrl,
    outputDir: workDir,
    s3: storage.source,
    resume,
    signal: settings.signal,
  });
  const failures = exported.failures.map((f) => `storage export of ${f.bucket}/${f.key ?? ''}: ${f.error}`);
  const result: StorageStepResult = {
    objects: exported.manifest.objects.length,
    bytes: exported.manifest.objects.reduce((n, o) => n + o.size, 0),
    kept: exported.kept,
    notes: [],
    failures,
  };
  if (failures.length > 0) return result;
  const imported = await importStorage({
    ...target,
    inputDir: workDir,
    resume: true,
    signal: settings.signal,
  });
  result.notes.push(...imported.notes);
  result.kept += imported.skipped;
  result.failures.push(
    ...imported.failures.map((f) => `storage import of ${f.bucket}/${f.key ?? ''}: ${f.error}`),
  );
  if (result.failures.length > 0) return result;
  const verified = await verifyStorage({
    ...target,
    inputDir: workDir,
    dbUrl: settings.dbUrl,
    signal: settings.signal,
  });
  result.failures.push(
    ...verified.problems.map((p) => `storage ${p.kind}: ${p.bucket}/${p.key}: ${p.detail}`),
  );
  return result;
}
