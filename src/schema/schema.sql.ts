/*
 * What `supamigrate schema` reads of the source's catalog. Every query runs with an empty search_path, so
 * that format_type, pg_get_expr and the pg_get_*def functions qualify every name (`extensions.citext`,
 * `public.device_status`): the text is valid on a target whatever its search_path. $1 is always the
 * application schemas (see src/catalog/app-schemas.ts). Objects that belong to an extension are left to
 * `create extension` (pg_depend deptype 'e'), as pg_dump does.
 */

import { KEY_COLUMNS, REFERENCED_COLUMNS } from '../catalog/catalog.sql.js';
import { AGGREGATE_DEF, CREATED_AGGREGATE } from './objects.sql.js';

/** `and not <extension member>` for an object of the given catalog (alias.oid). */
const notExtensionMember = (catalog: string, alias: string) => /* SQL */ `
  not exists (select 1 from pg_catalog.pg_depend d
               where d.classid = '${catalog}'::regclass and d.objid = ${alias}.oid and d.deptype = 'e')`;

/** Extensions, with the schema they live in. */
export const EXTENSIONS_SQL = /* SQL */ `
  select e.extname as name, n.nspname as schema, e.extversion as version
    from pg_catalog.pg_extension e
    join pg_catalog.pg_namespace n on n.oid = e.extnamespace
   where e.extname <> 'plpgsql'
   order by e.extname`;

/** `and not <internal part of another object>` (a range type's constructors, pg_depend deptype 'i'). */
const notInternal = (catalog: string, alias: string) => /* SQL */ `
  not exists (select 1 from pg_catalog.pg_depend d
               where d.classid = '${catalog}'::regclass and d.objid = ${alias}.oid and d.deptype = 'i')`;

/** Enums, domains, composite types and ranges of the application schemas. */
export const TYPES_SQL = /* SQL */ `
  select t.oid::int8 as oid, n.nspname as schema, t.typname as name, t.typtype as kind,
         array(select e.enumlabel::text from pg_catalog.pg_enum e where e.enumtypid = t.oid
                order by e.enumsortorder) as labels,
         case when t.typtype = 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod) end as base_type,
         t.typnotnull as not_null, t.typdefault as default_value,
         array(select 'constraint ' || pg_catalog.quote_ident(c.conname) || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
                 from pg_catalog.pg_constraint c where c.contypid = t.oid order by c.conname) as checks,
         array(select pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                 from pg_catalog.pg_attribute a
                where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped order by a.attnum) as attributes,
         -- A range's options (its canonical function is left out: only C can write one, and it needs a shell type).
         (select concat_ws(', ', 'subtype = ' || pg_catalog.format_type(r.rngsubtype, null),
                   case when not opc.opcdefault then 'subtype_opclass = ' || pg_catalog.quote_ident(opn.nspname) || '.' || pg_catalog.quote_ident(opc.opcname) end,
                   case when r.rngcollation <> 0 and r.rngcollation <> st.typcollation then 'collation = '
                     || (select pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) from pg_catalog.pg_collation co
                           join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace where co.oid = r.rngcollation) end,
                   case when r.rngsubdiff <> 0 then 'subtype_diff = ' || r.rngsubdiff::regproc::text end,
                   'multirange_type_name = ' || pg_catalog.format_type(r.rngmultitypid, null))
            from pg_catalog.pg_range r
            join pg_catalog.pg_opclass opc on opc.oid = r.rngsubopc
            join pg_catalog.pg_namespace opn on opn.oid = opc.opcnamespace
            join pg_catalog.pg_type st on st.oid = r.rngsubtype
           where r.rngtypid = t.oid) as range_options,
         array(select distinct d.refobjid::int8::text from pg_catalog.pg_depend d
                where d.refclassid = 'pg_catalog.pg_proc'::regclass
                  and ((d.classid = 'pg_catalog.pg_type'::regclass and d.objid = t.oid)
                       or (d.classid = 'pg_catalog.pg_constraint'::regclass
                           and d.objid in (select c.oid from pg_catalog.pg_constraint c where c.contypid = t.oid)))) as needs
    from pg_catalog.pg_type t
    join pg_catalog.pg_namespace n on n.oid = t.typnamespace
   where n.nspname = any($1::text[])
     and (t.typtype in ('e', 'd', 'r') or (t.typtype = 'c' and (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c'))
     and ${notExtensionMember('pg_catalog.pg_type', 't')}
   order by case t.typtype when 'e' then 0 when 'r' then 1 when 'd' then 2 else 3 end, t.oid`;

/** Sequences, except those of identity columns (created with their column). */
export const SEQUENCES_SQL = /* SQL */ `
  select n.nspname as schema, c.relname as name, pg_catalog.format_type(s.seqtypid, null) as type,
         s.seqincrement::text as increment, s.seqmin::text as min, s.seqmax::text as max,
         s.seqstart::text as start, s.seqcache::text as cache, s.seqcycle as cycle,
         (select pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.relname) || '.' || pg_catalog.quote_ident(a.attname)
            from pg_catalog.pg_depend d
            join pg_catalog.pg_class t on t.oid = d.refobjid
            join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
            join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
           where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'a'
             and d.refclassid = 'pg_catalog.pg_class'::regclass limit 1) as owned_by
    from pg_catalog.pg_sequence s
    join pg_catalog.pg_class c on c.oid = s.seqrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = any($1::text[]) and ${notExtensionMember('pg_catalog.pg_class', 'c')}
     and not exists (select 1 from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_class'::regclass
                        and d.objid = c.oid and d.deptype = 'i')
   order by n.nspname, c.relname`;

/** Tables (ordinary, partitioned, partitions), parents before their partitions. */
export const TABLES_SQL = /* SQL */ `
  select c.oid::int8 as oid, n.nspname as schema, c.relname as name, c.relkind as kind,
         c.relpersistence = 'u' as unlogged, c.relrowsecurity as rls, c.relforcerowsecurity as force_rls,
         case when c.relkind = 'p' then pg_catalog.pg_get_partkeydef(c.oid) end as partition_key,
         case when c.relispartition then
           (select pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(p.relname)
              from pg_catalog.pg_inherits i join pg_catalog.pg_class p on p.oid = i.inhparent
              join pg_catalog.pg_namespace pn on pn.oid = p.relnamespace where i.inhrelid = c.oid) end as partition_of,
         case when c.relispartition then pg_catalog.pg_get_expr(c.relpartbound, c.oid) end as partition_bound,
         c.relreplident as replica_identity,
         (select ic.relname from pg_catalog.pg_index i join pg_catalog.pg_class ic on ic.oid = i.indexrelid
           where i.indrelid = c.oid and i.indisreplident) as replica_index
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p') and c.relpersistence <> 't' and n.nspname = any($1::text[])
     and ${notExtensionMember('pg_catalog.pg_class', 'c')}
   order by c.relispartition, n.nspname, c.relname`;

/** Columns of the given tables, with the type's qualified name and the default's expression. */
export const COLUMNS_SQL = /* SQL */ `
  select a.attrelid::int8 as table_oid, a.attname as name, a.attnum as position,
         pg_catalog.format_type(a.atttypid, a.atttypmod) as type, t.typname as type_name,
         a.attndims > 0 or t.typcategory = 'A' as is_array,
         a.attnotnull as not_null, a.attidentity as identity, a.attgenerated as generated,
         (select 'sequence name ' || pg_catalog.quote_ident(sn.nspname) || '.' || pg_catalog.quote_ident(sc.relname)
                 || ' start with ' || s.seqstart || ' increment by ' || s.seqincrement || ' minvalue ' || s.seqmin
                 || ' maxvalue ' || s.seqmax || ' cache ' || s.seqcache || case when s.seqcycle then ' cycle' else ' no cycle' end
            from pg_catalog.pg_depend d
            join pg_catalog.pg_sequence s on s.seqrelid = d.objid
            join pg_catalog.pg_class sc on sc.oid = s.seqrelid
            join pg_catalog.pg_namespace sn on sn.oid = sc.relnamespace
           where a.attidentity <> '' and d.classid = 'pg_catalog.pg_class'::regclass and d.refclassid = 'pg_catalog.pg_class'::regclass
             and d.refobjid = a.attrelid and d.refobjsubid = a.attnum and d.deptype = 'i') as identity_options,
         pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) as default_expr,
         case when a.attcollation <> t.typcollation and a.attcollation <> 0 then
           (select pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
              from pg_catalog.pg_collation co join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
             where co.oid = a.attcollation) end as collation
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_type t on t.oid = a.atttypid
    left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
   where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
   order by a.attrelid, a.attnum`;

/**
 * Constraints of the application's tables that are their own: copies on partitions (conparentid) and
 * inherited ones (not conislocal) come with their parent.
 */
export const CONSTRAINTS_SQL = /* SQL */ `
  select con.conrelid::int8 as table_oid, con.conname as name, con.contype as type,
         pg_catalog.pg_get_constraintdef(con.oid) as definition,
         rn.nspname as ref_schema, rc.relname as ref_table,
         ${KEY_COLUMNS} as columns,
         ${REFERENCED_COLUMNS} as ref_columns
    from pg_catalog.pg_constraint con
    left join pg_catalog.pg_class rc on rc.oid = con.confrelid
    left join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
   where con.conrelid = any($1::oid[]) and con.conparentid = 0 and con.conislocal
     and con.contype in ('p', 'u', 'x', 'c', 'f')
   order by con.conrelid, con.contype, con.conname`;

/** Indexes that no constraint creates and that are not a partition's copy of its parent's index. */
export const INDEXES_SQL = /* SQL */ `
  select n.nspname as schema, ic.relname as name, pg_catalog.pg_get_indexdef(i.indexrelid) as definition,
         i.indrelid::int8 as table_oid
    from pg_catalog.pg_index i
    join pg_catalog.pg_class ic on ic.oid = i.indexrelid
    join pg_catalog.pg_namespace n on n.oid = ic.relnamespace
   where i.indrelid = any($1::oid[])
     and not exists (select 1 from pg_catalog.pg_constraint c where c.conindid = i.indexrelid and c.contype in ('p', 'u', 'x'))
     and not exists (select 1 from pg_catalog.pg_inherits h where h.inhrelid = i.indexrelid)
   order by n.nspname, ic.relname`;

/** Views and materialized views, each with the views it reads (to create them in order). */
export const VIEWS_SQL = /* SQL */ `
  select c.oid::int8 as oid, n.nspname as schema, c.relname as name, c.relkind as kind,
         pg_catalog.pg_get_viewdef(c.oid) as definition, coalesce(c.reloptions, '{}') as options,
         array(select distinct d.refobjid::int8 from pg_catalog.pg_rewrite r
                 join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = r.oid
                 join pg_catalog.pg_class rc on rc.oid = d.refobjid and rc.relkind in ('v', 'm')
                where r.ev_class = c.oid and d.refobjid <> c.oid) as reads
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('v', 'm') and n.nspname = any($1::text[]) and ${notExtensionMember('pg_catalog.pg_class', 'c')}
   order by c.oid`;

/**
 * Functions, procedures and aggregates (pg_get_functiondef cannot print those: AGGREGATE_DEF). `uses_view`:
 * a signature that names a view's row type, created after the views. `generates_columns`: a generated
 * column calls it, so it is created before the tables (domains that call one list it in TYPES_SQL's `needs`).
 * `reads_relations`: a SQL-standard body (begin atomic) that names tables, parsed when created.
 */
export const FUNCTIONS_SQL = /* SQL */ `
  select p.oid::int8 as oid, n.nspname as schema, p.proname as name, p.prokind as kind,
         p.oid::regprocedure::text as signature, p.prosrc as body,
         case when p.prokind <> 'a' then pg_catalog.pg_get_functiondef(p.oid) else ${AGGREGATE_DEF} end as definition,
         pg_catalog.pg_get_function_identity_arguments(p.oid) as identity_args,
         pg_catalog.pg_get_function_arguments(p.oid) as arguments,
         pg_catalog.pg_get_function_result(p.oid) as result,
         exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_class rc on rc.oid = t.typrelid
                  where rc.relkind in ('v', 'm') and (t.oid = p.prorettype or t.oid = any(p.proargtypes))) as uses_view,
         exists (select 1 from pg_catalog.pg_depend d
                   join pg_catalog.pg_attrdef ad on ad.oid = d.objid
                   join pg_catalog.pg_attribute a on a.attrelid = ad.adrelid and a.attnum = ad.adnum
                  where d.classid = 'pg_catalog.pg_attrdef'::regclass and d.refclassid = 'pg_catalog.pg_proc'::regclass
                    and d.refobjid = p.oid and a.attgenerated <> '') as generates_columns,
         exists (select 1 from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::regclass
                    and d.objid = p.oid and d.refclassid = 'pg_catalog.pg_class'::regclass) as reads_relations
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = any($1::text[]) and ${notExtensionMember('pg_catalog.pg_proc', 'p')}
     and ${notInternal('pg_catalog.pg_proc', 'p')}
   order by n.nspname, p.proname, p.oid`;

/** Triggers of the given tables (not internal ones, not a partition's copy of its parent's). */
export const TRIGGERS_SQL = /* SQL */ `
  select t.tgrelid::int8 as table_oid, t.tgname as name, pg_catalog.pg_get_triggerdef(t.oid) as definition,
         t.tgenabled as enabled
    from pg_catalog.pg_trigger t
   where t.tgrelid = any($1::oid[]) and not t.tgisinternal and t.tgparentid = 0
   order by t.tgrelid, t.tgname`;

/** Triggers on Supabase's auth and storage tables, with their function's body: what they did. */
export const SUPABASE_TRIGGERS_SQL = /* SQL */ `
  select n.nspname as schema, c.relname as table_name, t.tgname as name, p.oid::regprocedure::text as function,
         pn.nspname as function_schema, p.prosrc as body, pg_catalog.pg_get_triggerdef(t.oid) as definition
    from pg_catalog.pg_trigger t
    join pg_catalog.pg_class c on c.oid = t.tgrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_proc p on p.oid = t.tgfoid
    join pg_catalog.pg_namespace pn on pn.oid = p.pronamespace
   where n.nspname in ('auth', 'storage') and not t.tgisinternal
   order by n.nspname, c.relname, t.tgname`;

/** Policies on Supabase's auth and storage tables (apps write them on storage.objects): reported. */
export const SUPABASE_POLICIES_SQL = /* SQL */ `
  select n.nspname || '.' || c.relname as table, p.polname as name
    from pg_catalog.pg_policy p
    join pg_catalog.pg_class c on c.oid = p.polrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('auth', 'storage')
   order by 1, 2`;

/** Row-level security policies of the given tables; roles by name (PUBLIC for none). */
export const POLICIES_SQL = /* SQL */ `
  select p.polrelid::int8 as table_oid, p.polname as name, p.polcmd as command, p.polpermissive as permissive,
         array(select case when r = 0 then 'public' else (select rolname from pg_catalog.pg_roles where oid = r) end
                 from unnest(p.polroles) r)::text[] as roles,
         pg_catalog.pg_get_expr(p.polqual, p.polrelid) as using_expr,
         pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as check_expr
    from pg_catalog.pg_policy p
   where p.polrelid = any($1::oid[])
   order by p.polrelid, p.polname`;

/**
 * Comments on the application's objects, each with the words and name `comment on` needs
 * (`table "public"."devices"`, `column "public"."devices"."owner_id"`, `function public.f(uuid)`).
 */
export const COMMENTS_SQL = /* SQL */ `
  select case c.relkind when 'v' then 'view ' when 'm' then 'materialized view ' else 'table ' end
           || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) as target, d.description
    from pg_catalog.pg_description d
    join pg_catalog.pg_class c on d.classoid = 'pg_catalog.pg_class'::regclass and c.oid = d.objoid and d.objsubid = 0
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm')
  union all
  select 'column ' || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) || '.'
           || pg_catalog.quote_ident(a.attname), d.description
    from pg_catalog.pg_description d
    join pg_catalog.pg_class c on d.classoid = 'pg_catalog.pg_class'::regclass and c.oid = d.objoid
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid and d.objsubid > 0
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm')
  union all
  select case p.prokind when 'p' then 'procedure ' else 'function ' end || p.oid::regprocedure::text, d.description
    from pg_catalog.pg_description d
    join pg_catalog.pg_proc p on d.classoid = 'pg_catalog.pg_proc'::regclass and p.oid = d.objoid
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = any($1::text[]) and p.prokind in ('f', 'p') and ${notInternal('pg_catalog.pg_proc', 'p')}
  union all
  select 'type ' || pg_catalog.format_type(t.oid, null), d.description
    from pg_catalog.pg_description d
    join pg_catalog.pg_type t on d.classoid = 'pg_catalog.pg_type'::regclass and t.oid = d.objoid
    join pg_catalog.pg_namespace n on n.oid = t.typnamespace
   where n.nspname = any($1::text[])
  union all
  select 'schema ' || pg_catalog.quote_ident(n.nspname), d.description
    from pg_catalog.pg_description d
    join pg_catalog.pg_namespace n on d.classoid = 'pg_catalog.pg_namespace'::regclass and n.oid = d.objoid
   where n.nspname = any($1::text[]) and n.nspname <> 'public'
   order by 1`;

/**
 * Privileges granted on the application's schemas, tables, views, columns, sequences and functions (aclexplode),
 * except those an owner holds on its own objects. grantee 'public' is PUBLIC.
 */
export const GRANTS_SQL = /* SQL */ `
  with acl as (
    select 'schema' as kind, pg_catalog.quote_ident(n.nspname) as target, null::text as column_name,
           n.nspacl as acl, n.nspowner as owner
      from pg_catalog.pg_namespace n where n.nspname = any($1::text[])
    union all
    select case c.relkind when 'S' then 'sequence' else 'table' end,
           pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), null, c.relacl, c.relowner
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'S') and not c.relispartition
    union all
    select 'column', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),
           pg_catalog.quote_ident(a.attname), a.attacl, c.relowner
      from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition
       and a.attnum > 0 and not a.attisdropped and a.attacl is not null
    union all
    select case p.prokind when 'p' then 'procedure' else 'function' end, p.oid::regprocedure::text, null, p.proacl, p.proowner
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = any($1::text[]) and (p.prokind in ('f', 'p') or ${CREATED_AGGREGATE})
       and ${notExtensionMember('pg_catalog.pg_proc', 'p')} and ${notInternal('pg_catalog.pg_proc', 'p')}
  )
  select acl.kind, acl.target, acl.column_name,
         case when x.grantee = 0 then 'public' else (select rolname from pg_catalog.pg_roles where oid = x.grantee) end as grantee,
         x.privilege_type as privilege
    from acl, lateral aclexplode(acl.acl) x
   where acl.acl is not null and x.grantee <> acl.owner
   order by acl.kind, acl.target, 3, 4, 5`;

/**
 * Functions and procedures from which the source revoked PUBLIC's default EXECUTE (an ACL without an
 * entry for PUBLIC): on the target, PUBLIC's EXECUTE is revoked too.
 */
export const NOT_PUBLIC_ROUTINES_SQL = /* SQL */ `
  select case p.prokind when 'p' then 'procedure' else 'function' end as kind, p.oid::regprocedure::text as target
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = any($1::text[]) and (p.prokind in ('f', 'p') or ${CREATED_AGGREGATE}) and p.proacl is not null
     and not exists (select 1 from aclexplode(p.proacl) x where x.grantee = 0)
     and ${notExtensionMember('pg_catalog.pg_proc', 'p')} and ${notInternal('pg_catalog.pg_proc', 'p')}
   order by 2`;

/**
 * Default privileges in the application schemas (Supabase gives anon, authenticated and service_role all
 * privileges on every new table of public), whoever set them: on the target they are set for the
 * connecting role, which owns the objects and will create the next ones.
 */
export const DEFAULT_PRIVILEGES_SQL = /* SQL */ `
  select distinct n.nspname as schema,
         case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions'
                              when 'T' then 'types' end as objects,
         case when x.grantee = 0 then 'public' else (select rolname from pg_catalog.pg_roles where oid = x.grantee) end as grantee,
         x.privilege_type as privilege
    from pg_catalog.pg_default_acl d
    join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace,
         lateral aclexplode(d.defaclacl) x
   where n.nspname = any($1::text[]) and x.grantee <> d.defaclrole and d.defaclobjtype in ('r', 'S', 'f', 'T')
   order by 1, 2, 3, 4`;

/** Every role the application's policies and grants name, with what the target knows of it. */
export const TARGET_ROLES_SQL = /* SQL */ `
  select r.rolname as name from pg_catalog.pg_roles r where r.rolname = any($1::text[])`;

/** What the connecting role may do on the target. */
export const TARGET_ABILITIES_SQL = /* SQL */ `
  select r.rolsuper as superuser, r.rolcreaterole as create_role, current_user as role,
         pg_catalog.has_database_privilege(current_database(), 'CREATE') as create_in_database,
         current_setting('server_version_num')::int as version
    from pg_catalog.pg_roles r where r.rolname = current_user`;

/** Extensions the target can install: installed already, available, trusted (non-superusers may create). */
export const TARGET_EXTENSIONS_SQL = /* SQL */ `
  select a.name, a.installed_version is not null as installed,
         coalesce((select v.trusted from pg_catalog.pg_available_extension_versions v
                    where v.name = a.name and v.version = a.default_version), false) as trusted
    from pg_catalog.pg_available_extensions a where a.name = any($1::text[])`;

/** Relations, types and functions that already exist in the target: `schema\u0000name`, or a function's signature. */
export const TARGET_EXISTING_SQL = /* SQL */ `
  select 'relation' as kind, n.nspname || chr(1) || c.relname as key
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
  union all
  select 'type', n.nspname || chr(1) || t.typname
    from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
   where n.nspname = any($1::text[]) and t.typtype in ('e', 'd', 'r', 'c') and t.typrelid = 0
  union all
  select 'function', p.oid::regprocedure::text
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = any($1::text[])`;

/** The columns of a table by name (the source's auth.users), or none when it does not exist. */
export const TABLE_OID_SQL = /* SQL */ `select pg_catalog.to_regclass($1)::oid::int8 as oid`;

/** Publications (logical replication, Supabase Realtime) that publish application tables. */
export const PUBLICATIONS_SQL = /* SQL */ `
  select p.pubname as name, array_agg(pt.schemaname || '.' || pt.tablename order by pt.schemaname, pt.tablename)::text[] as tables
    from pg_catalog.pg_publication p
    join pg_catalog.pg_publication_tables pt on pt.pubname = p.pubname
   where pt.schemaname = any($1::text[])
   group by p.pubname order by p.pubname`;

/** Supabase's API roles the source has (a Supabase project has all three). */
export const SOURCE_API_ROLES_SQL = /* SQL */ `
  select r.rolname as name from pg_catalog.pg_roles r where r.rolname = any($1::text[]) order by r.rolname`;

/** The target's schemas (of those named) and whether the connected role may use them and create in them. */
export const TARGET_SCHEMA_RIGHTS_SQL = /* SQL */ `
  select n.nspname as name, pg_catalog.has_schema_privilege(n.oid, 'USAGE') as usage,
         pg_catalog.has_schema_privilege(n.oid, 'CREATE') as create
    from pg_catalog.pg_namespace n where n.nspname = any($1::text[])`;
