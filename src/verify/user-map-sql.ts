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

/**
 * Loads a user map, new id → old id, into a temporary table of the target connection, so that the target's
 * user columns can be read back as the old ids and hash like the source's rows.
 */
export async function loadReverseUserMap(client: pg.Client, map: UserMap): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${MAP_TABLE}`);
  await client.query(
    `CREATE TEMP TABLE supamigrate_user_map (new_id text PRIMARY KEY, old_id text NOT NULL)`,
  );
  const lines = map.mappings.map((m) => `${copyEscape(m.newId)}\t${copyEscape(m.oldId)}\n`);
  await pipeline(
    Readable.from([lines.join('')]),
    client.query(copyStreams.from(`COPY ${MAP_TABLE} (new_id, old_id) FROM STDIN`)),
  );
}

/**
 * For the user columns of one table: SQL that reads the target's value mapped back to the old id (ids the
 * map does not know stay as they are: they were kept, unmatched, by the import).
 */
export function reverseMappedValues(
  table: { schema: string; name: string },
  userColumns: readonly UserColumn[],
): ValueSql {
  const mine = new Set(
    userColumns.filter((c) => c.schema === table.schema && c.table === table.name).map((c) => c.column),
  );
  return (column: EncodedColumn) => {
    if (!mine.has(column.name)) return undefined;
    const v = `t.${quoteIdent(column.name)}`;
    if (column.encoding === 'array') {
      return `CASE WHEN ${v} IS NULL THEN NULL ELSE ARRAY(SELECT coalesce(m.old_id, u.e::text) FROM unnest(${v}) WITH ORDINALITY u(e, i) LEFT JOIN ${MAP_TABLE} m ON m.new_id = u.e::text ORDER BY u.i) END`;
    }
    return `coalesce((SELECT m.old_id FROM ${MAP_TABLE} m WHERE m.new_id = ${v}::text), ${v}::text)`;
  };
}
