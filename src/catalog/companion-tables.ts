import type pg from 'pg';
import type { TableRef } from './types.js';

/**
 * Tables outside the application schemas that application tables reference by foreign key (storage.objects,
 * and what they reference in turn, storage.buckets), auth.users excepted: its users are exported apart and
 * `schema` creates a minimal auth.users for them. These "companion" tables are exported, created and
 * imported with the application's, so that every foreign key holds on the target.
 */
export const COMPANION_TABLES_SQL = /* SQL */ `
  with recursive refs(oid) as (
    select con.confrelid
      from pg_catalog.pg_constraint con
      join pg_catalog.pg_class c on c.oid = con.conrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where con.contype = 'f' and n.nspname = any($1::text[])
    union
    select con.confrelid from pg_catalog.pg_constraint con join refs r on con.conrelid = r.oid where con.contype = 'f'
  )
  select distinct n.nspname as schema, c.relname as name
    from refs r
    join pg_catalog.pg_class c on c.oid = r.oid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where not (n.nspname = any($1::text[])) and not (n.nspname = 'auth' and c.relname = 'users')
   order by 1, 2`;

/** The companion tables of the given application schemas (see COMPANION_TABLES_SQL). */
export async function companionTables(client: pg.Client, appSchemas: readonly string[]): Promise<TableRef[]> {
  return (await client.query<TableRef>(COMPANION_TABLES_SQL, [appSchemas])).rows;
}
