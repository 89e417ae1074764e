import { UsageError } from '../errors.js';
import type { StorageManifest, StorageObject } from '../format/storage-manifest.js';
import { readUserMap } from '../format/user-map.js';
import type { SettingsProblems } from '../settings.js';
import { parseBucketMap } from './s3.js';

/*
 * Where each exported object goes on the target, the one rule import and verify share: its bucket through
 * --bucket-map, its owner through --user-map, and with --rename-user-folders its key's first folder when
 * that folder is a mapped old user id (`<user id>/avatar.png`, the common row-level-security layout).
 */

export interface TargetOptions {
  /** `from=to` entries (repeatable). */
  bucketMap?: readonly string[];
  /** A user-map.json (users map writes it). */
  userMap?: string;
  renameUserFolders?: boolean;
}

export interface TargetObject {
  object: StorageObject;
  bucket: string;
  key: string;
  /** The key's old first folder, when --rename-user-folders changed it. */
  renamedFrom: string | null;
  /** The owner (owner_id, else owner) with its new id when the user map has it. */
  owner: string | null;
  ownerMapped: boolean;
}

export interface TargetPlan {
  bucketMap: Map<string, string>;
  /** Target bucket → source buckets feeding it. */
  targetBuckets: Map<string, string[]>;
  objects: TargetObject[];
  /** Owners the user map does not have (with --user-map), each once. */
  unmappedOwners: string[];
}

/** Checks the target options (every problem into `check`); the user map is read by planTarget. */
export function parseTargetOptions(options: TargetOptions, check: SettingsProblems): Map<string, string> {
  if (options.renameUserFolders && !options.userMap)
    check.problems.push('--rename-user-folders needs --user-map <file> (the old and new user ids)');
  return parseBucketMap(options.bucketMap, check);
}

export async function planTarget(
  manifest: StorageManifest,
  bucketMap: Map<string, string>,
  options: TargetOptions,
): Promise<TargetPlan> {
  const known = new Set(manifest.buckets.map((b) => b.id));
  const unknown = [...bucketMap.keys()].filter((b) => !known.has(b));
  if (unknown.length > 0) {
    throw new UsageError(
      `--bucket-map: ${unknown.join(', ')} not in the storage export (it has: ${[...known].join(', ') || 'no bucket'})`,
    );
  }
  const users = options.userMap ? await readUserMap(options.userMap) : null;
  const ids = new Map<string, string>();
  for (const m of users?.mappings ?? []) {
    ids.set(m.oldId, m.newId);
    ids.set(m.oldId.toLowerCase(), m.newId);
  }
  const newId = (old: string) => ids.get(old) ?? ids.get(old.toLowerCase());
  const unmapped = new Set<string>();
  const targetBuckets = new Map<string, string[]>();
  for (const b of manifest.buckets) {
    const to = bucketMap.get(b.id) ?? b.id;
    targetBuckets.set(to, [...(targetBuckets.get(to) ?? []), b.id]);
  }
  const objects = manifest.objects.map((object): TargetObject => {
    const bucket = bucketMap.get(object.bucket) ?? object.bucket;
    let key = object.key;
    let renamedFrom: string | null = null;
    const slash = key.indexOf('/');
    if (options.renameUserFolders && slash > 0) {
      const folder = key.slice(0, slash);
      const to = newId(folder);
      if (to !== undefined && to !== folder) {
        renamedFrom = folder;
        key = `${to}${key.slice(slash)}`;
      }
    }
    const old = object.ownerId ?? object.owner;
    const mapped = old !== null && users ? newId(old) : undefined;
    if (old !== null && users && mapped === undefined) unmapped.add(old);
    return { object, bucket, key, renamedFrom, owner: mapped ?? old, ownerMapped: mapped !== undefined };
  });
  refuseCollisions(objects);
  return { bucketMap, targetBuckets, objects, unmappedOwners: [...unmapped].sort() };
}

/** Two objects that would land on one key (two buckets mapped to one, or a rename onto a key) are refused. */
function refuseCollisions(objects: readonly TargetObject[]): void {
  const seen = new Map<string, TargetObject>();
  const problems: string[] = [];
  for (const t of objects) {
    const id = `${t.bucket}\0${t.key}`;
    const before = seen.get(id);
    if (before && problems.length < 10) {
      problems.push(
        `${t.bucket}/${t.key} would receive both ${before.object.bucket}/${before.object.key} and ${t.object.bucket}/${t.object.key}`,
      );
    }
    seen.set(id, t);
  }
  if (problems.length > 0) throw new UsageError(problems);
}
