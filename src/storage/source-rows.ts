import { UsageError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { BUCKETS_SQL, OBJECTS_SQL, STORAGE_TABLES_SQL } from './storage.sql.js';

/** A storage.buckets row, as much of it as S3 and the manifest need. */
export interface SourceBucket {
  id: string;
  name: string;
  public: boolean;
  fileSizeLimit: number | null;
  allowedMimeTypes: string[] | null;
}

/** A storage.objects row: its key, and what its metadata says the object is. */
export interface SourceObject {
  bucket: string;
  key: string;
  /** metadata->>'size' (null when the row does not say). */
  size: number | null;
  eTag: string | null;
  contentType: string | null;
  cacheControl: string | null;
  owner: string | null;
  ownerId: string | null;
  metadata: unknown;
  userMetadata: unknown;
}

export interface SourceRows {
  buckets: SourceBucket[];
  objects: SourceObject[];
}

interface RawBucketRow {
  row: Record<string, unknown>;
}
interface RawObjectRow {
  bucket_id: string;
  name: string;
  metadata: Record<string, unknown> | null;
  row: Record<string, unknown>;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const number = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

export function parseBucket(raw: RawBucketRow): SourceBucket {
  const r = raw.row;
  return {
    id: String(r.id),
    name: text(r.name) ?? String(r.id),
    public: r.public === true,
    fileSizeLimit: number(r.file_size_limit),
    allowedMimeTypes: Array.isArray(r.allowed_mime_types) ? r.allowed_mime_types.map(String) : null,
  };
}

export function parseObject(raw: RawObjectRow): SourceObject {
  const m = raw.metadata ?? {};
  return {
    bucket: raw.bucket_id,
    key: raw.name,
    size: number(m.size ?? m.contentLength),
    eTag: text(m.eTag),
    contentType: text(m.mimetype),
    cacheControl: text(m.cacheControl),
    owner: text(raw.row.owner),
    ownerId: text(raw.row.owner_id),
    metadata: raw.metadata,
    userMetadata: raw.row.user_metadata ?? null,
  };
}

/**
 * Reads the buckets and the objects of the chosen ones (all when `only` is null) in one REPEATABLE READ
 * transaction: the objects listed are those of one instant. A bucket asked for that the source does not
 * have is a UsageError naming the ones it has.
 */
export async function readSourceRows(
  url: string,
  only: readonly string[] | null,
  options: { ioTimeout?: number } = {},
): Promise<SourceRows> {
  const client = await connect(url, { role: 'source', ...options });
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const tables = (await client.query<{ buckets: boolean; objects: boolean }>(STORAGE_TABLES_SQL)).rows[0]!;
    if (!tables.buckets || !tables.objects) {
      throw new UsageError(
        'the source database has no storage.buckets and storage.objects tables (Supabase Storage): nothing to export',
      );
    }
    const all = (await client.query<RawBucketRow>(BUCKETS_SQL)).rows.map(parseBucket);
    const unknown = (only ?? []).filter((id) => !all.some((b) => b.id === id || b.name === id));
    if (unknown.length > 0) {
      throw new UsageError(
        `--bucket: ${unknown.map((b) => JSON.stringify(b)).join(', ')} not in storage.buckets (it has: ${all.map((b) => b.id).join(', ') || 'no bucket'})`,
      );
    }
    const buckets = only ? all.filter((b) => only.includes(b.id) || only.includes(b.name)) : all;
    const objects = (await client.query<RawObjectRow>(OBJECTS_SQL, [buckets.map((b) => b.id)])).rows.map(
      parseObject,
    );
    await client.query('COMMIT');
    return { buckets, objects };
  } finally {
    await client.end().catch(() => undefined);
  }
}
