import { join } from 'node:path';
import { recordedSchemasNote } from '../catalog/app-schemas.js';
import type pg from 'pg';
import { selectEntries } from '../format/select-entries.js';

import { checkExportFiles } from '../format/file-integrity.js';
import { MANIFEST_FILE, readManifest, tableFiles, type ManifestTable } from '../format/manifest.js';
import { integrityNote } from '../format/manifest-digest.js';
import { connect } from '../pg/connect.js';
import { displayName } from '../pg/sql.js';
import type { UserMap } from '../format/user-map.js';
import type { NumberOption } from '../settings.js';
import { checkVerifyOptions } from './settings.js';
import { readCatalog } from '../catalog/read-catalog.js';
import { tablesMissingFromExport } from './missing-tables.js';
import { verifyTable, type Side, type TableVerification } from './verify-table.js';
import { loadReverseUserMap, reverseMappedValues } from './user-map-sql.js';
import { chooseUserMap, userMapHints } from './user-map-choice.js';

export type { Side, TableVerification };

export interface VerifyOptions {
  inputDir: string;
  /** The source database; compared when given. */
  dbUrl?: string;
  /** The target database; compared when given. */
  targetUrl?: string;
  /** The map the import used: the target's user columns are compared after mapping back. */
  userMap?: UserMap;
  userColumns?: string[];
  tables?: string[];
  /**
   * Seconds a query or COPY in flight may go without a byte in or out before its connection is closed and
   * the work fails as a transient error (verify stops with it). 0: never. Default 300.
   */
  ioTimeout?: NumberOption;
  onEvent?: (event: VerifyEvent) => void;
}

export type VerifyEvent = { type: 'table'; table: TableVerification };

export interface VerifyResult {
  tables: TableVerification[];
  sides: Side[];
  ok: boolean;
  /** Problems with files outside the tables (auth users). */
  fileProblems: string[];
  /**
   * Tables of the source that the export's choices select but metadata.json has no entry for (checked
   * with a source, when verify is not limited to some tables): each is a problem.
   */
  missingFromExport: string[];
  /** What the reader should know: e.g. a manifest without an integrity record. */
  notes: string[];
}

/**
 * Proves that the source database, the export files and the target database hold the same data: for
 * every table, the row count and an order-independent content checksum are computed on each side given,
 * over the export's canonical row text (in SQL on databases, row by row on files), and compared. Files
 * are also checked against their bytes and sha256 in metadata.json. For a table that differs, up to 10
 * example rows are found by comparing per-row hashes keyed by primary key.
 */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const { ioTimeout } = checkVerifyOptions(options);
  const manifest = await readManifest(options.inputDir);
  const note = integrityNote(manifest, join(options.inputDir, MANIFEST_FILE));
  const selected = selectEntries(manifest.tables, options.tables ?? []);
  const sides: Side[] = [
    ...(options.dbUrl ? (['source'] as const) : []),
    'files',
    ...(options.targetUrl ? (['target'] as const) : []),
  ];

  const clients: pg.Client[] = [];
  const open = async (url: string, role: 'source' | 'target', begin: string) => {
    const client = await connect(url, { role, ioTimeout });
    clients.push(client);
    await client.query(begin);
    return client;
  };
  try {
    const source = options.dbUrl
      ? await open(options.dbUrl, 'source', 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      : null;
    let target: pg.Client | null = null;
    if (options.targetUrl) {
      target = await connect(options.targetUrl, { role: 'target', ioTimeout });
      clients.push(target);
      // reg* values are printed relative to the search_path: the target's as the source's (and the export's).
      if (source) await sameSearchPath(source, target);
    }
    const choice = await chooseUserMap(target, manifest, selected, options);
    const { userMap, userColumns, notes } = choice;
    if (target) {
      if (userMap) await loadReverseUserMap(target, userMap);
      await target.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    }
    // The target's column types: a widened column is read back into the export's form.
    const targetCatalog = target
      ? await readCatalog(target, [...new Set(selected.map((t) => t.schema))])
      : null;
    // Examples from a file need a connection of their own that may create a temporary table (the file's
    // rows are sorted there while the other side's cursor is open on its connection).
    const scratchUrl = options.targetUrl ?? options.dbUrl;
    const scratch = scratchUrl
      ? await open(scratchUrl, options.targetUrl ? 'target' : 'source', 'BEGIN')
      : null;
    if (scratch && source) await sameSearchPath(source, scratch);

    // Every file of every table against its bytes and sha256 in metadata.json, by table.
    const fileChecks = new Map<ManifestTable, string[]>();
    for (const table of selected.filter((t) => t.state === 'complete')) {
      const problems = await checkExportFiles(
        options.inputDir,
        tableFiles(table).map((f) => ({ label: displayName(table), ...f })),
      );
      if (problems.length > 0) fileChecks.set(table, problems);
    }
    const fileProblems = manifest.authUsers
      ? await checkExportFiles(options.inputDir, [
          { label: 'auth.users', ...manifest.authUsers },
          ...(manifest.authIdentities ? [{ label: 'auth.identities', ...manifest.authIdentities }] : []),
        ])
      : [];

    const missingFromExport =
      source && !options.tables?.length ? await tablesMissingFromExport(source, manifest) : [];

    const results: TableVerification[] = [];
    for (const table of selected) {
      // Direct (migrate): never written to a file; the source is compared with the target.
      if (table.state !== 'complete' && table.method !== 'direct') {
        const incomplete: TableVerification = {
          schema: table.schema,
          name: table.name,
          status: 'error',
          expectedRows: table.rowCount,
          sides: {},
          notes: [],
          problems: [`not exported completely (${table.state}${table.error ? `: ${table.error}` : ''})`],
          examples: [],
        };
        results.push(incomplete);
        options.onEvent?.({ type: 'table', table: incomplete });
        continue;
      }
      const result = await verifyTable(table, {
        dir: options.inputDir,
        format: manifest.format,
        source,
        target,
        scratch,
        targetTable: targetCatalog
          ? (targetCatalog.find((t) => t.schema === table.schema && t.name === table.name) ?? null)
          : undefined,
        userValues: userMap ? reverseMappedValues(table, userColumns) : undefined,
        fileProblems: fileChecks.get(table) ?? [],
      });
      results.push(result);
      options.onEvent?.({ type: 'table', table: result });
    }
    return {
      tables: results,
      sides,
      ok:
        results.every((r) => r.status === 'match') &&
        fileProblems.length === 0 &&
        missingFromExport.length === 0,
      fileProblems,
      missingFromExport,
      notes: [
        recordedSchemasNote(manifest.options.schemas, manifest.notes),
        ...(note ? [note] : []),
        ...notes,
        ...(target ? await userMapHints(results, selected, manifest, options.inputDir, choice) : []),
      ],
    };
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
  }
}

/** Sets `to`'s search_path to `from`'s, for the whole session. */
async function sameSearchPath(from: pg.Client, to: pg.Client): Promise<void> {
  const { path } = (
    await from.query<{ path: string }>(`select pg_catalog.current_setting('search_path') as path`)
  ).rows[0]!;
  await to.query(`select pg_catalog.set_config('search_path', $1, false)`, [path]);
}
