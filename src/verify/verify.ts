import type pg from 'pg';
import { matches, parseTableName } from '../catalog/select-tables.js';
import { describeError, UsageError } from '../errors.js';

import { checkExportFiles } from '../format/file-integrity.js';
import { readManifest, tableFiles, type ManifestTable } from '../format/manifest.js';
import type { ValueSql } from '../codec/row-sql.js';
import { findUserColumns, type UserColumn } from '../format/user-columns.js';
import { connect } from '../pg/connect.js';
import { displayName } from '../pg/sql.js';
import type { UserMap } from '../format/user-map.js';
import { databaseChecksum, type Checksum } from '../codec/checksum.js';
import { fileChecksum } from '../format/file-checksum.js';
import { databaseKeyed, differingRows, fileKeyed, type DifferingRow } from './differences.js';
import { loadReverseUserMap, reverseMappedValues } from './user-map-sql.js';

export type Side = 'source' | 'files' | 'target';

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
  onEvent?: (event: VerifyEvent) => void;
}

export interface TableVerification {
  schema: string;
  name: string;
  status: 'match' | 'mismatch' | 'error';
  /** The rows metadata.json says the file holds. */
  expectedRows: number;
  sides: Partial<Record<Side, Checksum>>;
  /** Why it does not match, one line each: "source and target differ", "file changed since export". */
  problems: string[];
  /** Up to 10 rows that differ, by primary key (or row hash for tables without one). */
  examples: (DifferingRow & { between: string })[];
}

export type VerifyEvent = { type: 'table'; table: TableVerification };

export interface VerifyResult {
  tables: TableVerification[];
  sides: Side[];
  ok: boolean;
  /** Problems with files outside the tables (auth users). */
  fileProblems: string[];
}

/**
 * Proves that the source database, the export files and the target database hold the same data: for
 * every table, the row count and an order-independent content checksum are computed on each side given,
 * over the export's canonical row text (in SQL on databases, row by row on files), and compared. Files
 * are also checked against their bytes and sha256 in metadata.json. For a table that differs, up to 10
 * example rows are found by comparing per-row hashes keyed by primary key.
 */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const manifest = await readManifest(options.inputDir);
  const selected = selectTables(manifest.tables, options.tables ?? []);
  const userColumns: UserColumn[] = options.userMap
    ? findUserColumns(selected, options.userColumns ?? [])
    : [];
  const sides: Side[] = [
    ...(options.dbUrl ? (['source'] as const) : []),
    'files',
    ...(options.targetUrl ? (['target'] as const) : []),
  ];

  const clients: pg.Client[] = [];
  const open = async (url: string, role: 'source' | 'target', begin: string) => {
    const client = await connect(url, { role });
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
      target = await connect(options.targetUrl, { role: 'target' });
      clients.push(target);
      if (options.userMap) await loadReverseUserMap(target, options.userMap);
      await target.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    }
    // Examples from a file need a connection of their own that may create a temporary table (the file's
    // rows are sorted there while the other side's cursor is open on its connection).
    const scratchUrl = options.targetUrl ?? options.dbUrl;
    const scratch = scratchUrl
      ? await open(scratchUrl, options.targetUrl ? 'target' : 'source', 'BEGIN')
      : null;

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

    const results: TableVerification[] = [];
    for (const table of selected) {
      if (table.state !== 'complete') {
        const incomplete: TableVerification = {
          schema: table.schema,
          name: table.name,
          status: 'error',
          expectedRows: table.rowCount,
          sides: {},
          problems: [`not exported completely (${table.state}${table.error ? `: ${table.error}` : ''})`],
          examples: [],
        };
        results.push(incomplete);
        options.onEvent?.({ type: 'table', table: incomplete });
        continue;
      }
      const mapped: ValueSql | undefined = options.userMap
        ? reverseMappedValues(table, userColumns)
        : undefined;
      const result = await verifyTable(table, {
        dir: options.inputDir,
        format: manifest.format,
        source,
        target,
        scratch,
        mapped,
        fileProblems: fileChecks.get(table) ?? [],
      });
      results.push(result);
      options.onEvent?.({ type: 'table', table: result });
    }
    return {
      tables: results,
      sides,
      ok: results.every((r) => r.status === 'match') && fileProblems.length === 0,
      fileProblems,
    };
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
  }
}

interface TableContext {
  dir: string;
  format: 'json' | 'ndjson';
  source: pg.Client | null;
  target: pg.Client | null;
  scratch: pg.Client | null;
  mapped: ValueSql | undefined;
  fileProblems: string[];
}

async function verifyTable(table: ManifestTable, ctx: TableContext): Promise<TableVerification> {
  const result: TableVerification = {
    schema: table.schema,
    name: table.name,
    status: 'match',
    expectedRows: table.rowCount,
    sides: {},
    problems: [],
    examples: [],
  };
  try {
    const [source, files, target] = await Promise.all([
      ctx.source ? databaseChecksum(ctx.source, table) : undefined,
      fileChecksum(ctx.dir, table, ctx.format),
      ctx.target ? databaseChecksum(ctx.target, table, ctx.mapped) : undefined,
    ]);
    if (source) result.sides.source = source;
    result.sides.files = files;
    if (target) result.sides.target = target;
  } catch (err) {
    return { ...result, status: 'error', problems: [describeError(err)] };
  }
  const { source, files, target } = result.sides;
  result.problems.push(...ctx.fileProblems);
  if (files!.rows !== table.rowCount)
    result.problems.push(`the file holds ${files!.rows} rows, metadata.json says ${table.rowCount}`);
  const differ = (a?: Checksum, b?: Checksum) => a && b && (a.rows !== b.rows || a.hash !== b.hash);
  const pairs: [Side, Side][] = [];
  if (differ(source, files)) pairs.push(['source', 'files']);
  if (differ(files, target)) pairs.push(['files', 'target']);
  if (differ(source, target) && !pairs.length) pairs.push(['source', 'target']);
  for (const [a, b] of pairs) {
    const [ca, cb] = [result.sides[a]!, result.sides[b]!];
    result.problems.push(
      ca.rows !== cb.rows
        ? `${a} has ${ca.rows} rows, ${b} has ${cb.rows}`
        : `${a} and ${b} hold different data (${ca.rows} rows each)`,
    );
  }
  if (result.problems.length > 0) result.status = 'mismatch';
  // Examples for the first pair that differs, at most 10.
  const pair = pairs[0];
  if (pair && ctx.scratch) {
    const keyed = (side: Side) =>
      side === 'source'
        ? databaseKeyed(ctx.source!, table)
        : side === 'target'
          ? databaseKeyed(ctx.target!, table, ctx.mapped)
          : fileKeyed(ctx.scratch!, ctx.dir, table, ctx.format);
    // A savepoint on each connection, so a failure here leaves the next tables' transactions usable.
    const involved = [
      ...new Set([ctx.source, ctx.target, ctx.scratch].filter((c): c is pg.Client => c !== null)),
    ];
    for (const c of involved) await c.query('SAVEPOINT supamigrate_examples');
    try {
      const rows = await differingRows(keyed(pair[0]), keyed(pair[1]), pair);
      result.examples = rows.map((r) => ({ ...r, between: `${pair[0]}/${pair[1]}` }));
      for (const c of involved) await c.query('RELEASE SAVEPOINT supamigrate_examples');
    } catch (err) {
      result.problems.push(`(could not list example rows: ${describeError(err)})`);
      for (const c of involved)
        await c.query('ROLLBACK TO SAVEPOINT supamigrate_examples').catch(() => undefined);
    }
  }
  return result;
}

function selectTables(all: ManifestTable[], names: string[]): ManifestTable[] {
  if (names.length === 0) return all;
  const problems: string[] = [];
  const chosen = names.flatMap((arg) => {
    const p = parseTableName(arg);
    const found = all.filter((t) => matches(t, p));
    if (found.length === 0) problems.push(`--table ${arg}: no such table in the export`);
    return found;
  });
  if (problems.length > 0) throw new UsageError(problems);
  return chosen;
}
