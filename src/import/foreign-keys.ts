import type pg from 'pg';
import { describeError } from '../errors.js';
import { displayName, qualifiedName, quoteIdent } from '../pg/sql.js';

/** A foreign key of the target, as pg_catalog has it (partitions' copies left out: their parent's counts). */
export interface TargetForeignKey {
  name: string;
  /** `f` for MATCH FULL; `s` (simple) or `p` otherwise. */
  match: string;
  from: { oid: number; schema: string; name: string; kind: 'table' | 'partitioned'; columns: string[] };
  to: { oid: number; schema: string; name: string; kind: 'table' | 'partitioned'; columns: string[] };
}

/** A foreign key the target's rows break: how many rows, and a few of their keys. */
export interface ForeignKeyViolation {
  /** `public.sensors.sensors_device_id_fkey` */
  foreignKey: string;
  table: string;
  references: string;
  count: number;
  examples: string[];
  /** The check itself could not run (set instead of count/examples). */
  error?: string;
}

const FOREIGN_KEYS_SQL = /* SQL */ `
  select c.conname::text as name, c.confmatchtype::text as match,
         c.conrelid::int8 as from_oid, fn.nspname::text as from_schema, f.relname::text as from_name,
         f.relkind::text as from_kind,
         array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
                 join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i) as from_columns,
         c.confrelid::int8 as to_oid, tn.nspname::text as to_schema, t.relname::text as to_name,
         t.relkind::text as to_kind,
         array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
                 join pg_catalog.pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i) as to_columns
    from pg_catalog.pg_constraint c
    join pg_catalog.pg_class f on f.oid = c.conrelid
    join pg_catalog.pg_namespace fn on fn.oid = f.relnamespace
    join pg_catalog.pg_class t on t.oid = c.confrelid
    join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
   where c.contype = 'f' and c.conparentid = 0
     and (c.conrelid = any($1::oid[]) or c.confrelid = any($1::oid[]))
   order by fn.nspname, f.relname, c.conname`;

interface Row {
  name: string;
  match: string;
  from_oid: string;
  from_schema: string;
  from_name: string;
  from_kind: string;
  from_columns: string[];
  to_oid: string;
  to_schema: string;
  to_name: string;
  to_kind: string;
  to_columns: string[];
}

const kindOf = (relkind: string) => (relkind === 'p' ? 'partitioned' : 'table');

/** Every foreign key from or into these tables (both directions). */
export async function foreignKeysTouching(
  client: pg.Client,
  oids: readonly number[],
): Promise<TargetForeignKey[]> {
  if (oids.length === 0) return [];
  const { rows } = await client.query<Row>(FOREIGN_KEYS_SQL, [oids]);
  return rows.map((r) => ({
    name: r.name,
    match: r.match,
    from: {
      oid: Number(r.from_oid),
      schema: r.from_schema,
      name: r.from_name,
      kind: kindOf(r.from_kind),
      columns: r.from_columns,
    },
    to: {
      oid: Number(r.to_oid),
      schema: r.to_schema,
      name: r.to_name,
      kind: kindOf(r.to_kind),
      columns: r.to_columns,
    },
  }));
}

const from = (t: { schema: string; name: string; kind: string }, alias: string) =>
  `${t.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(t)} ${alias}`;

/**
 * The rows that break one foreign key: one NOT EXISTS query. MATCH SIMPLE: a key with a NULL column
 * references nothing and is fine; MATCH FULL: only an all-NULL key is.
 */
function violationSql(fk: TargetForeignKey, select: string, limit = ''): string {
  const c = fk.from.columns.map((col) => `c.${quoteIdent(col)}`);
  const join = fk.from.columns
    .map((col, i) => `p.${quoteIdent(fk.to.columns[i]!)} = c.${quoteIdent(col)}`)
    .join(' AND ');
  const present =
    fk.match === 'f'
      ? `NOT (${c.map((x) => `${x} IS NULL`).join(' AND ')})`
      : c.map((x) => `${x} IS NOT NULL`).join(' AND ');
  return `SELECT ${select} FROM ${from(fk.from, 'c')} WHERE ${present} AND NOT EXISTS (SELECT 1 FROM ${from(fk.to, 'p')} WHERE ${join})${limit}`;
}

export const foreignKeyLabel = (fk: TargetForeignKey) => `${displayName(fk.from)}.${fk.name}`;

/** Checks each foreign key (one query each); returns those violated, with a count and up to 3 keys. */
export async function checkForeignKeys(
  client: pg.Client,
  keys: readonly TargetForeignKey[],
  /** Run inside a transaction: each check in a savepoint, so one that fails leaves the others running. */
  inTransaction = false,
): Promise<ForeignKeyViolation[]> {
  const violations: ForeignKeyViolation[] = [];
  for (const fk of keys) {
    const base = {
      foreignKey: foreignKeyLabel(fk),
      table: `${displayName(fk.from)} (${fk.from.columns.join(', ')})`,
      references: `${displayName(fk.to)} (${fk.to.columns.join(', ')})`,
    };
    try {
      if (inTransaction) await client.query('SAVEPOINT supamigrate_fk');
      const counted = await client.query<{ n: string }>(violationSql(fk, 'count(*)::int8 AS n'));
      const count = Number(counted.rows[0]!.n);
      if (count === 0) continue;
      const key = `concat_ws(', ', ${fk.from.columns.map((col) => `coalesce(c.${quoteIdent(col)}::text, 'NULL')`).join(', ')})`;
      const examples = await client.query<{ k: string }>(
        violationSql(fk, `DISTINCT ${key} AS k`, ' ORDER BY 1 LIMIT 3'),
      );
      violations.push({ ...base, count, examples: examples.rows.map((r) => `(${r.k})`) });
    } catch (err) {
      if (inTransaction) await client.query('ROLLBACK TO SAVEPOINT supamigrate_fk');
      violations.push({ ...base, count: 0, examples: [], error: describeError(err) });
    }
  }
  return violations;
}

/** One line for a violation (the CLI's, and the library's notes). */
export function describeViolation(v: ForeignKeyViolation): string {
  if (v.error) return `${v.foreignKey}: could not be checked (${v.error})`;
  return `${v.foreignKey}: ${v.count} row(s) of ${v.table} reference no row of ${v.references}, e.g. ${v.examples.join(', ')}`;
}

/** Whether a table holds any row (null: cannot be read). */
export async function hasRows(
  client: pg.Client,
  t: { schema: string; name: string; kind: string },
): Promise<boolean | null> {
  return client.query(`SELECT 1 FROM ${from(t, 't')} LIMIT 1`).then(
    (r) => (r.rowCount ?? 0) > 0,
    () => null,
  );
}
