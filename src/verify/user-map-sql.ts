import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { EncodedColumn } from '../codec/encode-column.js';
import type { ValueSql } from '../codec/row-sql.js';
import { copyEscape } from '../codec/copy-text.js';
import type { UserColumn } from '../format/user-columns.js';
import { quoteIdent } from '../pg/sql.js';
import type { UserMap } from '../format/user-map.js';

const MAP_TABLE = 'pg_temp.supamigrate_user_map';
/** An id as compared: a uuid in any case is one id (a uuid column prints it lowercase), other ids exactly. */
const ID_KEY = 'pg_temp.supamigrate_id_key';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const idKey = (id: string) => (UUID.test(id) ? id.toLowerCase() : id);

/**
 * Loads a user map, new id → old id, into a temporary table of the target connection, so that the target's
 * user columns can be read back as the old ids and hash like the source's rows.
 */
export async function loadReverseUserMap(client: pg.Client, map: UserMap): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${MAP_TABLE}`);
  await client.query(/* SQL */ `
    CREATE TEMP TABLE supamigrate_user_map (new_key text PRIMARY KEY, old_id text NOT NULL, old_key text NOT NULL UNIQUE);
    CREATE OR REPLACE FUNCTION ${ID_KEY}(id text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE WHEN id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN lower(id) ELSE id END
    $$`);
  const lines = map.mappings.map(
    (m) => `${copyEscape(idKey(m.newId))}\t${copyEscape(m.oldId)}\t${copyEscape(idKey(m.oldId))}\n`,
  );
  await pipeline(
    Readable.from([lines.join('')]),
    client.query(copyStreams.from(`COPY ${MAP_TABLE} (new_key, old_id, old_key) FROM STDIN`)),
  );
}

/**
 * For the user columns of one table: SQL that reads the target's value mapped back to the old id. An id
 * the map does not know stays as it is (kept, unmatched, by the import); an OLD id of a user the map has a
 * new id for was not rewritten, and reads as a value no source row has, so the row differs.
 */
export function reverseMappedValues(
  table: { schema: string; name: string },
  userColumns: readonly UserColumn[],
): ValueSql {
  const mine = new Set(
    userColumns.filter((c) => c.schema === table.schema && c.table === table.name).map((c) => c.column),
  );
  const back = (value: string) => `coalesce(
      (SELECT m.old_id FROM ${MAP_TABLE} m WHERE m.new_key = ${ID_KEY}(${value})),
      (SELECT 'not rewritten: ' || m.old_id FROM ${MAP_TABLE} m WHERE m.old_key = ${ID_KEY}(${value})),
      ${value})`;
  return (column: EncodedColumn) => {
    if (!mine.has(column.name)) return undefined;
    const v = `t.${quoteIdent(column.name)}`;
    if (column.encoding === 'array') {
      return `CASE WHEN ${v} IS NULL THEN NULL ELSE ARRAY(SELECT ${back('u.e::text')} FROM unnest(${v}) WITH ORDINALITY u(e, i) ORDER BY u.i) END`;
    }
    return back(`${v}::text`);
  };
}
