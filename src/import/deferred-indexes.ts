import type pg from 'pg';
import { describeError } from '../errors.js';
import { qualifiedName, quoteIdent } from '../pg/sql.js';
import { PROGRESS_SCHEMA, type Progress } from './progress.js';

/*
 * Indexes built after the data, as pg_restore and pgcopydb do: loading into a table without its indexes
 * and building each once afterwards is much faster than maintaining them row by row. Before a table that
 * is empty in the target is loaded, its primary key, unique and exclusion constraints and its other
 * indexes are recorded in the target (DEFERRED_TABLE) and dropped, in one transaction; once all its files
 * are committed they are created again from the recorded definitions and the records removed, in one
 * transaction. A run that dies in between leaves the records: the next run (`--resume`, or any import)
 * creates them again, so a crash never leaves a table without its indexes unnoticed.
 *
 * Only what can be put back exactly is set aside: nothing of a table whose key another table's foreign key
 * references (the foreign key depends on it), of partitions and partitioned or inherited tables, of
 * tables with a clustered, replica-identity or tablespace-placed index, or of an import that needs the
 * keys while loading (--on-conflict skip).
 */

export const DEFERRED_TABLE = `${PROGRESS_SCHEMA}.deferred_indexes`;

export const CREATE_DEFERRED_SQL = /* SQL */ `
  CREATE TABLE IF NOT EXISTS ${DEFERRED_TABLE} (
    schema text NOT NULL,
    "table" text NOT NULL,
    name text NOT NULL,
    position int NOT NULL,
    kind text NOT NULL CHECK (kind IN ('constraint', 'index')),
    definition text NOT NULL,
    comment text,
    PRIMARY KEY (schema, "table", name)
  )`;

/** A constraint or index of a table, as it is dropped and created again. */
interface Definition {
  name: string;
  kind: 'constraint' | 'index';
  /** `PRIMARY KEY (id)` for a constraint (ALTER TABLE … ADD CONSTRAINT name …); CREATE INDEX … for an index. */
  definition: string;
  comment: string | null;
}

/* Constraints first (their indexes are theirs), then the indexes no constraint owns; none if the table
   has anything that would not come back the same. */
const DEFINITIONS_SQL = /* SQL */ `
  with t as (
    select c.oid from pg_catalog.pg_class c
     where c.oid = $1::regclass and c.relkind = 'r' and not c.relispartition
       and not exists (select 1 from pg_catalog.pg_inherits i where i.inhrelid = c.oid or i.inhparent = c.oid)
       and not exists (select 1 from pg_catalog.pg_index x join pg_catalog.pg_class ic on ic.oid = x.indexrelid
                        where x.indrelid = c.oid
                          and (x.indisclustered or x.indisreplident or ic.reltablespace <> 0 or not x.indisvalid))
       and not exists (select 1 from pg_catalog.pg_constraint f
                        where f.contype = 'f' and f.confrelid = c.oid)
  )
  select k.conname::text as name, 'constraint' as kind, pg_catalog.pg_get_constraintdef(k.oid) as definition,
         pg_catalog.obj_description(k.oid, 'pg_constraint') as comment, 0 as sort
    from pg_catalog.pg_constraint k join t on k.conrelid = t.oid
   where k.contype in ('p', 'u', 'x')
  union all
  select ic.relname::text, 'index', pg_catalog.pg_get_indexdef(x.indexrelid),
         pg_catalog.obj_description(x.indexrelid, 'pg_class'), 1
    from pg_catalog.pg_index x join t on x.indrelid = t.oid
    join pg_catalog.pg_class ic on ic.oid = x.indexrelid
   where not exists (select 1 from pg_catalog.pg_constraint k where k.conindid = x.indexrelid and k.conrelid = t.oid)
   order by sort, name`;

/** Whether this run may set indexes aside: it keeps progress in the target and loads without ON CONFLICT. */
export const canDefer = (progress: Progress, onConflict: 'error' | 'skip') =>
  progress.available && onConflict === 'error';

/**
 * Records and drops the constraints and indexes of an empty target table, in one transaction. Returns how
 * many were set aside (0: the table keeps them all while loading).
 */
export async function deferIndexes(
  client: pg.Client,
  table: { schema: string; name: string },
): Promise<number> {
  const name = qualifiedName(table);
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<Definition>(DEFINITIONS_SQL, [name]);
    for (const [position, d] of rows.entries()) {
      await client.query(
        `INSERT INTO ${DEFERRED_TABLE} (schema, "table", name, position, kind, definition, comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [table.schema, table.name, d.name, position, d.kind, d.definition, d.comment],
      );
      await client.query(
        d.kind === 'constraint'
          ? `ALTER TABLE ${name} DROP CONSTRAINT ${quoteIdent(d.name)}`
          : `DROP INDEX ${qualifiedName({ schema: table.schema, name: d.name })}`,
      );
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Records and drops foreign keys closing a cycle (a role that may not set session_replication_role loads
 * with foreign keys checked), in one transaction; they are added back with the table's other set-aside
 * definitions after the load. Their definitions are read with an empty search_path, so the referenced
 * table is named with its schema whatever the path of the run that adds them back.
 */
export async function deferForeignKeys(
  client: pg.Client,
  keys: readonly { table: { schema: string; name: string }; name: string }[],
): Promise<void> {
  if (keys.length === 0) return;
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_catalog.set_config('search_path', '', true)`);
    for (const { table, name } of keys) {
      const { rows } = await client.query<{ definition: string; comment: string | null }>(
        `SELECT pg_catalog.pg_get_constraintdef(k.oid) AS definition,
                pg_catalog.obj_description(k.oid, 'pg_constraint') AS comment
           FROM pg_catalog.pg_constraint k WHERE k.conrelid = $1::regclass AND k.conname = $2 AND k.contype = 'f'`,
        [qualifiedName(table), name],
      );
      if (rows.length === 0) continue;
      await client.query(
        `INSERT INTO ${DEFERRED_TABLE} (schema, "table", name, position, kind, definition, comment)
         SELECT $1, $2, $3, coalesce(max(position) + 1, 0), 'constraint', $4, $5
           FROM ${DEFERRED_TABLE} WHERE schema = $1 AND "table" = $2`,
        [table.schema, table.name, name, rows[0]!.definition, rows[0]!.comment],
      );
      await client.query(`ALTER TABLE ${qualifiedName(table)} DROP CONSTRAINT ${quoteIdent(name)}`);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Creates again what was set aside for `table` (by this run or one that died), and forgets the records,
 * in one transaction. Returns the names created; throws with the one that failed (the records are kept).
 */
export async function rebuildIndexes(
  client: pg.Client,
  table: { schema: string; name: string },
): Promise<string[]> {
  const name = qualifiedName(table);
  await client.query('BEGIN');
  let current = '';
  try {
    const { rows } = await client.query<Definition>(
      `SELECT name, kind, definition, comment FROM ${DEFERRED_TABLE}
        WHERE schema = $1 AND "table" = $2 ORDER BY position`,
      [table.schema, table.name],
    );
    for (const d of rows) {
      current = d.name;
      if (d.kind === 'constraint') {
        await client.query(`ALTER TABLE ${name} ADD CONSTRAINT ${quoteIdent(d.name)} ${d.definition}`);
        if (d.comment !== null) {
          await client.query(
            `COMMENT ON CONSTRAINT ${quoteIdent(d.name)} ON ${name} IS ${client.escapeLiteral(d.comment)}`,
          );
        }
      } else {
        await client.query(d.definition);
        if (d.comment !== null) {
          const index = qualifiedName({ schema: table.schema, name: d.name });
          await client.query(`COMMENT ON INDEX ${index} IS ${client.escapeLiteral(d.comment)}`);
        }
      }
    }
    await client.query(`DELETE FROM ${DEFERRED_TABLE} WHERE schema = $1 AND "table" = $2`, [
      table.schema,
      table.name,
    ]);
    await client.query('COMMIT');
    return rows.map((r) => r.name);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(
      `its ${current ? `index or constraint ${current}` : 'indexes'} could not be created again after loading the rows (${describeError(err)}); the definitions are kept in ${DEFERRED_TABLE} in the target, and the next import (--resume) creates them`,
      { cause: err },
    );
  }
}

/** Tables with definitions set aside by any run, not yet created again. */
export async function tablesWithDeferred(
  client: pg.Client,
  progress: Progress,
): Promise<{ schema: string; name: string; count: number }[]> {
  if (!progress.available) return [];
  const { rows } = await client
    .query<{ schema: string; name: string; count: number }>(
      `SELECT schema, "table" AS name, count(*)::int AS count FROM ${DEFERRED_TABLE} GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    .catch((err: unknown) => {
      if ((err as { code?: string }).code === '42P01') return { rows: [] };
      throw err;
    });
  return rows;
}
