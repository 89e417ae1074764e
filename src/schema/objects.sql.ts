/*
 * More of what `supamigrate schema` reads, on the source and on the target: the application objects that use
 * an extension, extended statistics, aggregates, and the shapes of objects to compare with a target's.
 * Like schema.sql.ts: run with an empty search_path (names come qualified), $1 the application schemas.
 */

/**
 * The application objects that depend (pg_depend) on a member of an extension: columns of its types,
 * triggers calling its functions, defaults, indexes using its operator classes, views, functions whose
 * signature names its types, domains, constraints. A member is an object the extension owns (deptype 'e')
 * or an internal part of one (an array type). Function bodies are not in pg_depend.
 */
export const EXTENSION_USERS_SQL = /* SQL */ `
  with recursive member as (
    select d.classid, d.objid, d.refobjid as ext
      from pg_catalog.pg_depend d
     where d.refclassid = 'pg_catalog.pg_extension'::regclass and d.deptype = 'e'
    union
    select d.classid, d.objid, m.ext
      from pg_catalog.pg_depend d join member m on d.refclassid = m.classid and d.refobjid = m.objid
     where d.deptype = 'i' and d.classid = 'pg_catalog.pg_type'::regclass
  ), used as (
    select distinct m.ext, d.classid, d.objid, d.objsubid, m.classid as member_class, m.objid as member_oid
      from pg_catalog.pg_depend d join member m on d.refclassid = m.classid and d.refobjid = m.objid
     where d.deptype in ('n', 'a')
       and not exists (select 1 from member x where x.classid = d.classid and x.objid = d.objid)
  ), placed as (
    select u.*,
           case u.classid
             when 'pg_catalog.pg_class'::regclass then (select c.relnamespace from pg_catalog.pg_class c where c.oid = u.objid)
             when 'pg_catalog.pg_trigger'::regclass then (select c.relnamespace from pg_catalog.pg_trigger t
                 join pg_catalog.pg_class c on c.oid = t.tgrelid where t.oid = u.objid)
             when 'pg_catalog.pg_attrdef'::regclass then (select c.relnamespace from pg_catalog.pg_attrdef a
                 join pg_catalog.pg_class c on c.oid = a.adrelid where a.oid = u.objid)
             when 'pg_catalog.pg_rewrite'::regclass then (select c.relnamespace from pg_catalog.pg_rewrite r
                 join pg_catalog.pg_class c on c.oid = r.ev_class where r.oid = u.objid)
             when 'pg_catalog.pg_policy'::regclass then (select c.relnamespace from pg_catalog.pg_policy p
                 join pg_catalog.pg_class c on c.oid = p.polrelid where p.oid = u.objid)
             when 'pg_catalog.pg_constraint'::regclass then (select c.connamespace from pg_catalog.pg_constraint c where c.oid = u.objid)
             when 'pg_catalog.pg_proc'::regclass then (select p.pronamespace from pg_catalog.pg_proc p where p.oid = u.objid)
             when 'pg_catalog.pg_type'::regclass then (select t.typnamespace from pg_catalog.pg_type t where t.oid = u.objid)
             when 'pg_catalog.pg_statistic_ext'::regclass then (select s.stxnamespace from pg_catalog.pg_statistic_ext s where s.oid = u.objid)
           end as namespace
      from used u
  )
  select e.extname as extension,
         case when u.classid = 'pg_catalog.pg_rewrite'::regclass
              then pg_catalog.pg_describe_object('pg_catalog.pg_class'::regclass,
                     (select r.ev_class from pg_catalog.pg_rewrite r where r.oid = u.objid), 0)
              else pg_catalog.pg_describe_object(u.classid, u.objid, u.objsubid) end as object,
         pg_catalog.pg_describe_object(u.member_class, u.member_oid, 0) as member
    from placed u
    join pg_catalog.pg_extension e on e.oid = u.ext
    join pg_catalog.pg_namespace n on n.oid = u.namespace
   where n.nspname = any($1::text[])
   order by 1, 2, 3`;

/** Extended statistics (create statistics) on the application's tables. */
export const STATISTICS_SQL = /* SQL */ `
  select n.nspname as schema, s.stxname as name, s.stxrelid::int8 as table_oid,
         pg_catalog.pg_get_statisticsobjdef(s.oid) as definition
    from pg_catalog.pg_statistic_ext s
    join pg_catalog.pg_namespace n on n.oid = s.stxnamespace
   where s.stxrelid = any($1::oid[])
   order by n.nspname, s.stxname`;

/** The server's version as a number (150008, 170004). */
export const SERVER_VERSION_SQL = /* SQL */ `select current_setting('server_version_num')::int as version`;

/**
 * `create aggregate` of an ordinary aggregate (pg_proc p) from pg_aggregate, as pg_dump's dumpAgg writes it;
 * null for ordered-set and hypothetical ones and those with a moving-aggregate mode (reported instead).
 */
export const AGGREGATE_DEF = /* SQL */ `
  (select 'create aggregate ' || pg_catalog.quote_ident(an.nspname) || '.' || pg_catalog.quote_ident(p.proname)
            || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ') ('
            || concat_ws(', ',
                 'sfunc = ' || a.aggtransfn::regproc::text,
                 'stype = ' || pg_catalog.format_type(a.aggtranstype, null),
                 case when a.aggtransspace <> 0 then 'sspace = ' || a.aggtransspace end,
                 case when a.aggfinalfn <> 0 then 'finalfunc = ' || a.aggfinalfn::regproc::text end,
                 case when a.aggfinalextra then 'finalfunc_extra' end,
                 case when a.aggfinalfn <> 0 and a.aggfinalmodify <> 'r' then 'finalfunc_modify = '
                      || case a.aggfinalmodify when 's' then 'shareable' else 'read_write' end end,
                 case when a.aggcombinefn <> 0 then 'combinefunc = ' || a.aggcombinefn::regproc::text end,
                 case when a.aggserialfn <> 0 then 'serialfunc = ' || a.aggserialfn::regproc::text end,
                 case when a.aggdeserialfn <> 0 then 'deserialfunc = ' || a.aggdeserialfn::regproc::text end,
                 case when a.agginitval is not null then 'initcond = ' || pg_catalog.quote_literal(a.agginitval) end,
                 case when a.aggsortop <> 0 then 'sortop = operator(' || (select pg_catalog.quote_ident(opn.nspname) || '.' || o.oprname
                        from pg_catalog.pg_operator o join pg_catalog.pg_namespace opn on opn.oid = o.oprnamespace
                       where o.oid = a.aggsortop) || ')' end,
                 case p.proparallel when 's' then 'parallel = safe' when 'r' then 'parallel = restricted' end)
            || ')'
     from pg_catalog.pg_aggregate a join pg_catalog.pg_namespace an on an.oid = p.pronamespace
    where a.aggfnoid = p.oid and a.aggkind = 'n' and a.aggmtransfn = 0)`;

/** Whether p is an aggregate AGGREGATE_DEF creates (its grants are kept). */
export const CREATED_AGGREGATE = /* SQL */ `
  (p.prokind = 'a' and exists (select 1 from pg_catalog.pg_aggregate a
                                where a.aggfnoid = p.oid and a.aggkind = 'n' and a.aggmtransfn = 0))`;

/**
 * The shapes of the application's relations, types and functions, read alike on the source and on the
 * target to tell an object the target has already from the source's: a table's columns (name, type,
 * not null), else one text (a view's definition, an enum's labels, a domain's base type and checks, a
 * sequence's options, a function's definition). `key` as in TARGET_EXISTING_SQL.
 */
export const SHAPES_SQL = /* SQL */ `
  select n.nspname || chr(1) || c.relname as key,
         case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view' else 'table' end as kind,
         case when c.relkind in ('r', 'p') then
           (select json_agg(json_build_array(a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull) order by a.attnum)
              from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) end as columns,
         case when c.relkind in ('v', 'm') then pg_catalog.pg_get_viewdef(c.oid)
              when c.relkind = 'S' then (select concat_ws(' ', pg_catalog.format_type(s.seqtypid, null), s.seqstart, s.seqincrement,
                                                          s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
                                           from pg_catalog.pg_sequence s where s.seqrelid = c.oid) end as shape
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'S')
  union all
  select n.nspname || chr(1) || t.typname,
         case t.typtype when 'e' then 'enum' when 'd' then 'domain' when 'r' then 'range' else 'type' end, null,
         case t.typtype
           when 'e' then (select string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' order by e.enumsortorder)
                            from pg_catalog.pg_enum e where e.enumtypid = t.oid)
           when 'd' then concat_ws(' ', pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                                   (select string_agg(pg_catalog.pg_get_constraintdef(k.oid), ' ' order by k.conname)
                                      from pg_catalog.pg_constraint k where k.contypid = t.oid))
           when 'r' then (select concat_ws(' ', pg_catalog.format_type(r.rngsubtype, null), r.rngsubopc, r.rngcollation, r.rngsubdiff::regproc)
                            from pg_catalog.pg_range r where r.rngtypid = t.oid)
           else (select string_agg(pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' order by a.attnum)
                   from pg_catalog.pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) end
    from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
   where n.nspname = any($1::text[]) and t.typtype in ('e', 'd', 'r', 'c')
     and (t.typrelid = 0 or (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')
  union all
  select p.oid::regprocedure::text, 'function', null,
         case when p.prokind <> 'a' then pg_catalog.pg_get_functiondef(p.oid) end
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname = any($1::text[])`;
