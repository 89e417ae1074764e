import { join } from 'node:path';
import { integrityNote } from '../format/manifest-digest.js';
import type pg from 'pg';
import { recordedSchemasNote } from '../catalog/app-schemas.js';
import { describeError, InterruptedError, UsageError } from '../errors.js';
import { readAuthUserIds } from '../format/auth-users-file.js';
import { checkExportFiles } from '../format/file-integrity.js';
import { stateKey, writeImportState } from '../format/import-state.js';
import {
  MANIFEST_FILE,
  readManifest,
  tableFiles,
  type ExportManifest,
  type ManifestTable,
} from '../format/manifest.js';
import { selectEntries } from '../format/select-entries.js';
import { forgetUserMap, recordUserMap } from '../format/user-map-record.js';
import { scanUserIdColumns } from '../format/user-id-scan.js';
import { serialized } from '../format/serialized.js';
import type { UserColumn, UserColumnCounts } from '../format/user-columns.js';
import { connect, describeUrl } from '../pg/connect.js';
import { displayName } from '../pg/sql.js';
import { loadMinimalAuthUsers } from './auth-users.js';
import type { ImportEvent, ImportPlanTable } from './events.js';
import type { ForeignKeyViolation } from './foreign-keys.js';
import type { LoadResult } from './load-table.js';
import { preflight, type TriggerMode } from './preflight.js';
import { exportId, openProgress, PROGRESS_TABLE, type Progress } from './progress.js';
import { resumePoint } from './resume.js';
import { loadTables } from './run-loads.js';
import { deferTableIndexes } from './index-steps.js';
import { afterLoad } from './after-load.js';
import { canDefer, deferForeignKeys, DEFERRED_TABLE } from './deferred-indexes.js';
import { parseImportSettings, type ImportOptions, type ImportSettings } from './settings.js';
import { openConnections, truncateTables } from './target-steps.js';
import { checkUserColumns, scanUserColumns, UserIdRewriter } from './user-columns.js';
import { userMapForRun } from './resumed-user-map.js';

export type { ForeignKeyViolation, ImportEvent, ImportOptions, ImportPlanTable };

export interface ImportResult {
  dryRun: boolean;
  tables: ImportPlanTable[];
  triggerMode: TriggerMode;
  role: string;
  problems: string[];
  notes: string[];
  loaded: ({ schema: string; name: string } & LoadResult)[];
  failures: { table: string; error: string }[];
  /** Foreign keys from or into the loaded tables that the target's rows break (checked after the load). */
  violations: ForeignKeyViolation[];
  sequences: { sequence: string; value: string }[];
  /** Rows of the selected tables now loaded, by this run and by the earlier runs it resumed. */
  rowsLoaded: number;
  /** With a user map: each user column, and how many values were rewritten or had no mapping. */
  userColumns: UserColumnCounts[];
}

/**
 * Loads an export into a target database that already has the schema. Everything is checked before the
 * first row is written (files against metadata.json, tables and columns against the target); then each
 * table is loaded in its own transaction, in dependency order, and owned sequences are set past the data.
 * The steps, in order: settings → manifest and tables → resume point → pre-flight (files, target, user
 * ids, foreign keys, --jobs connections opened) → (dry run ends here) → truncate → load → foreign-key
 * check → sequences. Each file's progress row is committed with its rows (supamigrate.import_progress in
 * the target), which is what --resume and retries read.
 *
 * ```ts
 * const result = await importDatabase({ targetUrl: process.env.TARGET_DB_URL!, inputDir: './migration-data' });
 * if (result.failures.length > 0) process.exitCode = 1;
 * ```
 */
export async function importDatabase(options: ImportOptions): Promise<ImportResult> {
  let settings = parseImportSettings(options);
  const emit = options.onEvent ?? (() => undefined);
  const feed = options.feed;
  if (feed && settings.userMap)
    throw new UsageError(
      'a user map needs every file before the load (its ids are checked first): not with a feed',
    );
  const manifest = feed ? feed.manifest : await readManifest(settings.inputDir);
  const selected = selectEntries(manifest.tables, settings.tables, settings.excludeTables);
  if (!feed) refuseIncomplete(selected);
  const target = describeUrl(settings.targetUrl);
  emit({ type: 'phase', phase: 'connecting to the target' });
  const coordinator = await connect(settings.targetUrl, { role: 'target', ioTimeout: settings.ioTimeout });
  try {
    emit({ type: 'phase', phase: 'checking the files and the target' });
    const progress = await openProgress(coordinator, feed?.exportId ?? exportId(manifest), settings.dryRun);
    const mapping = await userMapForRun(coordinator, settings, progress, selected);
    settings = mapping.settings;
    const { userColumns } = mapping;
    // The map is recorded before anything else is written: a run killed at any point is resumed with it
    // (and verify compares through it). An import without one forgets a map an earlier import recorded.
    if (!settings.dryRun && progress.available && mapping.problems.length === 0) {
      if (settings.userMap)
        await recordUserMap(
          coordinator,
          progress.exportId,
          settings.userMap,
          userColumns,
          settings.unmatched,
        );
      else if (!settings.resume) await forgetUserMap(coordinator, progress.exportId);
    }
    const resume = await resumePoint(coordinator, settings, manifest, target, selected, progress);
    const checked = await checkBeforeWriting(coordinator, settings, manifest, resume.toLoad, userColumns, {
      partial: new Set(resume.committed.map((c) => `${c.schema}\u0000${c.table}`)),
      imported: selected,
      setAsideCycleKeys: canDefer(progress, settings.onConflict),
    });
    checked.problems.unshift(...mapping.problems, ...resume.problems);
    checked.pre.notes.unshift(...mapping.notes, ...resume.notes, ...progressNotes(progress, settings.resume));
    const unrecorded = feed ? null : integrityNote(manifest, join(settings.inputDir, MANIFEST_FILE));
    if (unrecorded) checked.pre.notes.unshift(unrecorded);
    const { pre, rewriter } = checked;
    const result: ImportResult = {
      dryRun: settings.dryRun,
      tables: pre.tables.map((t) => ({
        schema: t.entry.schema,
        name: t.entry.name,
        files: tableFiles(t.entry).map((f) => f.file),
        rowCount: t.entry.rowCount,
        truncate: settings.truncate && t.nonEmpty,
        nonEmpty: t.nonEmpty,
      })),
      triggerMode: pre.triggerMode,
      role: pre.role,
      problems: checked.problems,
      notes: pre.notes,
      loaded: [],
      failures: [],
      violations: [],
      sequences: [],
      rowsLoaded: 0,
      // A dry run shows what the scan found; a real run what the load did.
      userColumns: (settings.dryRun ? checked.scanned?.counts : rewriter?.counts) ?? [],
    };
    if (resume.alreadyLoaded.length > 0) {
      result.notes.unshift(
        `resumed: ${resume.alreadyLoaded.length} table(s) already loaded into ${target} by an earlier run (recorded in ${PROGRESS_TABLE} in the target) are skipped: ${resume.alreadyLoaded.map(displayName).join(', ')}`,
      );
    }
    await feed?.authUsersReady();
    const authNote = await loadMinimalAuthUsers(
      coordinator,
      settings.inputDir,
      manifest,
      settings.userMap,
      settings.dryRun || checked.problems.length > 0,
    );
    result.notes.unshift(recordedSchemasNote(manifest.options.schemas, manifest.notes));
    if (authNote) {
      // The pre-flight saw auth.users empty; the users are loaded before the tables.
      const stale = (note: string) =>
        /references auth\.users, which is not imported and is empty|into auth\.users, which lacks \d+ of the/.test(
          note,
        );
      result.notes.splice(0, result.notes.length, ...result.notes.filter((n) => !stale(n)), authNote);
    }
    // The load's connections: one per file at most, --jobs at most.
    const lanes = Math.min(
      settings.jobs,
      pre.tables.reduce((n, t) => n + tableFiles(t.entry).length, 0),
    );
    if (settings.dryRun) {
      // The connections the load would open, opened and closed: a target without room for them says so now.
      await openConnections(settings.targetUrl, lanes, settings.ioTimeout).then(
        (clients) => Promise.all(clients.map((c) => c.end().catch(() => undefined))),
        (err: unknown) => void result.problems.push(describeError(err)),
      );
      return result;
    }
    if (checked.problems.length > 0) throw new UsageError(checked.problems);

    // Only a record for people (the target's progress table is the truth): a failure to write it is a note,
    // once, never a failed table.
    let stateUnwritable = false;
    // In a migrate (a feed) it is rewritten at most every STATE_SPACING ms, and the lanes do not wait for
    // it: its work directory is private, and resume goes by the target's progress rows either way.
    const saveState = serialized(
      () =>
        writeImportState(settings.inputDir, resume.state).catch((err: unknown) => {
          if (stateUnwritable) return;
          stateUnwritable = true;
          const message = `${describeError(err)} (a record for people only: the import goes on)`;
          result.notes.push(message);
          emit({ type: 'note', message });
        }),
      feed ? STATE_SPACING : 0,
    );
    await saveState();
    emit({ type: 'plan', tables: result.tables, triggerMode: pre.triggerMode, role: pre.role });
    for (const note of pre.notes) emit({ type: 'note', message: note });
    // The last step of the pre-flight: every connection of --jobs open before anything is emptied.
    // Handed to the pool's lanes one by one; those no lane took are closed after the load.
    const spare: (pg.Client | undefined)[] = await openConnections(
      settings.targetUrl,
      lanes,
      settings.ioTimeout,
    );
    try {
      if (settings.truncate) emit({ type: 'phase', phase: 'truncating the target tables' });
      await truncateTables(coordinator, settings.truncate ? pre.tables : [], progress, resume.stale);
      const setAside = await deferTableIndexes(coordinator, settings, progress, pre.tables, resume.committed);
      // After the indexes: a table a cycle's key references keeps its own key (the foreign key needs it).
      await deferForeignKeys(
        coordinator,
        pre.cycleKeys.map((k) => ({ table: k.table.target, name: k.name })),
      );
      if (setAside > 0) {
        const message = `indexes and key constraints of ${setAside} empty table(s) are built after their data (recorded in ${DEFERRED_TABLE} in the target until they are)`;
        result.notes.push(message);
        emit({ type: 'note', message });
      }
      emit({ type: 'phase', phase: 'loading' });
      await loadTables(pre.tables, {
        settings,
        format: manifest.format,
        triggerMode: pre.triggerMode,
        brokenForeignKeys: manifest.brokenForeignKeys,
        rewriter,
        emit,
        progress,
        committed: resume.committed,
        ready: feed?.tableReady,
        directRows: feed?.directRows,
        connection: (lane) => {
          const client = spare[lane];
          spare[lane] = undefined;
          return client;
        },
        loaded: async ({ entry }, loaded) => {
          result.loaded.push({ schema: entry.schema, name: entry.name, ...loaded });
          resume.state.tables[stateKey(entry)] = { rows: loaded.rows, loadedAt: new Date().toISOString() };
          if (feed) void saveState();
          else await saveState();
          emit({ type: 'table-done', schema: entry.schema, name: entry.name, result: loaded });
        },
        failed: ({ entry }, error) => {
          result.failures.push({ table: displayName(entry), error });
          emit({ type: 'table-failed', schema: entry.schema, name: entry.name, error });
        },
      });
    } finally {
      await Promise.all(spare.flatMap((c) => (c ? [c.end().catch(() => undefined)] : [])));
    }
    await saveState();
    if (settings.signal?.aborted) {
      throw new InterruptedError(
        `import interrupted: ${Object.keys(resume.state.tables).length} of ${selected.length} tables loaded into ${target} (files being loaded were rolled back; those committed are recorded in ${PROGRESS_TABLE} in the target); finish it with supamigrate import --resume`,
      );
    }
    result.rowsLoaded = selected.reduce((n, t) => n + (resume.state.tables[stateKey(t)]?.rows ?? 0), 0);
    // The coordinator sat idle during the load: if its connection died meanwhile, or dies now, a new one.
    await afterLoad(coordinator, {
      settings,
      manifest,
      selected,
      pre,
      alreadyLoaded: resume.alreadyLoaded,
      progress,
      result,
      emit,
    });
    // Failures sorted in load order, so the first to fix is first.
    const order = new Map(pre.tables.map((t, i) => [displayName(t.entry), i]));
    result.failures.sort((a, b) => (order.get(a.table) ?? 0) - (order.get(b.table) ?? 0));
    return result;
  } finally {
    await coordinator.end().catch(() => undefined);
  }
}

/** Refuses tables the export did not finish. */
function refuseIncomplete(selected: readonly ManifestTable[]): void {
  const problems = selected
    .filter((t) => t.state !== 'complete')
    .map(
      (t) =>
        `${displayName(t)} was not exported completely (${t.state}${t.error ? `: ${t.error}` : ''}); export it again, or --exclude-table it`,
    );
  if (problems.length > 0) throw new UsageError(problems);
}

/**
 * The pre-flight: files against metadata.json, the target's tables and columns, and with a user map every
 * user id of the files (read before a row is written: unmatched ids must stop the import).
 */
async function checkBeforeWriting(
  client: pg.Client,
  settings: ImportSettings,
  manifest: Pick<ExportManifest, 'brokenForeignKeys' | 'format' | 'typeDefinitions'>,
  toLoad: ManifestTable[],
  userColumns: UserColumn[],
  references: {
    partial: ReadonlySet<string>;
    imported: readonly ManifestTable[];
    setAsideCycleKeys: boolean;
  },
) {
  // Files still being exported (a feed) are checked as each is ready.
  const fileCheck = checkExportFiles(
    settings.inputDir,
    toLoad
      .filter((t) => t.state === 'complete')
      .flatMap((t) => tableFiles(t).map((f) => ({ label: displayName(t), ...f }))),
  );
  const pre = await preflight(client, toLoad, {
    truncate: settings.truncate,
    onConflict: settings.onConflict,
    brokenForeignKeys: manifest.brokenForeignKeys,
    typeDefinitions: manifest.typeDefinitions,
    ...references,
  });
  const fileProblems = await fileCheck;
  const problems = [...fileProblems, ...pre.problems];
  let scanned: UserIdRewriter | null = null;
  // The export's user ids (none without an auth users file: then every id the map lacks is unmatched).
  const userIds = settings.userMap ? await readAuthUserIds(settings.inputDir) : new Set<string>();
  const known = userIds.size > 0 ? userIds : undefined;
  if (settings.userMap && fileProblems.length === 0) {
    scanned = new UserIdRewriter(settings.userMap, userColumns, settings.unmatched, known);
    await scanUserColumns(settings.inputDir, manifest.format, pre.tables, scanned);
    const found = await checkUserColumns(client, pre.tables, scanned, settings.unmatched);
    problems.push(...found.problems);
    pre.notes.push(...found.notes);
    // Columns the scan's rule finds holding user ids that this import will not rewrite (a dry run shows
    // the whole proposal): said before the load, never rewritten unasked.
    if (userIds.size > 0 && !settings.dryRun) {
      const scan = await scanUserIdColumns(settings.inputDir, manifest.format, toLoad, userIds);
      const rewritten = new Set(userColumns.map((c) => `${c.schema}.${c.table}.${c.column}`));
      const left = scan.proposed
        .map((c) => `${c.schema}.${c.table}.${c.column}`)
        .filter((c) => !rewritten.has(c));
      const named = userColumns
        .filter((c) => c.foundBy === '--user-columns')
        .map((c) => `${c.schema}.${c.table}.${c.column}`);
      if (left.length > 0)
        pre.notes.push(
          `${left.length} column(s) hold user ids by the users scan's rule and are not rewritten (not in --user-columns), so they keep the old ids: ${left.join(', ')}; to rewrite them too, import again with --truncate --user-columns ${[...named, ...left].join(',')} (import --dry-run shows the scan)`,
        );
    }
  }
  const rewriter = settings.userMap
    ? new UserIdRewriter(settings.userMap, userColumns, settings.unmatched, known)
    : null;
  return { pre, problems, scanned, rewriter };
}

/** What the run says about its progress table when it cannot keep one. */
function progressNotes(progress: Progress, resume: boolean): string[] {
  if (progress.available || resume) return [];
  return [
    `no progress table (${PROGRESS_TABLE} cannot be created: ${progress.reason}): this import cannot be resumed with --resume (a file retried after a lost connection is still loaded exactly once: the retry asks the server whether its COMMIT landed)`,
  ];
}

/** import-state.json is rewritten at most this often (ms) in a migrate. */
const STATE_SPACING = 100;
