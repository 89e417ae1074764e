import type pg from 'pg';
import { displayName } from '../pg/sql.js';
import { foreignKeysTouching, hasRows } from './foreign-keys.js';
import type { TablePlan } from './preflight.js';

const KEYED_SQL = /* SQL */ `
  select c.oid::int8 as oid,
         exists (select 1 from pg_catalog.pg_index i
                  where i.indrelid = c.oid and (i.indisunique or i.indisexclusion) and i.indisvalid
                    -- a partial key, or one over an expression or a column that may be NULL, lets a second
                    -- copy of a row in: it tells no row exists
                    and i.indpred is null and i.indexprs is null
                    and not exists (select 1 from pg_catalog.pg_attribute a
                                     where a.attrelid = c.oid and a.attnum = any (i.indkey) and not a.attnotnull)) as keyed
    from pg_catalog.pg_class c where c.oid = any($1::oid[])`;

/**
 * Tables with a primary key, or a unique key or exclusion constraint over NOT NULL columns and without a
 * WHERE: ON CONFLICT DO NOTHING tells there whether a row exists.
 */
export async function keyedTables(client: pg.Client, tables: readonly TablePlan[]): Promise<Set<number>> {
  const { rows } = await client.query<{ oid: string; keyed: boolean }>(KEYED_SQL, [
    tables.map((t) => t.target.oid),
  ]);
  return new Set(rows.filter((r) => r.keyed).map((r) => Number(r.oid)));
}

/**
 * What the target's foreign keys mean for this import, checked before anything is written:
 * - with --truncate, a table that is not imported but references an imported one makes TRUNCATE fail
 *   (PostgreSQL refuses it even when that table is empty): a problem;
 * - a foreign key of an imported table into a table that is neither imported nor holds rows will be
 *   violated by every non-NULL reference: a note (the check after the load reports it as a failure).
 */
export async function referenceChecks(
  client: pg.Client,
  tables: readonly TablePlan[],
  options: { truncate: boolean; imported: readonly { schema: string; name: string }[] },
): Promise<{ problems: string[]; notes: string[] }> {
  const problems: string[] = [];
  const notes: string[] = [];
  const oids = new Set(tables.map((t) => t.target.oid));
  const imported = new Set(options.imported.map((t) => `${t.schema}\u0000${t.name}`));
  const keys = await foreignKeysTouching(client, [...oids]);
  if (options.truncate) {
    for (const fk of keys.filter((k) => !oids.has(k.from.oid) && oids.has(k.to.oid))) {
      problems.push(
        `--truncate: ${displayName(fk.from)} is not imported but references ${displayName(fk.to)} (foreign key ${fk.name}), so PostgreSQL refuses to truncate it; import ${displayName(fk.from)} too, or leave ${displayName(fk.to)} out (--exclude-table)`,
      );
    }
  }
  const empty = new Map<number, boolean | null>();
  for (const fk of keys.filter((k) => oids.has(k.from.oid) && !oids.has(k.to.oid))) {
    if (imported.has(`${fk.to.schema}\u0000${fk.to.name}`)) continue;
    const child = tables.find((t) => t.target.oid === fk.from.oid)!;
    if (child.entry.rowCount === 0) continue;
    if (!empty.has(fk.to.oid)) empty.set(fk.to.oid, await hasRows(client, fk.to).then((r) => r === false));
    if (empty.get(fk.to.oid)) {
      notes.push(
        `${displayName(fk.from)}: foreign key ${fk.name} references ${displayName(fk.to)}, which is not imported and is empty in the target: its non-NULL references will be unresolved (the import then fails its foreign-key check)`,
      );
    }
  }
  return { problems, notes };
}
