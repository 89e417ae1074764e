import type { Compression } from '../format/compression.js';
import pg from 'pg';
import { describeError, IntegrityError, TableError } from '../errors.js';
import type { ExportFormat } from '../format/file-layout.js';
import type { ExportManifest, ManifestPart, ManifestTable } from '../format/manifest.js';
import {
  inOneSnapshot,
  isComplete,
  markFailed,
  markPartComplete,
  markTableComplete,
  partTotals,
} from '../format/manifest-state.js';
import { retryPolicy } from '../pg/retry.js';
import type { SharedSnapshot } from '../pg/snapshot.js';
import { displayName } from '../pg/sql.js';
import { runPool } from '../pg/worker-pool.js';
import type { ExportEvent } from './events.js';
import { exportTable } from './export-table.js';
import type { PlannedExport } from './plan.js';
import { rangeCondition } from './split.js';

/** Why a table cannot be read once the snapshot's connection is gone, and what finishes the export. */
export const SNAPSHOT_LOST =
  'the connection holding the snapshot was lost, so nothing more can be read in it; finish the export with supamigrate export --resume (it reads what is missing in a new snapshot)';

export interface RunContext {
  dir: string;
  format: ExportFormat;
  compression: Compression | null;
  jobs: number;
  retries: number;
  emit: (event: ExportEvent) => void;
  /** Writes metadata.json (serialized: one write at a time). */
  save: () => Promise<void>;
  failures: { table: string; error: string }[];
  signal: AbortSignal | undefined;
  /** The snapshot this run reads in (parts record it). */
  snapshotId: string | null;
}

/** One unit of the pool: a table's one file, or one range of a split table. */
interface Job {
  table: PlannedExport;
  entry: ManifestTable;
  part: ManifestPart | null;
}

interface TableProgress {
  rows: number[];
  started: boolean;
  done: number;
  seconds: number;
}

/**
 * Writes every table, or every range of a split table, on the snapshot's connections (the coordinator and
 * `jobs - 1` workers joining its snapshot). A table is complete when all its parts are; its row count is
 * the sum of what its parts' COPY read in the snapshot (and must equal count(*) when the plan counted). Failures are recorded per table, and the
 * manifest is saved after each file.
 */
export async function exportTables(
  snapshot: SharedSnapshot,
  plan: readonly PlannedExport[],
  manifest: ExportManifest,
  ctx: RunContext,
): Promise<void> {
  const progress = new Map<ManifestTable, TableProgress>();
  const jobs: Job[] = plan.flatMap((table, i): Job[] => {
    const entry = manifest.tables[i]!;
    progress.set(entry, {
      rows: (entry.parts ?? [null]).map((p) => (isComplete(p) ? (p?.rowCount ?? 0) : 0)),
      started: false,
      done: entry.parts?.filter(isComplete).length ?? 0,
      seconds: 0,
    });
    // Direct: migrate copies it from the source's COPY into the target's; no file to write here.
    if (isComplete(entry) || entry.method === 'direct') return [];
    return entry.parts
      ? entry.parts.filter((part) => !isComplete(part)).map((part) => ({ table, entry, part }))
      : [{ table, entry, part: null }];
  });
  // Biggest first, so that a long table does not start last and leave the other connections idle.
  const size = (j: Job) => (j.part ? j.table.rowCount / j.entry.parts!.length : j.table.rowCount);
  jobs.sort((a, b) => size(b) - size(a));

  const fail = (job: Job, message: string) => {
    if (ctx.signal?.aborted) return; // interrupted, not failed: it stays pending, and --resume redoes it
    if (job.part) markFailed(job.part, message);
    if (markFailed(job.entry, message)) {
      ctx.failures.push({ table: displayName(job.table), error: message });
      ctx.emit({ type: 'table-failed', schema: job.table.schema, name: job.table.name, error: message });
    }
  };
  let coordinatorTaken = false;
  const recording: Promise<void>[] = [];
  const stopped = await runTableJobs().then(
    () => null,
    (err: unknown) => ({ err }),
  );
  // The files' records are written (or failed: the export's last save says whether all is recorded).
  await Promise.all(recording);
  if (stopped) throw stopped.err;

  function runTableJobs() {
    return runPool<Job>({
      lanes: snapshot.id ? ctx.jobs : 1,
      jobs,
      // Lane 0 reads on the coordinator, which holds the snapshot: it is never closed here, and never
      // replaced (without it no new connection could join the snapshot).
      connect: async (lane) => {
        if (lane > 0) return snapshot.openWorker();
        if (coordinatorTaken) throw new Error(SNAPSHOT_LOST);
        coordinatorTaken = true;
        return snapshot.coordinator;
      },
      release: async (client, lane) => {
        if (lane > 0) await client.end().catch(() => undefined);
      },
      // A failed job is rolled back to its savepoint; the connection goes on when that works.
      recover: async (client, err) =>
        (err instanceof TableError || err instanceof pg.DatabaseError || err instanceof IntegrityError) &&
        (await client.query('ROLLBACK TO SAVEPOINT supamigrate_table').then(
          () => true,
          () => false,
        )),
      run: async (client, job) => {
        await client.query('SAVEPOINT supamigrate_table');
        let done: ExportEvent | null;
        try {
          done = await exportJob(client, job, progress.get(job.entry)!, ctx);
        } catch (err) {
          await ctx.save().catch(() => undefined); // the job's own error is the one to tell
          throw err;
        }
        await client.query('RELEASE SAVEPOINT supamigrate_table');
        // The connection goes on to its next file while metadata.json is written (the saves of files
        // finished meanwhile share one write). Told once it records the table complete: a reader may load
        // it now (migrate does).
        // A save that fails here (a disk full for a moment) is not the end: every later save writes the
        // whole of metadata.json again, and the export's last one says if the export is not recorded.
        recording.push(
          ctx.save().then(
            () => {
              if (done) ctx.emit(done);
            },
            () => undefined,
          ),
        );
      },
      failed: async (job, err) => {
        fail(job, describeError(err));
        await ctx.save().catch(() => undefined);
      },
      abandoned: (job, err) => fail(job, `not exported: ${describeError(err)}`),
      retrying: (job, err, attempt) =>
        ctx.emit({
          type: 'note',
          message: `${displayName(job.table)}: ${describeError(err)}; retrying on a new connection (${attempt} of ${ctx.retries})`,
        }),
      retry: retryPolicy(snapshot.id ? ctx.retries : 0),
      signal: ctx.signal,
    });
  }
}

/** Writes one file of a table; completes the table when it was its last (and returns its done event). */
async function exportJob(
  client: pg.Client,
  job: Job,
  state: TableProgress,
  ctx: RunContext,
): Promise<ExportEvent | null> {
  const { table: t, entry, part } = job;
  const index = part ? entry.parts!.indexOf(part) : 0;
  if (!state.started) {
    state.started = true;
    ctx.emit({ type: 'table-start', schema: t.schema, name: t.name, rowCount: t.rowCount, method: t.method });
  }
  const result = await exportTable(client, {
    table: t.info,
    forms: t.forms,
    dir: ctx.dir,
    file: part ? part.file : entry.file!,
    format: ctx.format,
    compression: ctx.compression,
    expectedRows: part || !t.exact ? null : t.rowCount,
    signal: ctx.signal,
    ...(part ? { where: rangeCondition(part.blocks) } : {}),
    onRows: (rows) => {
      state.rows[index] = rows;
      const total = state.rows.reduce((a, b) => a + b, 0);
      ctx.emit({ type: 'table-progress', schema: t.schema, name: t.name, rows: total, rowCount: t.rowCount });
    },
  });
  state.seconds = Math.max(state.seconds, result.seconds);
  if (part) markPartComplete(part, result, ctx.snapshotId);
  else entry.sha256 = result.sha256;
  state.done++;
  if (state.done < (entry.parts?.length ?? 1) || entry.state !== 'pending') return null;
  const totals = entry.parts ? partTotals(entry) : { rowCount: result.rowCount, bytes: result.bytes };
  // Parts read in different snapshots (--resume) cannot be held to one count(*).
  if (t.exact && inOneSnapshot(entry) && !t.kept && totals.rowCount !== t.rowCount) {
    throw new IntegrityError(
      `its parts hold ${totals.rowCount} rows but count(*) in the same snapshot is ${t.rowCount}`,
    );
  }
  markTableComplete(entry, { ...totals, seconds: state.seconds });
  return {
    type: 'table-done',
    schema: t.schema,
    name: t.name,
    result: { ...result, ...totals, seconds: state.seconds },
  };
}
