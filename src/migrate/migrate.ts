import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { exportDatabase, type ExportResult } from '../export/export-database.js';
import { MANIFEST_FILE } from '../format/manifest.js';
import { MIGRATE_RECORD_FILE, writeMigrateRecord } from '../format/migrate-record.js';
import { describeViolation } from '../import/foreign-keys.js';
import { importDatabase, type ImportEvent, type ImportResult } from '../import/import-database.js';
import { createSchema } from '../schema/schema.js';
import { verify, type VerifyResult } from '../verify/verify.js';
import { VERSION } from '../version.js';
import { displayName } from '../pg/sql.js';
import { verifyCounts, type CountsResult } from './counts.js';
import {
  checkSameDatabases,
  connectBoth,
  readTargetState,
  refuseNonEmpty,
  refuseOtherTypes,
} from './databases.js';
import type { MigrateEvent, MigrateStep } from './events.js';
import { ExportPipeline } from './pipeline.js';
import { checkSameOptions, recordedOptions } from './record.js';
import { parseMigrateSettings, type MigrateOptions, type MigrateSettings } from './settings.js';
import { keptAdvice, StepRunner, type StepRecord } from './steps.js';
import { openWorkDir, removeWorkDir, type WorkDir } from './work-dir.js';
import type { MoveStorageResult } from '../storage/move-storage.js';
import { moveStorageStep } from './storage-step.js';
import { openDirect, type Direct } from './direct.js';

export type { MigrateEvent, MigrateOptions, MigrateStep, StepRecord };

export interface MigrateResult {
  dryRun: boolean;
  /** Every step done; nothing failed, violated or differs. */
  complete: boolean;
  /** The export directory the run wrote (removed at success unless --keep-files). */
  workDir: string;
  workDirKept: boolean;
  steps: StepRecord[];
  /** Whether the schema step created the application schemas in the target. */
  schemaCreated: boolean;
  export: ExportResult | null;
  import: ImportResult | null;
  verify: { mode: 'checksums'; result: VerifyResult } | { mode: 'counts'; result: CountsResult } | null;
  /** The files of Supabase Storage (with S3 settings), moved and verified after the data. */
  storage: MoveStorageResult | null;
  /** What keeps the run from being complete, one line each. */
  failures: string[];
}

/** One run's state, handed from step to step. */
interface Run {
  /** The identity of this migrate, the same across its resumes: the import's progress is keyed by it. */
  exportId: string;
  settings: MigrateSettings;
  work: WorkDir;
  steps: StepRunner;
  emit: (event: MigrateEvent) => void;
  result: MigrateResult;
}

/**
 * Moves a database to another PostgreSQL in one run, as named steps: connect (both sides, refused when
 * they are one database) → schema (when the target has none of the application tables) → export (into
 * the work directory, in one snapshot) → load → foreign keys → sequences → verify. The work directory
 * records the run (migrate.json), and the export and the import their own progress, so `resume` with the
 * same options finishes an interrupted run without reading or loading a finished table again.
 *
 * ```ts
 * const result = await migrate({ dbUrl: process.env.SUPABASE_DB_URL!, targetUrl: process.env.TARGET_DB_URL! });
 * if (!result.complete) throw new Error(result.failures.join('\n'));
 * ```
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const settings = parseMigrateSettings(options);
  const work = await openWorkDir(settings);
  const emit = options.onEvent ?? (() => undefined);
  const steps = new StepRunner(emit);
  const result: MigrateResult = {
    dryRun: settings.dryRun,
    complete: false,
    workDir: work.path,
    workDirKept: true,
    steps: steps.records,
    schemaCreated: false,
    export: null,
    import: null,
    verify: null,
    storage: null,
    failures: [],
  };
  const run: Run = { exportId: '', settings, work, steps, emit, result };
  // Until the data step starts, nothing is written to the target (the schema step is one transaction).
  let started = Boolean(work.previous);
  try {
    await connectStep(run);
    started = !settings.dryRun;
    if ((await dataSteps(run)) && !settings.dryRun) {
      await verifyStep(run);
      if (settings.storage && result.failures.length === 0) await storageStep(run);
    }
    return await finish(run);
  } catch (err) {
    steps.end('failed');
    // Stopped before the data: nothing to resume; what this run made in its work directory goes.
    if (!started) {
      if (!settings.dryRun) await forgetRun(work).catch(() => undefined);
      throw err;
    }
    throw keptAdvice(err, steps.records.findLast((r) => r.status === 'failed')?.step ?? null, work.path);
  }
}

/** connect → schema: both databases checked, the run recorded, the target given the schema it lacks. */
async function connectStep(run: Run): Promise<void> {
  const { settings, work, steps, result } = run;
  const checked = await steps.run('connect', async () => {
    const dbs = await connectBoth(settings);
    try {
      if (work.previous) {
        checkSameDatabases(work.previous, dbs.identities);
        checkSameOptions(work.previous.options, recordedOptions(settings), work.path);
      }
      const target = await readTargetState(dbs, settings);
      refuseNonEmpty(target, settings);
      await refuseOtherTypes(dbs, target);
      return { identities: dbs.identities, target };
    } finally {
      await dbs.close();
    }
  });
  const record = work.previous ?? {
    tool: 'supamigrate migrate' as const,
    version: VERSION,
    startedAt: new Date().toISOString(),
    ...checked.identities,
    options: recordedOptions(settings),
  };
  if (!settings.dryRun && !work.previous) await writeMigrateRecord(work.path, record);
  run.exportId = `migrate ${record.startedAt} ${record.source.systemIdentifier ?? '-'}/${record.source.databaseOid}`;
  if (checked.target.tables.length > 0) {
    steps.skip('schema', `the target has ${checked.target.tables.length} of the application tables`);
    return;
  }
  await steps.run(
    'schema',
    async () => {
      const created = await createSchema({
        dbUrl: settings.dbUrl,
        targetUrl: settings.targetUrl,
        schemas: settings.export.appSchemas ? undefined : settings.export.schemas,
        dryRun: settings.dryRun,
        userMap: settings.userMap,
        userColumns: settings.import.userColumns,
        ioTimeout: settings.import.ioTimeout,
      });
      if (created.report.problems.length > 0)
        throw new UsageError(created.report.problems.map((p) => `schema: ${p}`));
      result.schemaCreated = created.written;
      return `${created.statements.length} statements${settings.dryRun ? ' (dry run: not run)' : ''}`;
    },
    String,
  );
}

/**
 * data → foreign keys → sequences: the export into the work directory and, at the same time, the import
 * from it: each table is loaded as soon as its files are written and recorded (parents first), so tables
 * flow from source to target without waiting for the whole export. A table the target has with the same
 * column types is copied directly (see direct.ts), unless there is a user map or --keep-files. With a user
 * map, whose ids are checked in every file before the first row is written, the load starts once the
 * export is complete.
 */
async function dataSteps(run: Run): Promise<boolean> {
  const { settings, work, steps } = run;
  steps.begin('data');
  const resume =
    work.previous !== null &&
    (await stat(join(work.path, MANIFEST_FILE)).then(
      () => true,
      () => false,
    ));
  const direct = await openDirect(settings);
  try {
    return await moveData(run, resume, direct);
  } finally {
    await direct?.readers?.close();
    await direct?.snapshot?.close();
  }
}

async function moveData(run: Run, resume: boolean, direct: Direct | null): Promise<boolean> {
  const { settings, work, steps, emit, result } = run;
  const pipeline = new ExportPipeline();
  // The export stops when the import fails for good (a pre-flight problem): nothing would load its files.
  const stop = new AbortController();
  const exporting = exportDatabase({
    ...settings.exportOptions,
    outputDir: work.path,
    resume,
    force: false,
    authUsersFirst: true,
    snapshot: direct?.snapshot,
    direct: direct?.tables,
    signal: settings.signal ? AbortSignal.any([settings.signal, stop.signal]) : stop.signal,
    onEvent: (event) => {
      pipeline.onEvent(event);
      emit({ type: 'export', event });
    },
  }).then(
    (r) => {
      pipeline.end(r);
      result.export = r;
      return r;
    },
    (err: unknown) => {
      pipeline.end(undefined, err);
      throw err;
    },
  );
  if (settings.dryRun) {
    const planned = await exporting;
    steps.end('done', `${planned.tables.length} tables planned`);
    return true;
  }
  const importOptions = {
    ...settings.importOptions,
    inputDir: work.path,
    resume: work.previous !== null,
    onEvent: (event: ImportEvent) => {
      if (event.type === 'phase' && event.phase === 'checking foreign keys') steps.begin('foreign keys');
      if (event.type === 'phase' && event.phase === 'setting sequences') steps.begin('sequences');
      emit({ type: 'import', event });
    },
  };
  let imported: ImportResult;
  if (settings.userMap) {
    const exported = await exporting;
    if (!recordExport(run, exported)) return false;
    imported = await importDatabase(importOptions);
  } else {
    // Written before the first table is read; if the export fails before, its error is the one to tell.
    const manifest = await pipeline.manifest.catch(() => exporting.then(() => pipeline.manifest));
    const feed = { ...pipeline.feed(manifest, run.exportId), directRows: direct?.readers?.rows };
    const importing = importDatabase({ ...importOptions, feed });
    importing.catch(() => stop.abort());
    const [ex, im] = await Promise.allSettled([exporting, importing]);
    if (im.status === 'rejected') throw im.reason;
    if (ex.status === 'rejected') throw ex.reason;
    recordExport(run, ex.value);
    imported = im.value;
  }
  steps.end('done');
  result.import = imported;
  const tables = result.export?.manifest?.tables ?? [];
  const copied = tables.filter((t) => t.method === 'direct').length;
  steps.describe(
    'data',
    `${tables.length - copied} tables exported, ${copied} copied directly, ${imported.loaded.length} loaded${imported.failures.length > 0 ? `, ${imported.failures.length} failed` : ''}`,
    imported.failures.length > 0 || result.failures.length > 0,
  );
  steps.describe(
    'foreign keys',
    imported.violations.length > 0 ? `${imported.violations.length} violated` : 'all hold',
    imported.violations.length > 0,
  );
  steps.describe('sequences', `${imported.sequences.length} set`);
  result.failures.push(
    ...imported.failures.map((f) => `load of ${f.table}: ${f.error}`),
    ...imported.violations.map((v) => `foreign key violated: ${describeViolation(v)}`),
  );
  return result.failures.length === 0;
}

/** The export's failures (tables it could not read) as the run's. */
function recordExport({ result }: Run, exported: ExportResult): boolean {
  result.export = exported;
  result.failures.push(...exported.failures.map((f) => `export of ${f.table}: ${f.error}`));
  return exported.failures.length === 0;
}

/** verify: source, files and target compared (checksums), or their row counts, or nothing. */
async function verifyStep({ settings, work, steps, emit, result }: Run): Promise<void> {
  if (settings.verify === 'none') {
    steps.skip('verify', '--verify none');
    return;
  }
  await steps.run(
    'verify',
    async () => {
      if (settings.verify === 'counts') {
        const counted = await verifyCounts(
          work.path,
          settings.dbUrl,
          settings.targetUrl,
          settings.import.ioTimeout,
          () => undefined,
          new Map(result.import?.loaded.map((t) => [displayName(t), t.rows])),
        );
        result.verify = { mode: 'counts', result: counted };
        result.failures.push(...counted.problems);
        return `${counted.tables.length} tables counted${counted.ok ? ', all match' : ', they DIFFER'}`;
      }
      const checked = await verify({
        inputDir: work.path,
        dbUrl: settings.dbUrl,
        targetUrl: settings.targetUrl,
        userMap: settings.userMap,
        userColumns: settings.import.userColumns,
        ioTimeout: settings.import.ioTimeout,
        onEvent: (e) => emit({ type: 'verify', table: e.table }),
      });
      result.verify = { mode: 'checksums', result: checked };
      const bad = checked.tables.filter((t) => t.status !== 'match');
      result.failures.push(
        ...checked.fileProblems,
        ...checked.missingFromExport.map((t) => `${t}: in the source, not in the export`),
        ...bad.map((t) => `${t.schema}.${t.name} differs: ${t.problems.join('; ')}`),
      );
      return `${checked.tables.length} tables checksummed${checked.ok ? ', all match' : `, ${bad.length} differ`}`;
    },
    String,
  );
  if (result.verify && !result.verify.result.ok)
    steps.describe('verify', steps.records.at(-1)!.detail ?? '', true);
}

/** storage: the files of Supabase Storage moved through S3 and verified (only with S3 settings). */
async function storageStep({ settings, work, steps, emit, result }: Run): Promise<void> {
  await steps.run(
    'storage',
    async () => {
      const moved = await moveStorageStep(settings, work.path);
      result.storage = moved;
      result.failures.push(...moved.failures);
      for (const message of moved.notes) emit({ type: 'note', message });
      return `${moved.objects} objects (${moved.kept} kept from an earlier run)${moved.failures.length > 0 ? `, ${moved.failures.length} problem(s)` : ', all verified'}`;
    },
    String,
  );
  if (result.storage && result.storage.failures.length > 0)
    steps.describe('storage', steps.records.at(-1)!.detail ?? '', true);
}

/** A run that stopped before the data: its private directory, or its record in --keep-files, removed. */
async function forgetRun(work: WorkDir): Promise<void> {
  if (work.private) await removeWorkDir(work);
  else await rm(join(work.path, MIGRATE_RECORD_FILE), { force: true });
}

/** The end: complete (the private work directory goes), or not (it stays, for --resume). */
async function finish({ settings, work, result }: Run): Promise<MigrateResult> {
  result.complete = !settings.dryRun && result.failures.length === 0;
  if (result.complete && work.private) {
    await removeWorkDir(work);
    result.workDirKept = false;
  }
  if (settings.dryRun) result.workDirKept = false;
  return result;
}
