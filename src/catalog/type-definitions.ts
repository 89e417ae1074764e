import type pg from 'pg';
import { withEmptySearchPath } from '../pg/sql.js';

/*
 * Two databases may each have a type of the same name that is not the same type: a composite with its fields
 * in another order, a domain over float4 instead of float8, a range of another subtype. Their values' text is
 * read differently (or not at all) by the other side, so a name is not enough to say that a value goes
 * across unchanged: its whole definition must be the same, down to the built-in types. A collation is not
 * part of it (it orders values, it does not change how they are read), nor an enum's labels (a value is its
 * label; a label the other side lacks fails the load, loudly).
 */

/** Every type outside pg_catalog: what it is made of, and the types that definition names. */
const TYPE_DEFINITIONS_SQL = /* SQL */ `
  select pg_catalog.format_type(t.oid, null) as name,
    case t.typtype
      when 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod)
        || case when t.typnotnull then ' not null' else '' end
        || coalesce((select ' ' || string_agg(pg_catalog.pg_get_constraintdef(c.oid), ' ' order by c.conname)
                     from pg_catalog.pg_constraint c where c.contypid = t.oid), '')
      when 'c' then (select string_agg(pg_catalog.quote_ident(a.attname) || ' '
                                       || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' order by a.attnum)
                     from pg_catalog.pg_attribute a
                     where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped)
      -- an enum's values go by their labels: one the target lacks is refused by the load, loudly
      when 'e' then 'enum'
      when 'r' then (select pg_catalog.format_type(r.rngsubtype, null) from pg_catalog.pg_range r
                     where r.rngtypid = t.oid)
      when 'm' then (select pg_catalog.format_type(r.rngtypid, null) from pg_catalog.pg_range r
                     where r.rngmultitypid = t.oid)
      else t.typinput::text || ' ' || t.typoutput::text || ' ' || t.typlen
    end as definition,
    array(
      select pg_catalog.format_type(x, null) from unnest(
        case t.typtype
          when 'd' then array[t.typbasetype]
          when 'c' then array(select a.atttypid from pg_catalog.pg_attribute a
                              where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped)
          when 'r' then array(select r.rngsubtype from pg_catalog.pg_range r where r.rngtypid = t.oid)
          when 'm' then array(select r.rngtypid from pg_catalog.pg_range r where r.rngmultitypid = t.oid)
          else array[]::oid[]
        end) as x
    ) as refs
  from pg_catalog.pg_type t
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
    and n.nspname not like 'pg\\_temp\\_%'
    -- array types are their element's (a domain over an array is not one: its category is its base's)
    and not (t.typtype = 'b' and t.typelem <> 0 and exists (select 1 from pg_catalog.pg_type e
                                                             where e.oid = t.typelem and e.typarray = t.oid))`;

interface TypeRow {
  name: string;
  definition: string | null;
  refs: string[];
}

/** A type name (as `format_type` prints it with an empty search_path) → its whole definition. */
export type TypeDefinitions = (type: string) => string;

/**
 * Reads the definitions of the database's own types (outside pg_catalog). The function it returns gives a
 * column type's full definition: its own and, recursively, those of the types it is made of (array element,
 * domain base, composite fields, range subtype). Built-in types are their name.
 */
export async function readTypeDefinitions(client: pg.Client): Promise<TypeDefinitions> {
  const rows = await withEmptySearchPath(
    client,
    async () => (await client.query<TypeRow>(TYPE_DEFINITIONS_SQL)).rows,
  );
  const byName = new Map(rows.map((r) => [r.name, r]));
  const memo = new Map<string, string>();
  const define = (type: string, within: readonly string[]): string => {
    // An array's element (format_type prints every array type with one []); a typmod is not part of the name.
    const name = type.replace(/\[\]$/, '').replace(/\([^()]*\)$/, '');
    const row = byName.get(name);
    if (!row) return type;
    if (within.includes(name)) return name;
    const known = memo.get(name);
    const whole =
      known ??
      `${name} {${row.definition ?? ''}}${row.refs.map((r) => ` ${define(r, [...within, name])}`).join('')}`;
    memo.set(name, whole);
    return type === name ? whole : `${type} of ${whole}`;
  };
  return (type) => define(type, []);
}
