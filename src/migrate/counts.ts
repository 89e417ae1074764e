import { countQuery } from '../codec/row-sql.js';
import { readManifest } from '../format/manifest.js';
import { connect } from '../pg/connect.js';
import { displayName } from '../pg/sql.js';

export interface CountCheck {
  schema: string;
  name: string;
  /**
   * The rows the export read (metadata.json), which the import checked it loaded; for a table copied
   * directly, the rows its copy counted (null when an earlier run copied it).
   */
  exported: number | null;
  source: number;
  target: number;
  match: boolean;
}

export interface CountsResult {
  ok: boolean;
  tables: CountCheck[];
  problems: string[];
}

/**
 * `--verify counts`: each table's exact row count on the source and the target against the rows the
 * export read. Cheaper than checksums (one count per table and side), and blind to changed values.
 */
export async function verifyCounts(
  dir: string,
  dbUrl: string,
  targetUrl: string,
  ioTimeout: number,
  onTable: (check: CountCheck) => void,
  /** Rows of the tables copied directly, as their copy counted them (by `schema.name`), when known. */
  copied: ReadonlyMap<string, number> = new Map(),
): Promise<CountsResult> {
  const manifest = await readManifest(dir);
  const source = await connect(dbUrl, { role: 'source', ioTimeout });
  try {
    const target = await connect(targetUrl, { role: 'target', ioTimeout });
    try {
      await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await target.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const tables: CountCheck[] = [];
      for (const t of manifest.tables) {
        const count = async (client: typeof source) =>
          Number((await client.query<{ n: string }>(countQuery(t))).rows[0]!.n);
        const [s, g] = [await count(source), await count(target)];
        const exported = t.method === 'direct' ? (copied.get(displayName(t)) ?? null) : t.rowCount;
        const check = {
          schema: t.schema,
          name: t.name,
          exported,
          source: s,
          target: g,
          match: s === g && (exported === null || g === exported),
        };
        tables.push(check);
        onTable(check);
      }
      const direct = new Set(manifest.tables.filter((t) => t.method === 'direct').map(displayName));
      const problems = tables
        .filter((c) => !c.match)
        .map(
          (c) =>
            `${displayName(c)}: ${c.source} rows in the source, ${c.exported ?? '?'} ${direct.has(displayName(c)) ? 'copied in the snapshot' : 'exported'}, ${c.target} in the target`,
        );
      return { ok: problems.length === 0, tables, problems };
    } finally {
      await target.end().catch(() => undefined);
    }
  } finally {
    await source.end().catch(() => undefined);
  }
}
