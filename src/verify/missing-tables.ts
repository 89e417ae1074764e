import type pg from 'pg';
import { readCatalog } from '../catalog/read-catalog.js';
import { isLargeTable, matches, parseTableName, schemasToRead } from '../catalog/select-tables.js';
import type { ExportManifest } from '../format/manifest.js';
import { displayName } from '../pg/sql.js';

/**
 * The source's tables that the export should hold, by its recorded choices (schemas, --table,
 * --exclude-table, --skip-large), and does not: created after the export, or left out by an edit of
 * metadata.json. Names as schema.name, sorted.
 */
export async function tablesMissingFromExport(
  source: pg.Client,
  manifest: ExportManifest,
): Promise<string[]> {
  const o = manifest.options;
  const schemas = o.schemas ?? ['public'];
  const named = (o.tables ?? []).map(parseTableName);
  const catalog = await readCatalog(source, schemasToRead(schemas, o.tables ?? []));
  const inSelection = (t: { schema: string; name: string }) =>
    (named.length === 0
      ? schemas.includes(t.schema)
      : named.some((p) => matches(t, p) && (p.schema !== undefined || schemas.includes(t.schema)))) &&
    !(o.excludeTables ?? []).some((arg) => matches(t, parseTableName(arg))) &&
    !(o.skipLarge && isLargeTable(t, o.largeTables ?? []));
  const exported = new Set(manifest.tables.map((t) => JSON.stringify([t.schema, t.name])));
  return catalog
    .filter((t) => inSelection(t) && !exported.has(JSON.stringify([t.schema, t.name])))
    .map(displayName)
    .sort();
}
