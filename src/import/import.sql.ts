/** Queries of the importer. Identifiers are quoted by the callers (pg/sql.ts); values are parameters. */

/** Whether the current role can skip RLS and set session_replication_role without help. */
export const ROLE_SQL = /* SQL */ `
  select r.rolname as name, r.rolsuper as superuser, r.rolbypassrls as bypass_rls
    from pg_catalog.pg_roles r where r.rolname = current_user`;

/** Per table: owner membership (ALTER TABLE needs it), RLS flags. */
export const TABLE_ACCESS_SQL = /* SQL */ `
  select c.oid::int8 as oid, pg_catalog.pg_has_role(c.relowner, 'MEMBER') as owner,
         c.relrowsecurity as rls, c.relforcerowsecurity as force_rls
    from pg_catalog.pg_class c where c.oid = any($1::oid[])`;
