import { access, constants, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { dependencyOrder, type BrokenEdge } from '../catalog/dependency-order.js';
import { readCatalog, readSequenceState } from '../catalog/read-catalog.js';
import { OTHER_RELATIONS_SQL, SCHEMAS_SQL, SERVER_SQL } from '../catalog/catalog.sql.js';
import {
  DEFAULT_LARGE_TABLES,
  DEFAULT_STREAMING_THRESHOLD,
  isLargeTable,
  schemasToRead,
  selectTables,
} from '../catalog/select-tables.js';
import type { TableInfo } from '../catalog/types.js';
import { encodeTable, type EncodedTable } from '../codec/encode-column.js';
import { describeError, IntegrityError, InterruptedError, TableError, UsageError } from '../errors.js';
import { checkExportFiles } from '../format/file-integrity.js';
import { serialized } from '../format/serialized.js';
import { isTransient, redactUrl } from '../pg/connect.js';
import { openSharedSnapshot, type SharedSnapshot } from '../pg/snapshot.js';
import { displayName } from '../pg/sql.js';
import { AUTH_IDENTITIES_FILE, AUTH_USERS_FILE, authUsersTable } from './auth-tables.js';
import { VERSION } from '../version.js';
import { exportTable, type TableExportResult } from './export-table.js';
import { tableFileName } from '../format/file-names.js';
import { partFileName, rangeCondition, splitTable, type BlockRange } from './split.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT_VERSION,
  readManifest,
  writeManifest,
  type ExportManifest,
  type ExportMethod,
  type ManifestFile,
  type ManifestPart,
  type ManifestTable,
} from '../format/manifest.js';
import type { ExportFormat } from '../format/file-layout.js';
import { countQuery } from '../codec/row-sql.js';

export interface ExportOptions {
  dbUrl: string;
  outputDir: string;
  schemas?: string[];
  tables?: string[];
  excludeTables?: string[];
  skipLarge?: boolean;
  skipAuth?: boolean;
  largeTables?: string[];
  streamingThreshold?: number;
  format?: ExportFormat;
  /** Connections reading at once (tables, or ranges of large tables), all sharing one snapshot. */
  jobs?: number;
  /** Tables with at least this many rows are split into `jobs` ranges read in parallel. */
  splitRows?: number;
  dryRun?: boolean;
  /** Replace an export already in outputDir. */
  force?: boolean;
  /**
   * Finish an interrupted export in outputDir: complete tables (and parts) whose files still match their
   * sha256 are kept, the rest is exported again, with the original run's choices of tables and format.
   */
  resume?: boolean;
  /** Stops the export: unfinished files are removed, metadata.json says what is complete. */
  signal?: AbortSignal;
  /** Retry a table (or part) after a transient error, on a new connection in the same snapshot. */
  retries?: number;
  onEvent?: (event: ExportEvent) => void;
}

/** Tables with at least this many rows are read in parallel ranges (when --jobs allows). */
export const DEFAULT_SPLIT_ROWS = 250_000;

export interface PlannedTable {
  schema: string;
  name: string;
  rowCount: number;
  method: ExportMethod;
  /** Ranges read in parallel, each into its own file (absent: one file). */
  parts?: number;
  /** `reltuples`, what the planner believed; -1 when never analysed. */
  estimatedRows: number;
}

export type ExportEvent =
  | { type: 'plan'; tables: PlannedTable[]; brokenForeignKeys: BrokenEdge[]; snapshot: string | null }
  | { type: 'table-start'; schema: string; name: string; rowCount: number; method: ExportMethod }
  | { type: 'table-progress'; schema: string; name: string; rows: number; rowCount: number }
  | { type: 'table-done'; schema: string; name: string; result: TableExportResult }
  | { type: 'table-failed'; schema: string; name: string; error: string }
  | { type: 'note'; message: string };

export interface ExportResult {
  dryRun: boolean;
  outputDir: string;
  tables: PlannedTable[];
  brokenForeignKeys: BrokenEdge[];
  manifest: ExportManifest | null;
  failures: { table: string; error: string }[];
}

/** The seed's rule: a table streams when it has more rows than the threshold or is one of the large tables. */
export function exportMethod(
  table: { schema: string; name: string },
  rowCount: number,
  largeTables: readonly string[],
  threshold: number,
): ExportMethod {
  return rowCount > threshold || isLargeTable(table, largeTables) ? 'stream' : 'batch';
}

/**
 * Exports the selected tables of a database to one file each, in foreign-key order, plus the Supabase
 * auth users, and writes metadata.json. All reads happen in one shared snapshot. With `dryRun` it only
 * plans: it connects and counts, and writes nothing.
 *
 * ```ts
 * const result = await exportDatabase({ dbUrl: process.env.SUPABASE_DB_URL!, outputDir: './migration-data' });
 * if (result.failures.length > 0) process.exitCode = 1;
 * ```
 */
export async function exportDatabase(options: ExportOptions): Promise<ExportResult> {
  const emit = options.onEvent ?? (() => undefined);
  const previous = options.resume ? await previousExport(options.outputDir) : null;
  // A resumed export keeps the choices of the run it finishes.
  const chosen = previous
    ? { ...options, ...(previous.options as Partial<ExportOptions>), format: previous.format }
    : options;
  const schemas = chosen.schemas?.length ? chosen.schemas : ['public'];
  const largeTables = chosen.largeTables ?? [...DEFAULT_LARGE_TABLES];
  const threshold = chosen.streamingThreshold ?? DEFAULT_STREAMING_THRESHOLD;
  const format = chosen.format ?? 'json';
  const tableArgs = chosen.tables ?? [];
  options = {
    ...options,
    excludeTables: chosen.excludeTables,
    skipLarge: chosen.skipLarge,
    skipAuth: chosen.skipAuth,
  };

  if (!options.dryRun) await checkOutputDir(options.outputDir, (options.force ?? false) || Boolean(previous));
  const snapshot = await openSharedSnapshot(options.dbUrl);
  try {
    const { coordinator } = snapshot;
    const readSchemas = schemasToRead(schemas, tableArgs);
    const existing = new Set(
      (await coordinator.query<{ name: string }>(SCHEMAS_SQL, [readSchemas])).rows.map((r) => r.name),
    );
    const missing = readSchemas.filter((s) => !existing.has(s));
    if (missing.length > 0) {
      throw new UsageError(missing.map((s) => `schema "${s}" does not exist in the source database`));
    }
    const catalog = await readCatalog(coordinator, readSchemas);
    const others =
      tableArgs.length > 0 || (options.excludeTables?.length ?? 0) > 0
        ? (
            await coordinator.query<{ schema: string; name: string; what: string }>(OTHER_RELATIONS_SQL, [
              readSchemas,
            ])
          ).rows
        : [];
    const selected = selectTables(catalog, {
      others,
      schemas,
      tables: tableArgs,
      excludeTables: options.excludeTables ?? [],
      skipLarge: options.skipLarge ?? false,
      largeTables,
    });
    const { order, brokenEdges } = dependencyOrder(selected);

    const planned: PlannedExport[] = [];
    const jobs = Math.max(1, options.jobs ?? 1);
    for (const info of order.map(encodeTable)) {
      const kept = previous ? await keepable(options.outputDir, previous, info) : null;
      if (kept) {
        planned.push({
          schema: info.schema,
          name: info.name,
          rowCount: kept.rowCount,
          method: kept.method,
          estimatedRows: info.estimatedRows,
          ...(kept.parts ? { parts: kept.parts.length } : {}),
          info,
          ranges: kept.parts ? kept.parts.map((p) => p.blocks) : null,
          kept,
        });
        continue;
      }
      const rowCount = await exactCount(coordinator, info);
      const method = exportMethod(info, rowCount, largeTables, threshold);
      const ranges =
        method === 'stream' && snapshot.id
          ? await splitTable(coordinator, info, rowCount, {
              jobs,
              minRows: options.splitRows ?? DEFAULT_SPLIT_ROWS,
            })
          : null;
      planned.push({
        schema: info.schema,
        name: info.name,
        rowCount,
        method,
        estimatedRows: info.estimatedRows,
        ...(ranges ? { parts: ranges.length } : {}),
        info,
        ranges,
      });
    }
    const tables = planned.map(({ info: _info, ranges: _ranges, kept: _kept, ...rest }) => rest);
    emit({ type: 'plan', tables, brokenForeignKeys: brokenEdges, snapshot: snapshot.id });
    if (options.dryRun) {
      return {
        dryRun: true,
        outputDir: options.outputDir,
        tables,
        brokenForeignKeys: brokenEdges,
        manifest: null,
        failures: [],
      };
    }

    await clearOldExport(options.outputDir, Boolean(previous));
    // Where each sequence stands, so the import can set the target's no lower (as pg_dump's setval does).
    for (const { info, kept } of planned) {
      if (kept) continue;
      for (const seq of info.ownedSequences) {
        seq.lastValue =
          (await readSequenceState(coordinator, seq).catch(() => null))?.lastValue?.toString() ?? null;
      }
    }
    const server = (
      await coordinator.query<{ version: string; database: string; user_name: string }>(SERVER_SQL)
    ).rows[0]!;
    const taken = new Set<string>();
    const manifest: ExportManifest = {
      formatVersion: MANIFEST_FORMAT_VERSION,
      tool: { name: 'supamigrate', version: VERSION },
      exportedAt: new Date().toISOString(),
      completedAt: null,
      source: {
        serverVersion: server.version,
        database: server.database,
        user: server.user_name,
        url: redactUrl(options.dbUrl),
      },
      snapshot: snapshot.id,
      format,
      options: {
        schemas,
        tables: tableArgs,
        excludeTables: options.excludeTables ?? [],
        skipLarge: options.skipLarge ?? false,
        skipAuth: options.skipAuth ?? false,
        largeTables,
        streamingThreshold: threshold,
        jobs: options.jobs ?? 1,
      },
      tables: planned.map(({ info, rowCount, method, ranges, kept }) => {
        const file = tableFileName(info, format, taken);
        if (kept) return kept;
        return {
          snapshot: snapshot.id,
          schema: info.schema,
          name: info.name,
          file: ranges ? null : file,
          ...(ranges
            ? {
                parts: ranges.map((blocks, i) => ({
                  file: partFileName(file, i, ranges.length),
                  blocks,
                  state: 'pending' as const,
                  rowCount: null,
                  bytes: null,
                  sha256: null,
                  seconds: null,
                  snapshot: snapshot.id,
                })),
              }
            : {}),
          state: 'pending' as const,
          rowCount,
          method,
          bytes: null,
          sha256: null,
          seconds: null,
          kind: info.kind,
          columns: info.columns,
          primaryKey: info.primaryKey,
          foreignKeys: info.foreignKeys,
          ownedSequences: info.ownedSequences,
          rowLevelSecurity: info.rowLevelSecurity,
        };
      }),
      brokenForeignKeys: brokenEdges,
      authUsers: null,
      authIdentities: null,
      notes: [],
    };
    if (previous) {
      const keptCount = planned.filter((p) => p.kept?.state === 'complete').length;
      const note = `resumed ${new Date().toISOString()}: ${keptCount} table(s) kept from the run of ${previous.exportedAt} (snapshot ${previous.snapshot ?? 'none'}), the rest read in snapshot ${snapshot.id ?? 'none'}; rows written in between may make them disagree (each table records its snapshot; verify against the source to check)`;
      manifest.notes.push(...previous.notes, note);
      manifest.exportedAt = previous.exportedAt;
      emit({ type: 'note', message: note });
    }
    const save = serialized(() => writeManifest(options.outputDir, manifest));
    await save();

    const failures: { table: string; error: string }[] = [];
    await exportTables(snapshot, planned, manifest, {
      dir: options.outputDir,
      format,
      jobs: Math.max(1, options.jobs ?? 1),
      emit,
      save,
      failures,
      signal: options.signal,
      snapshotId: snapshot.id,
      retries: options.retries ?? 2,
    });
    if (options.signal?.aborted) {
      await save();
      const done = manifest.tables.filter((t) => t.state === 'complete').length;
      throw new InterruptedError(
        `export interrupted: ${done} of ${manifest.tables.length} tables complete in ${options.outputDir}; finish it with supamigrate export --resume`,
      );
    }

    const authDone = (e: ManifestFile | null) => e?.state === 'complete';
    if (
      !options.skipAuth &&
      !(previous && authDone(previous.authUsers) && authDone(previous.authIdentities))
    ) {
      await exportAuth(snapshot.coordinator, options.outputDir, format, manifest, emit, failures);
    }
    if (previous && !options.skipAuth && authDone(previous.authUsers) && authDone(previous.authIdentities)) {
      manifest.authUsers = previous.authUsers;
      manifest.authIdentities = previous.authIdentities;
    }
    if (failures.length === 0) manifest.completedAt = new Date().toISOString();
    await save();
    return {
      dryRun: false,
      outputDir: options.outputDir,
      tables,
      brokenForeignKeys: brokenEdges,
      manifest,
      failures,
    };
  } finally {
    await snapshot.close();
  }
}

interface PlannedExport extends PlannedTable {
  info: EncodedTable;
  ranges: BlockRange[] | null;
  /** --resume: the earlier run's entry, kept (complete) or partly kept (some parts complete). */
  kept?: ManifestTable;
}

interface ExportContext {
  dir: string;
  format: ExportFormat;
  jobs: number;
  emit: (event: ExportEvent) => void;
  save: () => Promise<void>;
  failures: { table: string; error: string }[];
  signal?: AbortSignal;
  snapshotId: string | null;
  retries: number;
}

/**
 * Writes every table, or every range of a split table, on the snapshot's connections. A table is complete
 * when all its parts are; its row count (the sum of its parts') must equal count(*) in the snapshot.
 */
async function exportTables(
  snapshot: SharedSnapshot,
  planned: PlannedExport[],
  manifest: ExportManifest,
  ctx: ExportContext,
) {
  interface Job {
    table: PlannedExport;
    entry: ManifestTable;
    part: ManifestPart | null;
  }
  const progress = new Map<
    ManifestTable,
    { rows: number[]; started: boolean; done: number; seconds: number }
  >();
  const jobs: Job[] = planned.flatMap((table, i): Job[] => {
    const entry = manifest.tables[i]!;
    const alreadyDone = entry.parts?.filter((p) => p.state === 'complete') ?? [];
    progress.set(entry, {
      rows: (entry.parts ?? [null]).map((p) => (p?.state === 'complete' ? (p.rowCount ?? 0) : 0)),
      started: false,
      done: alreadyDone.length,
      seconds: 0,
    });
    if (entry.state === 'complete') return [];
    return entry.parts
      ? entry.parts.filter((part) => part.state !== 'complete').map((part) => ({ table, entry, part }))
      : [{ table, entry, part: null }];
  });
  // Biggest first, so that a long table does not start last and leave the other connections idle.
  const size = (j: Job) => (j.part ? j.table.rowCount / j.entry.parts!.length : j.table.rowCount);
  jobs.sort((a, b) => size(b) - size(a));

  const fail = (job: Job, message: string) => {
    const { table: t, entry } = job;
    if (ctx.signal?.aborted) return; // interrupted, not failed: it stays pending, and --resume redoes it
    if (job.part) Object.assign(job.part, { state: 'failed', error: message });
    if (entry.state !== 'failed') {
      Object.assign(entry, { state: 'failed', error: message });
      ctx.failures.push({ table: displayName(t), error: message });
      ctx.emit({ type: 'table-failed', schema: t.schema, name: t.name, error: message });
    }
  };

  await runOnWorkers(
    snapshot,
    ctx.jobs,
    jobs,
    async (client, job) => {
      const { table: t, entry, part } = job;
      const state = progress.get(entry)!;
      const index = part ? entry.parts!.indexOf(part) : 0;
      if (!state.started) {
        state.started = true;
        ctx.emit({
          type: 'table-start',
          schema: t.schema,
          name: t.name,
          rowCount: t.rowCount,
          method: t.method,
        });
      }
      try {
        const result = await exportTable(client, {
          table: t.info,
          dir: ctx.dir,
          file: part ? part.file : entry.file!,
          format: ctx.format,
          method: t.method,
          expectedRows: part ? null : t.rowCount,
          signal: ctx.signal,
          ...(part ? { where: rangeCondition(part.blocks) } : {}),
          onRows: (rows) => {
            state.rows[index] = rows;
            const total = state.rows.reduce((a, b) => a + b, 0);
            ctx.emit({
              type: 'table-progress',
              schema: t.schema,
              name: t.name,
              rows: total,
              rowCount: t.rowCount,
            });
          },
        });
        state.seconds = Math.max(state.seconds, result.seconds);
        if (part)
          Object.assign(part, {
            state: 'complete',
            rowCount: result.rowCount,
            bytes: result.bytes,
            sha256: result.sha256,
            seconds: round(result.seconds),
            snapshot: ctx.snapshotId,
          });
        else Object.assign(entry, { bytes: result.bytes, sha256: result.sha256 });
        state.done++;
        if (state.done === (entry.parts?.length ?? 1) && entry.state === 'pending') {
          const rows = entry.parts ? entry.parts.reduce((n, p) => n + (p.rowCount ?? 0), 0) : result.rowCount;
          // Parts read in different snapshots (--resume) cannot be held to one count(*).
          const oneSnapshot =
            !entry.parts || entry.parts.every((p) => p.snapshot === entry.parts![0]!.snapshot);
          if (oneSnapshot && !t.kept && rows !== t.rowCount) {
            throw new IntegrityError(
              `its parts hold ${rows} rows but count(*) in the same snapshot is ${t.rowCount}`,
            );
          }
          const bytes = entry.parts ? entry.parts.reduce((n, p) => n + (p.bytes ?? 0), 0) : result.bytes;
          Object.assign(entry, {
            state: 'complete',
            rowCount: rows,
            bytes,
            seconds: round(state.seconds),
            exportedAt: new Date().toISOString(),
          });
          ctx.emit({
            type: 'table-done',
            schema: t.schema,
            name: t.name,
            result: { ...result, rowCount: rows, bytes, seconds: state.seconds },
          });
        }
      } finally {
        await ctx.save();
      }
    },
    {
      failed: (job, err) => {
        fail(job, describeError(err));
        void ctx.save();
      },
      abandoned: (job, err) => {
        if (job.entry.state === 'pending' || job.part?.state === 'pending') {
          fail(job, `not exported: ${describeError(err)}`);
        }
      },
      retrying: (job, err, attempt) =>
        ctx.emit({
          type: 'note',
          message: `${displayName(job.table)}: ${describeError(err)}; retrying on a new connection (${attempt} of ${ctx.retries})`,
        }),
    },
    ctx.retries,
    ctx.signal,
  );
}

async function exactCount(
  client: pg.Client,
  table: Pick<TableInfo, 'schema' | 'name' | 'kind'>,
): Promise<number> {
  try {
    return Number((await client.query<{ n: string }>(countQuery(table))).rows[0]!.n);
  } catch (err) {
    throw new TableError(displayName(table), `cannot count rows: ${describeError(err)}`, { cause: err });
  }
}

async function exportAuth(
  client: pg.Client,
  dir: string,
  format: ExportFormat,
  manifest: ExportManifest,
  emit: (e: ExportEvent) => void,
  failures: { table: string; error: string }[],
): Promise<void> {
  let auth: TableInfo[];
  try {
    auth = await readCatalog(client, ['auth']);
  } catch (err) {
    const message = `cannot read the auth schema: ${describeError(err)}`;
    failures.push({ table: 'auth.users', error: message });
    emit({ type: 'table-failed', schema: 'auth', name: 'users', error: message });
    return;
  }
  const users = auth.find((t) => t.name === 'users');
  if (!users) {
    const note = 'no auth.users table in the source: no auth users exported (not a Supabase database?)';
    manifest.notes.push(note);
    emit({ type: 'note', message: note });
    return;
  }
  const identities = auth.find((t) => t.name === 'identities');
  const parts: [keyof Pick<ExportManifest, 'authUsers' | 'authIdentities'>, EncodedTable, string][] = [
    ['authUsers', encodeTable(authUsersTable(users)), AUTH_USERS_FILE],
  ];
  if (identities) parts.push(['authIdentities', encodeTable(identities), AUTH_IDENTITIES_FILE]);
  for (const [key, table, stem] of parts) {
    const file = `${stem}.${format}`;
    const entry: ManifestFile = {
      file,
      state: 'pending',
      rowCount: 0,
      bytes: null,
      sha256: null,
      columns: table.columns,
    };
    manifest[key] = entry;
    try {
      entry.rowCount = await exactCount(client, table);
    } catch (err) {
      Object.assign(entry, { state: 'failed', error: describeError(err) });
      failures.push({ table: displayName(table), error: describeError(err) });
      emit({ type: 'table-failed', schema: table.schema, name: table.name, error: describeError(err) });
      continue;
    }
    emit({
      type: 'table-start',
      schema: table.schema,
      name: table.name,
      rowCount: entry.rowCount,
      method: 'stream',
    });
    try {
      const result = await exportTable(client, {
        table,
        dir,
        file,
        format,
        method: 'stream',
        expectedRows: entry.rowCount,
        onRows: (rows) =>
          emit({
            type: 'table-progress',
            schema: table.schema,
            name: table.name,
            rows,
            rowCount: entry.rowCount,
          }),
      });
      Object.assign(entry, { state: 'complete', bytes: result.bytes, sha256: result.sha256 });
      emit({ type: 'table-done', schema: table.schema, name: table.name, result });
    } catch (err) {
      const message = describeError(err);
      Object.assign(entry, { state: 'failed', error: message });
      failures.push({ table: displayName(table), error: message });
      emit({ type: 'table-failed', schema: table.schema, name: table.name, error: message });
    }
  }
}

interface WorkerCallbacks<J> {
  /** The job failed for good. */
  failed: (job: J, err: unknown) => void;
  /** No connection could take the job (the snapshot could not be joined any more). */
  abandoned: (job: J, err: unknown) => void;
  retrying: (job: J, err: unknown, attempt: number) => void;
}

/**
 * Runs `work` for every job on up to `jobs` connections of the snapshot. A job that fails with a database
 * error is rolled back to its savepoint and the connection goes on; a connection that breaks is replaced
 * when the snapshot can still be joined, and a job that failed that way (a transient error) is tried again,
 * up to `retries` times, on the new connection, still in the same snapshot.
 */
async function runOnWorkers<J>(
  snapshot: SharedSnapshot,
  jobs: number,
  queue: J[],
  work: (client: pg.Client, job: J) => Promise<void>,
  on: WorkerCallbacks<J>,
  retries: number,
  signal?: AbortSignal,
): Promise<void> {
  const pending = [...queue];
  const attempts = new Map<J, number>();
  const count = snapshot.id ? Math.min(jobs, pending.length) : 1;
  let lastError: unknown = new Error('no connection to the source');
  const worker = async (index: number) => {
    let client: pg.Client | null = index === 0 ? snapshot.coordinator : null;
    const owned = index !== 0;
    for (let job = pending.shift(); job !== undefined; job = pending.shift()) {
      if (signal?.aborted) {
        pending.unshift(job);
        break;
      }
      try {
        client ??= await snapshot.openWorker();
      } catch (err) {
        lastError = err;
        pending.unshift(job);
        return;
      }
      try {
        await client.query('SAVEPOINT supamigrate_table');
        await work(client, job);
        await client.query('RELEASE SAVEPOINT supamigrate_table');
      } catch (err) {
        lastError = err;
        const attempt = (attempts.get(job) ?? 0) + 1;
        attempts.set(job, attempt);
        if (signal?.aborted) {
          // Interrupted: the job stays pending (export --resume does it).
        } else if (isTransient(err) && attempt <= retries && snapshot.id) {
          on.retrying(job, err, attempt);
          pending.unshift(job);
          await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
        } else {
          on.failed(job, err);
        }
        const recovered =
          err instanceof TableError || err instanceof pg.DatabaseError
            ? await client.query('ROLLBACK TO SAVEPOINT supamigrate_table').then(
                () => true,
                () => false,
              )
            : false;
        if (!recovered) {
          if (owned) await client.end().catch(() => undefined);
          if (!owned) return; // the coordinator holds the snapshot: without it no new worker can join
          client = null;
        }
      }
    }
    if (owned && client) await client.end().catch(() => undefined);
  };
  await Promise.all(Array.from({ length: count }, (_, i) => worker(i)));
  if (!signal?.aborted) for (const job of pending) on.abandoned(job, lastError);
}

/** The export --resume finishes: its metadata.json must be there. */
async function previousExport(dir: string): Promise<ExportManifest> {
  const manifest = await readManifest(dir).catch((err: unknown) => {
    throw new UsageError(`nothing to resume in ${dir}: ${(err as Error).message}`, { cause: err });
  });
  return manifest;
}

/**
 * --resume: the earlier run's entry for this table, if any of it can be kept: it must describe the same
 * columns, and its complete files must still match their sha256. Parts that cannot be kept are reset to
 * pending, to be read again.
 */
async function keepable(
  dir: string,
  previous: ExportManifest,
  info: EncodedTable,
): Promise<ManifestTable | null> {
  const entry = previous.tables.find((t) => t.schema === info.schema && t.name === info.name);
  if (!entry) return null;
  const sameColumns =
    JSON.stringify(entry.columns.map((c) => [c.name, c.type])) ===
    JSON.stringify(info.columns.map((c) => [c.name, c.type]));
  if (!sameColumns) return null;
  if (!entry.parts) {
    if (entry.state !== 'complete') return null;
    const problems = await checkExportFiles(dir, [
      { label: info.name, file: entry.file!, bytes: entry.bytes, sha256: entry.sha256 },
    ]);
    return problems.length === 0 ? entry : null;
  }
  let keptParts = 0;
  for (const part of entry.parts) {
    const intact =
      part.state === 'complete' &&
      (
        await checkExportFiles(dir, [
          { label: info.name, file: part.file, bytes: part.bytes, sha256: part.sha256 },
        ])
      ).length === 0;
    if (intact) keptParts++;
    else
      Object.assign(part, {
        state: 'pending',
        rowCount: null,
        bytes: null,
        sha256: null,
        seconds: null,
        error: undefined,
      });
  }
  if (keptParts === 0) return null;
  if (keptParts < entry.parts.length) Object.assign(entry, { state: 'pending', error: undefined });
  return entry;
}

/**
 * Checks, before connecting, that the output directory can be written and holds no export that would be
 * replaced without --force. Creates it (mode 0700) when missing.
 */
async function checkOutputDir(dir: string, force: boolean): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a file is in the way (it, or a folder above it, is not a directory)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : (code ?? (err as Error).message);
    throw new UsageError(`Cannot write to output directory ${dir}: ${why}`, { cause: err });
  }
  const exists = await stat(join(dir, MANIFEST_FILE)).then(
    () => true,
    () => false,
  );
  if (exists && !force) {
    throw new UsageError(
      `${dir} already holds an export (${MANIFEST_FILE}); use --force to replace it, or choose another --output-dir`,
    );
  }
}

/**
 * With --force: removes the previous export's files (those its metadata.json lists) and any temporary
 * `.…partial` files an interrupted run left, so nothing stale stays beside the new export.
 */
async function clearOldExport(dir: string, resuming: boolean): Promise<void> {
  const old = resuming ? null : await readManifest(dir).catch(() => null);
  const files = old
    ? [
        ...old.tables.flatMap((t) => [t.file, ...(t.parts ?? []).map((p) => p.file)]),
        old.authUsers?.file,
        old.authIdentities?.file,
      ]
    : [];
  const partial = (await readdir(dir)).filter((f) => f.startsWith('.') && f.endsWith('.partial'));
  for (const file of [...files, ...partial, ...(resuming ? [] : [MANIFEST_FILE])])
    if (file) await rm(join(dir, file), { force: true });
}

const round = (n: number) => Math.round(n * 1000) / 1000;
