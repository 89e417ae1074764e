import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MoveStorageResult } from '../storage/move-storage.js';
import type { MigrateSettings } from './settings.js';

/**
 * storage: the files of Supabase Storage, after the data: exported from the source's S3 endpoint into the
 * work directory (listed from storage.objects, each checked against its row), uploaded to the target's, and
 * the target compared with the export and the source's rows. A resumed migrate resumes each of the three.
 * Verify's differences are among the failures.
 */
export async function moveStorageStep(
  settings: MigrateSettings,
  workDir: string,
): Promise<MoveStorageResult> {
  const storage = settings.storage!;
  // Loaded here: the AWS SDK only when a run moves files.
  const { moveStorage } = await import('../storage/move-storage.js');
  const resume = await stat(join(workDir, 'storage', 'manifest.json')).then(
    () => true,
    () => false,
  );
  const moved = await moveStorage({
    dbUrl: settings.dbUrl,
    dir: workDir,
    source: storage.source,
    target: storage.target,
    bucketMap: storage.bucketMap,
    userMap: storage.userMapFile,
    renameUserFolders: storage.renameUserFolders,
    resume,
    signal: settings.signal,
  });
  moved.failures.push(
    ...(moved.verify?.problems ?? []).map((p) => `storage ${p.kind}: ${p.bucket}/${p.key}: ${p.detail}`),
  );
  return moved;
}
