import { rm, rmdir, stat } from 'node:fs/promises';
import type pg from 'pg';
import type { BrokenEdge } from '../catalog/dependency-order.js';
import { SERVER_SQL } from '../catalog/catalog.sql.js';
import { InterruptedError } from '../errors.js';
import { exportPath } from '../format/export-path.js';
import { tableFileName } from '../format/file-names.js';
import { compressedName } from '../format/compression.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT_VERSION,
  writeManifest,
  type ExportManifest,
  type ManifestTable,
} from '../format/manifest.js';
import { manifestIntegrity } from '../format/manifest-digest.js';
import { newTableEntry } from '../format/manifest-state.js';
import { serialized } from '../format/serialized.js';
import { redactUrl } from '../pg/connect.js';
import { openSharedSnapshot } from '../pg/snapshot.js';
import { VERSION } from '../version.js';
import { exportAuthUsers } from './auth.js';
import type { ExportEvent } from './events.js';
import { checkOutputDir, clearOldExport } from './output-dir.js';
import {
  planExport,
  planSummary,
  readSequencePositions,
  type ExportPlan,
  type PlannedTable,
} from './plan.js';
import { checkSameSource, filesNotKept, nothingToResume, previousExport, resumeNote } from './resume.js';
import { exportTables } from './run-tables.js';
import {
  parseExportSettings,
  recordedOptions,
  resumedSettings,
  type ExportOptions,
  type ExportSettings,
} from './settings.js';
import { describeAppSchemas, readAppSchemas, type AppSchemas } from '../catalog/app-schemas.js';
import { partFileName } from './split.js';
import { recordWhatFilesCannotHold } from './standalone.js';

export type { ExportEvent, ExportOptions, PlannedTable };
export { DEFAULT_SPLIT_ROWS } from './settings.js';
export { exportMethod } from './plan.js';

export interface ExportResult {
  dryRun: boolean;
  outputDir: string;
  tables: PlannedTable[];
  brokenForeignKeys: BrokenEdge[];
  manifest: ExportManifest | null;
  failures: { table: string; error: string }[];
  /** --resume of an export that is already complete and intact: what to tell (nothing was done). */
  nothingToResume?: string;
  /** Without --schema: the source's schemas exported and those left out, with why. */
  schemas?: AppSchemas;
}

/**
 * Exports the selected tables of a database to one file each, in foreign-key order, plus the Supabase
 * auth users, and writes metadata.json. All reads happen in one shared snapshot. With `dryRun` it only
 * plans: it connects and counts, and writes nothing. The steps, in order: settings → resume → output
 * directory → snapshot → plan → (dry run ends here) → manifest → tables → auth users → finish.
 *
 * ```ts
 * const result = await exportDatabase({ dbUrl: process.env.SUPABASE_DB_URL!, outputDir: './migration-data' });
 * if (result.failures.length > 0) process.exitCode = 1;
 * ```
 */
export async function exportDatabase(options: ExportOptions): Promise<ExportResult> {
  const onEvent = options.onEvent ?? (() => undefined);
  let settings = parseExportSettings(options);
  const previous = settings.resume ? await previousExport(settings.outputDir) : null;
  if (previous) {
    settings = resumedSettings(settings, previous, options);
    const nothing = await nothingToResume(settings.outputDir, previous);
    if (nothing) {
      return {
        dryRun: settings.dryRun,
        outputDir: settings.outputDir,
        tables: [],
        brokenForeignKeys: previous.brokenForeignKeys,
        manifest: previous,
        failures: [],
        nothingToResume: nothing,
      };
    }
  }
  // A directory this run made is removed again when the run fails before it writes metadata.json into it
  // (a refused export leaves nothing behind that looks like one); rmdir removes only an empty directory.
  const created =
    !settings.dryRun &&
    (await stat(settings.outputDir).then(
      () => false,
      () => true,
    ));
  if (!settings.dryRun) await checkOutputDir(settings.outputDir, settings.force || Boolean(previous));
  try {
    onEvent({ type: 'phase', phase: 'connecting to the source' });
    const snapshot =
      settings.snapshot ?? (await openSharedSnapshot(settings.dbUrl, { ioTimeout: settings.ioTimeout }));
    try {
      const source = await readSource(snapshot.coordinator, settings.dbUrl);
      if (previous) checkSameSource(settings.outputDir, previous.source, source);
      const schemas = settings.appSchemas ? await readAppSchemas(snapshot.coordinator) : undefined;
      if (schemas) {
        settings = { ...settings, schemas: schemas.included.map((s) => s.name) };
        onEvent({ type: 'note', message: describeAppSchemas(schemas) });
      }
      onEvent({ type: 'phase', phase: 'reading the catalog, counting rows' });
      const plan = await planExport(snapshot.coordinator, settings, previous, snapshot.id !== null);
      const tables = planSummary(plan);
      const done = (manifest: ExportManifest | null, failures: ExportResult['failures']): ExportResult => ({
        dryRun: settings.dryRun,
        outputDir: settings.outputDir,
        tables,
        brokenForeignKeys: plan.brokenForeignKeys,
        manifest,
        failures,
        ...(schemas ? { schemas } : {}),
      });
      onEvent({ type: 'plan', tables, brokenForeignKeys: plan.brokenForeignKeys, snapshot: snapshot.id });
      if (settings.dryRun) return done(null, []);

      await clearOldExport(settings.outputDir, Boolean(previous));
      // Files of the earlier run that are read again (all parts of a split table) or no longer exported.
      if (previous) {
        for (const file of filesNotKept(previous, plan)) {
          await rm(exportPath(settings.outputDir, file), { force: true });
        }
      }
      await readSequencePositions(snapshot.coordinator, plan);
      const manifest = newManifest(source, settings, plan, snapshot.id);
      if (schemas) manifest.notes.push(describeAppSchemas(schemas));
      if (previous) {
        const note = resumeNote(previous, plan, snapshot.id);
        manifest.notes.push(...previous.notes, note);
        manifest.exportedAt = previous.exportedAt;
        onEvent({ type: 'note', message: note });
      }
      await recordWhatFilesCannotHold(snapshot.coordinator, settings, plan, manifest, onEvent);
      manifest.typeDefinitions = plan.typeDefinitions;
      // Rewritten as files complete, at most every MANIFEST_SPACING ms: many small tables share a write.
      const save = serialized(() => writeManifest(settings.outputDir, manifest), MANIFEST_SPACING);
      await save();
      onEvent({ type: 'manifest', manifest });

      const failures: ExportResult['failures'] = [];
      const authUsers = async () => {
        if (!settings.skipAuth) {
          onEvent({ type: 'phase', phase: 'exporting the auth users' });
          await exportAuthUsers(
            snapshot.coordinator,
            settings.outputDir,
            { format: settings.format, compression: settings.compression },
            manifest,
            previous,
            onEvent,
            failures,
          );
          // Recorded before the tables' turn (their saves would record it too, but a reader waits on it).
          if (settings.authUsersFirst) await save();
        }
        onEvent({ type: 'auth-users-done' });
      };
      if (settings.authUsersFirst) await authUsers();
      await exportTables(snapshot, plan.tables, manifest, {
        dir: settings.outputDir,
        format: settings.format,
        compression: settings.compression,
        jobs: settings.jobs,
        retries: settings.retries,
        emit: onEvent,
        save,
        failures,
        signal: settings.signal,
        snapshotId: snapshot.id,
      });
      if (settings.signal?.aborted) {
        await save();
        const complete = manifest.tables.filter((t) => t.state === 'complete').length;
        throw new InterruptedError(
          `export interrupted: ${complete} of ${manifest.tables.length} tables complete in ${settings.outputDir}; finish it with supamigrate export --resume`,
        );
      }
      if (!settings.authUsersFirst) await authUsers();
      if (failures.length === 0) {
        manifest.completedAt = new Date().toISOString();
        manifest.integrity = manifestIntegrity(manifest);
      }
      try {
        await save();
      } catch (err) {
        // The files are written but metadata.json does not say so: a failure with its file, and the summary.
        manifest.completedAt = null;
        delete manifest.integrity;
        failures.push({
          table: MANIFEST_FILE,
          error: `${(err as Error).message}; the export is not recorded as complete (make room, then run supamigrate export --resume)`,
        });
      }
      return done(manifest, failures);
    } finally {
      if (!settings.snapshot) await snapshot.close();
    }
  } catch (err) {
    if (created) await rmdir(settings.outputDir).catch(() => undefined);
    throw err;
  }
}

/** metadata.json as the run starts: every planned table pending (or kept, with --resume). */
function newManifest(
  source: ExportManifest['source'],
  settings: ExportSettings,
  plan: ExportPlan,
  snapshot: string | null,
): ExportManifest {
  const taken = new Set<string>();
  const tables = plan.tables.map(({ info, rowCount, method, ranges, kept }): ManifestTable => {
    // Every name is taken, kept tables' too, so that a new table never gets a kept one's file name.
    const file = compressedName(tableFileName(info, settings.format, taken), settings.compression);
    if (kept) return kept;
    const parts = ranges?.map((blocks, i) => ({ file: partFileName(file, i, ranges.length), blocks }));
    return newTableEntry(info, { file, parts, rowCount, method, snapshot });
  });
  return {
    formatVersion: MANIFEST_FORMAT_VERSION,
    tool: { name: 'supamigrate', version: VERSION },
    exportedAt: new Date().toISOString(),
    completedAt: null,
    source,
    snapshot,
    format: settings.format,
    options: recordedOptions(settings),
    tables,
    brokenForeignKeys: plan.brokenForeignKeys,
    authUsers: null,
    authIdentities: null,
    notes: [],
  };
}

/** What metadata.json records of the source: its server, database and identity (for --resume). */
async function readSource(client: pg.Client, dbUrl: string): Promise<ExportManifest['source']> {
  const server = (
    await client.query<{
      version: string;
      database: string;
      user_name: string;
      database_oid: string;
      system_identifier: string | null;
    }>(SERVER_SQL)
  ).rows[0]!;
  return {
    serverVersion: server.version,
    database: server.database,
    user: server.user_name,
    url: redactUrl(dbUrl),
    systemIdentifier: server.system_identifier,
    databaseOid: Number(server.database_oid),
  };
}

/** metadata.json is rewritten at most this often (ms) while files complete. */
const MANIFEST_SPACING = 100;
