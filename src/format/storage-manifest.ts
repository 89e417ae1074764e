import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { writeJsonAtomically } from './atomic-write.js';
import { exportPath } from './export-path.js';
import { parseOrRefuse, readJsonFile } from './parse-file.js';

/*
 * storage/manifest.json: what `storage export` writes and `storage import` and `storage verify` read. The
 * Supabase Storage part of an export: the buckets' settings, and per object its key, size, hashes, content
 * type, cache control, owner and the storage.objects row's metadata, with the file holding its bytes.
 *
 * An object's file is named after a hash of its bucket and key (`objects/3f/3f9a…`), never after the key:
 * keys hold `/`, `..`, spaces, any unicode and up to 1024 bytes, a key can be both an object and the
 * "folder" of others (`a` and `a/b`), and two keys can differ only in case. None of that can reach the file
 * system this way, and the schema refuses any other name, so a hostile manifest cannot point outside.
 */

export const STORAGE_DIR = 'storage';
export const STORAGE_MANIFEST_FILE = 'manifest.json';
export const STORAGE_FORMAT_VERSION = 1;

const count = z.int().min(0);
const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);
const hex = (digits: number, what: string) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${digits}}$`), `expected ${what}: ${digits} lowercase hex digits`);
const OBJECT_FILE = /^objects\/([0-9a-f]{2})\/\1[0-9a-f]{62}$/;

export const storageBucketSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string(),
  public: z.boolean(),
  /** Bytes, as storage.buckets.file_size_limit says (null: no limit). */
  fileSizeLimit: orNull(z.number().min(0)),
  allowedMimeTypes: orNull(z.array(z.string())),
  objectCount: count,
  bytes: count,
});

export const storageObjectSchema = z.strictObject({
  bucket: z.string().min(1),
  key: z.string().min(1),
  size: count,
  state: z.enum(['pending', 'complete']),
  sha256: orNull(hex(64, 'a sha256')),
  md5: orNull(hex(32, 'an md5')),
  /** The eTag storage.objects.metadata recorded, as it was (with its quotes). */
  eTag: orNull(z.string()),
  contentType: orNull(z.string()),
  cacheControl: orNull(z.string()),
  owner: orNull(z.string()),
  ownerId: orNull(z.string()),
  /** storage.objects.metadata and user_metadata, as they were. */
  metadata: z.unknown(),
  userMetadata: z.unknown(),
  file: z.string().regex(OBJECT_FILE, 'expected objects/<2 hex>/<64 hex> (a file export named)'),
});

export const storageManifestSchema = z.strictObject({
  formatVersion: z.literal(STORAGE_FORMAT_VERSION),
  tool: z.string(),
  /** The S3 endpoint the bytes came from (no credentials are ever recorded). */
  endpoint: z.string(),
  exportedAt: z.string(),
  /** True only when every object is complete. */
  complete: z.boolean(),
  /** The --bucket selection (null: every bucket). */
  selectedBuckets: orNull(z.array(z.string())),
  buckets: z.array(storageBucketSchema),
  objects: z.array(storageObjectSchema),
});

export type StorageBucket = z.infer<typeof storageBucketSchema>;
export type StorageObject = z.infer<typeof storageObjectSchema>;
export type StorageManifest = z.infer<typeof storageManifestSchema>;

/** The directory of the storage export inside an export directory. */
export const storageDir = (dir: string): string => join(dir, STORAGE_DIR);

/** The file (relative to the storage directory) that holds an object's bytes. */
export function objectFileName(bucket: string, key: string): string {
  const hash = createHash('sha256').update(bucket).update('\0').update(key).digest('hex');
  return `objects/${hash.slice(0, 2)}/${hash}`;
}

/** The path of an object's file, confined to the storage directory. */
export const objectPath = (dir: string, object: Pick<StorageObject, 'file'>): string =>
  exportPath(storageDir(dir), object.file);

/** How an object is named in messages: one line whatever its key holds. */
export const objectLabel = (bucket: string, key: string): string =>
  `${bucket}/${JSON.stringify(key).slice(1, -1)}`;

export async function writeStorageManifest(dir: string, manifest: StorageManifest): Promise<void> {
  await writeJsonAtomically(join(storageDir(dir), STORAGE_MANIFEST_FILE), manifest);
}

/**
 * Reads and checks storage/manifest.json. Missing: null when `optional`, else a UsageError saying how to
 * make it. Every object must name its own file (the one objectFileName gives), and no key twice.
 */
export async function readStorageManifest(
  dir: string,
  options: { optional?: boolean } = {},
): Promise<StorageManifest | null> {
  const path = join(storageDir(dir), STORAGE_MANIFEST_FILE);
  const json = await readJsonFile(path, {
    notFound: options.optional
      ? null
      : `${path} not found: no storage export in ${dir} (make one with supamigrate storage export -o ${dir})`,
    invalidJson: (reason) => `${path} is not valid JSON: ${reason}`,
  });
  if (json === undefined) return null;
  const manifest = parseOrRefuse(storageManifestSchema, json, path);
  const seen = new Set<string>();
  manifest.objects.forEach((o, i) => {
    const id = `${o.bucket}\0${o.key}`;
    const problem = seen.has(id)
      ? `${objectLabel(o.bucket, o.key)} is listed twice`
      : o.file !== objectFileName(o.bucket, o.key)
        ? `file ${o.file} is not the one export names for ${objectLabel(o.bucket, o.key)}`
        : o.state === 'complete' && o.sha256 === null
          ? 'a complete object needs its sha256'
          : null;
    if (problem) throw new UsageError(`${path}: objects[${i}]: ${problem}`);
    seen.add(id);
  });
  return manifest;
}
