import type pg from 'pg';
import { qualifiedName, quoteIdent } from '../pg/sql.js';

/*
 * What export cannot carry in its files: large objects (an `oid` column, or a domain over oid such as
 * the `lo` extension's, whose values name rows of pg_largeobject), and sequences that no column uses.
 */

/** A column holding large-object oids, with how many distinct objects of pg_largeobject it names. */
export interface LargeObjectColumn {
  schema: string;
  table: string;
  column: string;
  objects: number;
}

const OID_COLUMNS_SQL = /* SQL */ `
  select n.nspname as schema, c.relname as table, a.attname as column
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_class c on c.oid = a.attrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_type t on t.oid = a.atttypid
   where (n.nspname, c.relname) in (select * from unnest($1::text[], $2::text[]))
     and a.attnum > 0 and not a.attisdropped
     and (a.atttypid = 'pg_catalog.oid'::regtype
          or (t.typtype = 'd' and t.typbasetype = 'pg_catalog.oid'::regtype))
   order by 1, 2, a.attnum`;

/** The oid columns of `tables` whose values name large objects (columns naming none are left out). */
export async function largeObjectColumns(
  client: pg.Client,
  tables: readonly { schema: string; name: string }[],
): Promise<LargeObjectColumn[]> {
  if (tables.length === 0) return [];
  const candidates = (
    await client.query<{ schema: string; table: string; column: string }>(OID_COLUMNS_SQL, [
      tables.map((t) => t.schema),
      tables.map((t) => t.name),
    ])
  ).rows;
  const found: LargeObjectColumn[] = [];
  for (const c of candidates) {
    const column = quoteIdent(c.column);
    const { rows } = await client.query<{ n: string }>(
      `select count(distinct x.${column}) as n from ${quoteIdent(c.schema)}.${quoteIdent(c.table)} x
        where exists (select 1 from pg_catalog.pg_largeobject_metadata m where m.oid = x.${column})`,
    );
    const objects = Number(rows[0]!.n);
    if (objects > 0) found.push({ ...c, objects });
  }
  return found;
}

/** A sequence no column owns or defaults to, where it stands. */
export interface StandaloneSequence {
  schema: string;
  name: string;
  lastValue: string;
  isCalled: boolean;
}

const STANDALONE_SEQUENCES_SQL = /* SQL */ `
  select n.nspname as schema, c.relname as name,
         coalesce(s.last_value, s.start_value)::text as last_value, s.last_value is not null as is_called,
         has_sequence_privilege(c.oid, 'SELECT') or has_sequence_privilege(c.oid, 'USAGE') as readable,
         has_sequence_privilege(c.oid, 'SELECT') as selectable
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_sequences s on s.schemaname = n.nspname and s.sequencename = c.relname
   where c.relkind = 'S' and n.nspname = any($1::text[])
     -- owned by a column (serial, identity)
     and not exists (select 1 from pg_catalog.pg_depend d
                      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
                        and d.refclassid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i'))
     -- named by a column default (nextval('...'))
     and not exists (select 1 from pg_catalog.pg_depend d
                      where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = c.oid
                        and d.classid = 'pg_catalog.pg_attrdef'::regclass)
   order by 1, 2`;

/**
 * The sequences of `schemas` that no column uses, with their positions. Those the role may not read are
 * returned apart, by name.
 */
export async function standaloneSequences(
  client: pg.Client,
  schemas: readonly string[],
): Promise<{ sequences: StandaloneSequence[]; unreadable: string[] }> {
  const rows = (
    await client.query<{
      schema: string;
      name: string;
      last_value: string;
      is_called: boolean;
      readable: boolean;
      selectable: boolean;
    }>(STANDALONE_SEQUENCES_SQL, [schemas])
  ).rows;
  const sequences: StandaloneSequence[] = [];
  for (const r of rows.filter((row) => row.readable)) {
    // pg_sequences shows no value for a sequence set with is_called = false (setval(s, 777, false)): the
    // relation itself has it.
    // (Only with SELECT: a refused query would end the snapshot's transaction.)
    const own = r.selectable
      ? (
          await client.query<{ last_value: string; is_called: boolean }>(
            `SELECT last_value::text, is_called FROM ${qualifiedName(r)}`,
          )
        ).rows[0]
      : undefined;
    sequences.push({
      schema: r.schema,
      name: r.name,
      lastValue: own?.last_value ?? r.last_value,
      isCalled: own?.is_called ?? r.is_called,
    });
  }
  return { sequences, unreadable: rows.filter((r) => !r.readable).map((r) => `${r.schema}.${r.name}`) };
}
