/*
 * Catalog queries. They read pg_catalog, not information_schema: it is faster and sees partitions,
 * generated and identity columns. Every value is a parameter.
 */

/**
 * Ordinary and partitioned tables of the given schemas. Partitions are left out (their rows are read
 * through the parent), and so are tables that belong to an extension (such as PostGIS's spatial_ref_sys)
 * and temporary tables.
 */
export const TABLES_SQL = /* SQL */ `
  select c.oid::int8 as oid, n.nspname as schema, c.relname as name, c.relkind as relkind,
         c.reltuples::float8 as reltuples, c.relrowsecurity as rls
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p')
     and not c.relispartition
     and c.relpersistence <> 't'
     and n.nspname = any($1::text[])
     and not exists (select 1 from pg_catalog.pg_depend d
                      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
   order by n.nspname, c.relname`;

/** Columns in attribute order (kysely's introspector: attnum > 0 and not attisdropped). */
export const COLUMNS_SQL = /* SQL */ `
  select a.attrelid::int8 as table_oid, a.attname as name,
         pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.atttypid::int8 as type_oid,
         a.attnotnull as not_null, a.attgenerated as generated, a.attidentity as identity, a.atthasdef as has_default
    from pg_catalog.pg_attribute a
   where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
   order by a.attrelid, a.attnum`;

/** Types by oid, to resolve domains to their base type and arrays to their element type. */
export const TYPES_SQL = /* SQL */ `
  select t.oid::int8 as oid, n.nspname as schema, t.typname as name, t.typtype as typtype,
         t.typbasetype::int8 as base_oid, t.typelem::int8 as elem_oid, t.typcategory as category, t.typdelim as delimiter,
         t.typsubscript = 'pg_catalog.array_subscript_handler'::regproc as is_array,
         -- ::text goes through a cast of its own (inet shows /32, character drops trailing blanks), not
         -- the output function: the only binary casts known to keep the text are varchar's and citext's.
         exists (select from pg_catalog.pg_cast c
                  where c.castsource = t.oid and c.casttarget = 'pg_catalog.text'::pg_catalog.regtype
                    and (c.castmethod <> 'b' or t.typname not in ('varchar', 'citext'))) as text_cast
    from pg_catalog.pg_type t
    join pg_catalog.pg_namespace n on n.oid = t.typnamespace
   where t.oid = any($1::oid[])`;

/** A constraint's (alias con) columns, in key order, as text[]. */
export const KEY_COLUMNS = /* SQL */ `array(select a.attname from unnest(con.conkey) with ordinality k(attnum, i)
                 join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                order by k.i)::text[]`;

/** The columns a foreign key (alias con) references, in key order, as text[]. */
export const REFERENCED_COLUMNS = /* SQL */ `array(select a.attname from unnest(con.confkey) with ordinality k(attnum, i)
                 join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum
                order by k.i)::text[]`;

/**
 * Primary keys and foreign keys, columns in key order. Adapted from postgres-meta's table_relationships:
 * conparentid = 0 keeps the constraint defined on a partitioned parent and drops its per-partition copies.
 */
export const CONSTRAINTS_SQL = /* SQL */ `
  select con.conrelid::int8 as table_oid, con.conname as name, con.contype as type, con.condeferrable as deferrable,
         ${KEY_COLUMNS} as columns,
         rn.nspname as ref_schema, rc.relname as ref_table,
         ${REFERENCED_COLUMNS} as ref_columns
    from pg_catalog.pg_constraint con
    left join pg_catalog.pg_class rc on rc.oid = con.confrelid
    left join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
   where con.conrelid = any($1::oid[]) and con.contype in ('p', 'f') and con.conparentid = 0
   order by con.conrelid, con.conname`;

/**
 * The sequences behind each column: owned ones (serial, bigserial, identity: deptype 'a' and 'i'), and
 * those a column default calls with nextval() without owning them (deptype 'n' from pg_attrdef).
 */
export const OWNED_SEQUENCES_SQL = /* SQL */ `
  select d.refobjid::int8 as table_oid, a.attname as column_name, sn.nspname as schema, s.relname as name, a.attnum
    from pg_catalog.pg_depend d
    join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
    join pg_catalog.pg_namespace sn on sn.oid = s.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
   where d.classid = 'pg_catalog.pg_class'::regclass and d.refclassid = 'pg_catalog.pg_class'::regclass
     and d.deptype in ('a', 'i') and d.refobjid = any($1::oid[])
  union
  select ad.adrelid::int8, a.attname, sn.nspname, s.relname, a.attnum
    from pg_catalog.pg_attrdef ad
    join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_attrdef'::regclass and d.objid = ad.oid
                               and d.refclassid = 'pg_catalog.pg_class'::regclass and d.deptype = 'n'
    join pg_catalog.pg_class s on s.oid = d.refobjid and s.relkind = 'S'
    join pg_catalog.pg_namespace sn on sn.oid = s.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = ad.adrelid and a.attnum = ad.adnum
   where ad.adrelid = any($1::oid[])
   order by 1, 5`;

/** Where each sequence stands: what it last handed out (NULL when never used, or not readable). */
export const SEQUENCE_STATE_SQL = /* SQL */ `
  select s.seqrelid::regclass::text as name, s.seqincrement::text as increment, s.seqstart::text as start,
         s.seqmin::text as min,
         s.seqmax::text as max,
         case when pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE')
              then pg_catalog.pg_sequence_last_value(s.seqrelid)::text end as last_value
    from pg_catalog.pg_sequence s
   where s.seqrelid = $1::regclass`;

/** Relations that are not exported as tables (views, partitions, …), to explain a --table that names one. */
export const OTHER_RELATIONS_SQL = /* SQL */ `
  select n.nspname as schema, c.relname as name,
         case when c.relispartition then 'a partition of ' || (select pn.nspname || '.' || p.relname
                                                                   from pg_catalog.pg_inherits i
                                                                   join pg_catalog.pg_class p on p.oid = i.inhparent
                                                                   join pg_catalog.pg_namespace pn on pn.oid = p.relnamespace
                                                                  where i.inhrelid = c.oid limit 1)
                                         || ' (its rows are exported with it)'
              when c.relkind = 'v' then 'a view (it holds no rows of its own)'
              when c.relkind = 'm' then 'a materialized view (refresh it in the target)'
              when c.relkind = 'f' then 'a foreign table'
              else 'not exportable' end as what
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = any($1::text[]) and (c.relkind in ('v', 'm', 'f') or c.relispartition)`;

/** Schemas that exist, to tell the user about a misspelled --schema. */
export const SCHEMAS_SQL = /* SQL */ `
  select n.nspname as name from pg_catalog.pg_namespace n where n.nspname = any($1::text[])`;

/** Server facts recorded in metadata.json. */
export const SERVER_SQL = /* SQL */ `
  select current_setting('server_version') as version, current_database() as database, current_user as user_name,
         (select oid from pg_database where datname = current_database())::int8 as database_oid,
         -- The cluster's identity; pg_control_system() may be refused to a role that is not superuser.
         case when has_function_privilege('pg_catalog.pg_control_system()', 'execute')
              then (select system_identifier::text from pg_catalog.pg_control_system()) end as system_identifier`;
