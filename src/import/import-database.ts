import type pg from 'pg';
import { matches, parseTableName } from '../catalog/select-tables.js';
import { describeError, InterruptedError, RowFormatError, UsageError } from '../errors.js';
import { databaseChecksum } from '../codec/checksum.js';
import { fileChecksum } from '../format/file-checksum.js';
import {
  IMPORT_STATE_FILE,
  readImportState,
  stateKey,
  writeImportState,
  type ImportState,
} from '../format/import-state.js';

import { checkExportFiles } from '../format/file-integrity.js';
import { readManifest, tableFiles, type ExportManifest, type ManifestTable } from '../format/manifest.js';
import { connect, describeUrl, isTransient } from '../pg/connect.js';
import { readCatalog } from '../catalog/read-catalog.js';
import { serialized } from '../format/serialized.js';
import { displayName, qualifiedName } from '../pg/sql.js';
import { loadTable, resetSequences, type LoadResult } from './load-table.js';
import { preflight, type TablePlan, type TriggerMode } from './preflight.js';
import { runInDependencyOrder } from './schedule.js';
import { checkUserColumns, scanUserColumns, UserIdRewriter } from './user-columns.js';
import { findUserColumns, type UnmatchedPolicy, type UserColumnCounts } from '../format/user-columns.js';
import type { UserMap } from '../format/user-map.js';

export interface ImportOptions {
  targetUrl: string;
  inputDir: string;
  tables?: string[];
  excludeTables?: string[];
  /** Empty the target tables first (one TRUNCATE of them all). */
  truncate?: boolean;
  /** `skip`: rows whose key already exists are left out (ON CONFLICT DO NOTHING). */
  onConflict?: 'error' | 'skip';
  /** Tables loaded at once; a table never starts before the tables it references. */
  jobs?: number;
  dryRun?: boolean;
  /** Rewrite Supabase user ids to the new provider's (from `users map`). */
  userMap?: UserMap;
  /** Columns holding user ids without a foreign key into auth.users: schema.table.column. */
  userColumns?: string[];
  /** Ids in user columns that the map does not cover: refuse (default), keep them, or write NULL. */
  unmatched?: UnmatchedPolicy;
  /** Skip the tables an earlier run of this import recorded as loaded (import-state.json). */
  resume?: boolean;
  /** Retry a table this many times after a transient error (connection lost, server restart). */
  retries?: number;
  /** Stops the import: the table being loaded rolls back, import-state.json says what is loaded. */
  signal?: AbortSignal;
  onEvent?: (event: ImportEvent) => void;
}

export interface ImportPlanTable {
  schema: string;
  name: string;
  /** Its file, or the files of its parts. */
  files: string[];
  rowCount: number;
  truncate: boolean;
  nonEmpty: boolean;
}

export type ImportEvent =
  | { type: 'plan'; tables: ImportPlanTable[]; triggerMode: TriggerMode; role: string }
  | { type: 'table-start'; schema: string; name: string; rowCount: number }
  | { type: 'table-progress'; schema: string; name: string; rows: number; rowCount: number }
  | { type: 'table-done'; schema: string; name: string; result: LoadResult }
  | { type: 'table-failed'; schema: string; name: string; error: string }
  | { type: 'note'; message: string };

export interface ImportResult {
  dryRun: boolean;
  tables: ImportPlanTable[];
  triggerMode: TriggerMode;
  role: string;
  problems: string[];
  notes: string[];
  loaded: ({ schema: string; name: string } & LoadResult)[];
  failures: { table: string; error: string }[];
  sequences: { sequence: string; value: string }[];
  /** With a user map: each user column, and how many values were rewritten or had no mapping. */
  userColumns: UserColumnCounts[];
}

/**
 * Loads an export into a target database that already has the schema. Everything is checked before the
 * first row is written (files against metadata.json, tables and columns against the target); then each
 * table is loaded in its own transaction, in dependency order, and owned sequences are set past the data.
 *
 * ```ts
 * const result = await importDatabase({ targetUrl: process.env.TARGET_DB_URL!, inputDir: './migration-data' });
 * if (result.failures.length > 0) process.exitCode = 1;
 * ```
 */
export async function importDatabase(options: ImportOptions): Promise<ImportResult> {
  const emit = options.onEvent ?? (() => undefined);
  const onConflict = options.onConflict ?? 'error';
  const manifest = await readManifest(options.inputDir);
  const selected = selectEntries(manifest, options.tables ?? [], options.excludeTables ?? []);
  const policy = options.unmatched ?? 'error';
  if (!options.userMap && (options.userColumns?.length ?? 0) > 0) {
    throw new UsageError('--user-columns needs --user-map (the ids to rewrite them to)');
  }
  const userColumns = options.userMap ? findUserColumns(selected, options.userColumns ?? []) : [];

  const target = describeUrl(options.targetUrl);
  const previousState = options.resume
    ? await readImportState(options.inputDir, target, manifest.exportedAt)
    : null;
  const importState: ImportState = {
    target,
    export: manifest.exportedAt,
    tables: { ...(previousState?.tables ?? {}) },
  };
  const alreadyLoaded = selected.filter((t) => importState.tables[stateKey(t)]);
  const toLoad = selected.filter((t) => !importState.tables[stateKey(t)]);
  const fileCheck = checkExportFiles(
    options.inputDir,
    toLoad.flatMap((t) => tableFiles(t).map((f) => ({ label: displayName(t), ...f }))),
  );
  const coordinator = await connect(options.targetUrl, { role: 'target' });
  const clients: pg.Client[] = [coordinator];
  try {
    if (options.resume && !options.userMap) {
      // A table may have committed just before the run stopped, before its state was written: if its
      // content equals its file's, it is loaded.
      for (const t of [...toLoad]) {
        const there = await databaseChecksum(coordinator, t).catch(() => null);
        if (!there || there.rows === 0) continue;
        const file = await fileChecksum(options.inputDir, t, manifest.format).catch(() => null);
        if (file && file.rows === there.rows && file.hash === there.hash) {
          importState.tables[stateKey(t)] = { rows: there.rows, loadedAt: new Date().toISOString() };
          toLoad.splice(toLoad.indexOf(t), 1);
          alreadyLoaded.push(t);
        }
      }
    }
    const pre = await preflight(coordinator, toLoad, {
      truncate: options.truncate ?? false,
      onConflict,
      brokenForeignKeys: manifest.brokenForeignKeys,
    });
    const fileProblems = await fileCheck;
    const problems = [...fileProblems, ...pre.problems];
    let scan: UserIdRewriter | null = null;
    if (options.userMap && fileProblems.length === 0) {
      // Read the user columns of every file first: unmatched ids must stop the import before a row is written.
      scan = new UserIdRewriter(options.userMap, userColumns, policy);
      await scanUserColumns(options.inputDir, manifest.format, pre.tables, scan);
      const found = await checkUserColumns(coordinator, pre.tables, scan, policy);
      problems.push(...found.problems);
      pre.notes.push(...found.notes);
    }
    const rewriter = options.userMap ? new UserIdRewriter(options.userMap, userColumns, policy) : null;
    const tables: ImportPlanTable[] = pre.tables.map((t) => ({
      schema: t.entry.schema,
      name: t.entry.name,
      files: tableFiles(t.entry).map((f) => f.file),
      rowCount: t.entry.rowCount,
      truncate: (options.truncate ?? false) && t.nonEmpty,
      nonEmpty: t.nonEmpty,
    }));
    const result: ImportResult = {
      dryRun: options.dryRun ?? false,
      tables,
      triggerMode: pre.triggerMode,
      role: pre.role,
      problems,
      notes: pre.notes,
      loaded: [],
      failures: [],
      sequences: [],
      // A dry run shows what the scan found; a real run what the load did.
      userColumns: (options.dryRun ? scan?.counts : rewriter?.counts) ?? [],
    };
    if (alreadyLoaded.length > 0) {
      result.notes.unshift(
        `resumed: ${alreadyLoaded.length} table(s) already loaded into ${target} by an earlier run (recorded in ${IMPORT_STATE_FILE} beside the export) are skipped: ${alreadyLoaded.map(displayName).join(', ')}`,
      );
    }
    if (options.dryRun) return result;
    if (problems.length > 0) throw new UsageError(problems);
    const saveState = serialized(() => writeImportState(options.inputDir, importState));
    await saveState();
    emit({ type: 'plan', tables, triggerMode: pre.triggerMode, role: pre.role });
    for (const note of pre.notes) emit({ type: 'note', message: note });

    if (options.truncate && pre.tables.some((t) => t.nonEmpty)) {
      // One statement for all: tables that reference each other can only be truncated together.
      await coordinator
        // ONLY: an inheritance parent's children are tables of their own (TRUNCATE ONLY is refused for a
        // partitioned table, whose partitions hold its rows).
        .query(
          `TRUNCATE ${pre.tables.map((t) => `${t.target.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(t.target)}`).join(', ')}`,
        )
        .catch((err: unknown) => {
          throw new UsageError(`Cannot truncate the target tables: ${describeError(err)}`, { cause: err });
        });
    }

    const units = pre.tables.flatMap((plan) =>
      tableFiles(plan.entry).map((file, index) => ({ plan, file, index })),
    );
    const jobs = Math.max(1, Math.min(options.jobs ?? 1, units.length));
    for (let i = 1; i < jobs; i++) clients.push(await connect(options.targetUrl, { role: 'target' }));
    const broken = new Set(
      manifest.brokenForeignKeys.map((e) => `${e.schema}\u0000${e.table}\u0000${e.foreignKey}`),
    );
    const byKey = new Map(pre.tables.map((t) => [`${t.entry.schema}\u0000${t.entry.name}`, t]));
    const referenced = (t: TablePlan) =>
      t.entry.foreignKeys
        .filter((fk) => !broken.has(`${t.entry.schema}\u0000${t.entry.name}\u0000${fk.name}`))
        .map((fk) => byKey.get(`${fk.references.schema}\u0000${fk.references.table}`))
        .filter((d): d is TablePlan => d !== undefined && d !== t);
    // A part waits for every part of the tables its table references: never a child before its parent.
    const dependsOn = (unit: (typeof units)[number]) => {
      const parents = new Set(referenced(unit.plan));
      return units.filter((u) => parents.has(u.plan));
    };

    const progress = new Map(
      pre.tables.map((t) => [
        t,
        {
          rows: tableFiles(t.entry).map(() => 0),
          results: [] as LoadResult[],
          errors: [] as string[],
          started: false,
        },
      ]),
    );
    await runInDependencyOrder(units, dependsOn, jobs, async ({ plan, file, index }, lane) => {
      const { schema, name } = plan.entry;
      const state = progress.get(plan)!;
      if (!state.started) {
        state.started = true;
        emit({ type: 'table-start', schema, name, rowCount: plan.entry.rowCount });
      }
      if (options.signal?.aborted) return;
      for (let attempt = 0; ; attempt++) {
        try {
          state.results.push(
            await loadTable(clients[lane]!, plan, file, {
              signal: options.signal,
              dir: options.inputDir,
              format: manifest.format,
              triggerMode: pre.triggerMode,
              onConflict,
              rewrites: rewriter?.forTable(schema, name),
              onRows: (rows) => {
                state.rows[index] = rows;
                emit({
                  type: 'table-progress',
                  schema,
                  name,
                  rows: state.rows.reduce((a, b) => a + b, 0),
                  rowCount: plan.entry.rowCount,
                });
              },
            }),
          );
          break;
        } catch (err) {
          if (options.signal?.aborted) return;
          const transient = isTransient(err);
          if (transient) {
            // The connection may be gone: the next attempt (or table) gets a new one.
            await clients[lane]!.end().catch(() => undefined);
            clients[lane] = await connect(options.targetUrl, { role: 'target' }).catch(() => clients[lane]!);
          }
          if (transient && attempt < (options.retries ?? 0)) {
            emit({
              type: 'note',
              message: `${displayName(plan.entry)}: ${describeError(err)}; retrying (${attempt + 1} of ${options.retries})`,
            });
            await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
            continue;
          }
          state.errors.push(
            transient
              ? `${file.file}: the connection to the target was lost (${describeError(err)}); the table was rolled back: run the import again with --resume`
              : describeLoadError(file.file, err),
          );
          break;
        }
      }
      if (state.results.length + state.errors.length < tableFiles(plan.entry).length) return;
      // The table's last part is done.
      if (state.errors.length === 0) {
        const loaded = {
          rows: state.results.reduce((n, r) => n + r.rows, 0),
          inserted: state.results.reduce((n, r) => n + r.inserted, 0),
          seconds: Math.max(...state.results.map((r) => r.seconds)),
        };
        result.loaded.push({ schema, name, ...loaded });
        importState.tables[stateKey(plan.entry)] = { rows: loaded.rows, loadedAt: new Date().toISOString() };
        await saveState();
        emit({ type: 'table-done', schema, name, result: loaded });
        return;
      }
      let message = state.errors.join('; ');
      if (state.results.length > 0 && onConflict === 'error') {
        // Some parts of a split table committed: empty the table again, so nothing half-loaded remains.
        const undo = await connect(options.targetUrl, { role: 'target' }).catch(() => null);
        const undone = await undo
          ?.query(
            `TRUNCATE ${plan.target.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(plan.target)}`,
          )
          .then(
            () => true,
            () => false,
          );
        await undo?.end().catch(() => undefined);
        message += undone
          ? ' (the parts already loaded were removed again)'
          : ' (the parts already loaded could NOT be removed: truncate the table before loading it again)';
      } else if (state.results.length > 0) {
        message += ' (some parts were loaded: run the import again with --on-conflict skip to finish it)';
      }
      result.failures.push({ table: displayName(plan.entry), error: message });
      emit({ type: 'table-failed', schema, name, error: message });
    });

    if (options.signal?.aborted) {
      await saveState();
      throw new InterruptedError(
        `import interrupted: ${Object.keys(importState.tables).length} of ${selected.length} tables loaded into ${target} (the table being loaded was rolled back); finish it with supamigrate import --resume`,
      );
    }
    // Tables loaded by an earlier run (--resume) get their sequences set too: it may have stopped first.
    if (alreadyLoaded.length > 0) {
      const catalog = await readCatalog(coordinator, [...new Set(alreadyLoaded.map((t) => t.schema))]);
      for (const entry of alreadyLoaded) {
        const target = catalog.find((c) => c.schema === entry.schema && c.name === entry.name);
        if (target)
          result.sequences.push(
            ...(await resetSequences(coordinator, { entry, target, columns: [], nonEmpty: true })),
          );
      }
    }
    const loadedNames = new Set(result.loaded.map((l) => `${l.schema}\u0000${l.name}`));
    for (const plan of pre.tables.filter((t) => loadedNames.has(`${t.entry.schema}\u0000${t.entry.name}`))) {
      try {
        result.sequences.push(...(await resetSequences(coordinator, plan)));
      } catch (err) {
        result.failures.push({
          table: displayName(plan.entry),
          error: `cannot reset its sequences: ${describeError(err)}`,
        });
      }
    }
    // Failures sorted in load order, so the first to fix is first.
    const order = new Map(pre.tables.map((t, i) => [displayName(t.entry), i]));
    result.failures.sort((a, b) => (order.get(a.table) ?? 0) - (order.get(b.table) ?? 0));
    return result;
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
  }
}

/** Applies --table and --exclude-table to the export's tables; refuses tables the export did not finish. */
function selectEntries(manifest: ExportManifest, tables: string[], exclude: string[]): ManifestTable[] {
  const problems: string[] = [];
  const match = (arg: string, option: string) => {
    const p = parseTableName(arg);
    const found = manifest.tables.filter((t) => matches(t, p));
    if (found.length === 0) problems.push(`${option} ${arg}: no such table in the export`);
    if (found.length > 1)
      problems.push(`${option} ${arg} is ambiguous: ${found.map(displayName).join(', ')}`);
    return found;
  };
  const keep =
    tables.length > 0 ? new Set(tables.flatMap((a) => match(a, '--table'))) : new Set(manifest.tables);
  const drop = new Set(exclude.flatMap((a) => match(a, '--exclude-table')));
  const selected = manifest.tables.filter((t) => keep.has(t) && !drop.has(t));
  for (const t of selected) {
    if (t.state !== 'complete') {
      problems.push(
        `${displayName(t)} was not exported completely (${t.state}${t.error ? `: ${t.error}` : ''}); export it again, or --exclude-table it`,
      );
    }
  }
  if (problems.length > 0) throw new UsageError(problems);
  return selected;
}

function describeLoadError(file: string, err: unknown): string {
  if (err instanceof RowFormatError) return `${file}: ${err.message}`;
  const e = err as { where?: string; message?: string };
  const where = typeof e.where === 'string' ? e.where.match(/COPY [^,]+, line (\d+)/) : null;
  const base = describeError(err);
  return where ? `${file} row ${where[1]}: ${base}` : base;
}
