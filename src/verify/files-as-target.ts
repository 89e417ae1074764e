import { readExportFile } from '../format/compression.js';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { ChecksumTable } from '../codec/checksum.js';
import type { EncodedColumn } from '../codec/encode-column.js';
import { tableFiles } from '../format/manifest.js';
import { exportPath } from '../format/export-path.js';
import { JsonToCopyText } from '../format/json-to-copy.js';
import { quoteIdent } from '../pg/sql.js';

const TEMP = 'supamigrate_files_as_target';

/**
 * Loads a table's export files into a temporary table of the target connection, with the target's column
 * types, so that their rows can be hashed in the target's form: for widenings whose source text cannot be
 * recovered from the target (json → jsonb), the files are compared with the target as the target holds
 * them. Returns the temporary table, to hash (and list example rows of) like any table; `drop` removes it.
 */
export async function loadFilesAsTarget(
  client: pg.Client,
  dir: string,
  table: { columns: readonly EncodedColumn[]; primaryKey: string[] } & Parameters<typeof tableFiles>[0],
  format: 'json' | 'ndjson',
  types: readonly { name: string; type: string }[],
): Promise<{ table: ChecksumTable; drop: () => Promise<void> }> {
  const temp = `pg_temp.${quoteIdent(TEMP)}`;
  await client.query(`DROP TABLE IF EXISTS ${temp}`);
  const columns = types.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  await client.query(`CREATE TEMP TABLE ${quoteIdent(TEMP)} (${columns})`);
  const loaded = table.columns.filter((c) => types.some((t) => t.name === c.name));
  const list = loaded.map((c) => quoteIdent(c.name)).join(', ');
  for (const file of tableFiles(table)) {
    const decoder = new JsonToCopyText(
      table.columns.map((column) => ({ column, load: loaded.includes(column) })),
      format,
    );
    await pipeline(
      readExportFile(exportPath(dir, file.file)),
      decoder,
      client.query(copyStreams.from(`COPY ${temp} (${list}) FROM STDIN`)),
    );
  }
  return {
    table: { schema: 'pg_temp', name: TEMP, kind: 'table', primaryKey: table.primaryKey, columns: loaded },
    drop: async () => {
      await client.query(`DROP TABLE IF EXISTS ${temp}`);
    },
  };
}
