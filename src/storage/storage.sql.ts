/*
 * Supabase Storage's rows, read whole as JSON: the columns of storage.buckets and storage.objects grew over
 * the years (public, file_size_limit, allowed_mime_types, owner_id, user_metadata came in later migrations of
 * supabase/storage), and a row read with to_jsonb has whichever columns this project's version has.
 */

/** Whether the source has Supabase Storage's tables. */
export const STORAGE_TABLES_SQL = /* SQL */ `
  select to_regclass('storage.buckets') is not null as buckets,
         to_regclass('storage.objects') is not null as objects`;

/** Every bucket holding objects (analytics and vector buckets, when the column says so, hold none). */
export const BUCKETS_SQL = /* SQL */ `
  select to_jsonb(b) as row from storage.buckets b
  where coalesce(to_jsonb(b)->>'type', 'STANDARD') = 'STANDARD'
  order by b.id collate "C"`;

/** The objects of the chosen buckets, in a stable order (bucket, then key, byte-wise). */
export const OBJECTS_SQL = /* SQL */ `
  select o.bucket_id, o.name, o.metadata, to_jsonb(o) as row
  from storage.objects o
  where o.bucket_id = any($1::text[]) and o.name is not null
  order by o.bucket_id collate "C", o.name collate "C"`;
