import type pg from 'pg';
import { qualifiedName } from '../pg/sql.js';
import { readCatalog } from '../catalog/read-catalog.js';
import { describeError } from '../errors.js';
import type { ExportManifest, ManifestTable } from '../format/manifest.js';
import { connect } from '../pg/connect.js';
import { backoff, isTransient, sleep } from '../pg/retry.js';
import { displayName } from '../pg/sql.js';
import type { ImportEvent } from './events.js';
import { checkForeignKeys, foreignKeysTouching } from './foreign-keys.js';
import type { ImportResult } from './import-database.js';
import { rebuildAllIndexes } from './index-steps.js';
import type { ImportPreflight } from './preflight.js';
import type { Progress } from './progress.js';
import { resetSequences, setStandaloneSequences } from './sequences.js';
import type { ImportSettings } from './settings.js';
import { liveCoordinator } from './target-steps.js';

export interface AfterLoadContext {
  settings: ImportSettings;
  manifest: Pick<ExportManifest, 'sequences' | 'tables'>;
  selected: readonly ManifestTable[];
  pre: ImportPreflight;
  alreadyLoaded: readonly ManifestTable[];
  progress: Progress;
  result: ImportResult;
  emit: (event: ImportEvent) => void;
}

/**
 * The steps after the load, on the coordinator: indexes set aside built again, every foreign key of the
 * loaded tables checked, sequences set. Each is safe to run again, so a connection lost meanwhile (or one
 * that died while the coordinator sat idle during the load) is replaced and the steps run again, under
 * --retries, as the loads are.
 */
export async function afterLoad(coordinator: pg.Client, ctx: AfterLoadContext): Promise<void> {
  const { settings, result } = ctx;
  const kept = { failures: result.failures.length, notes: result.notes.length };
  for (let attempt = 0; ; attempt++) {
    const live =
      attempt === 0
        ? await liveCoordinator(coordinator, settings.targetUrl, settings.ioTimeout)
        : await connect(settings.targetUrl, { role: 'target', ioTimeout: settings.ioTimeout }).then(
            (client) => ({
              client,
              done: () => client.end().catch(() => undefined),
            }),
          );
    try {
      await steps(live.client, ctx);
      return;
    } catch (err) {
      if (!isTransient(err) || attempt >= settings.retries) throw err;
      // What the attempt recorded goes: the next one records it again.
      result.failures.splice(kept.failures);
      result.notes.splice(kept.notes);
      result.sequences = [];
      result.violations = [];
      ctx.emit({
        type: 'note',
        message: `after loading: ${describeError(err)}; retrying on a new connection (${attempt + 1} of ${settings.retries})`,
      });
      await sleep(backoff(attempt + 1), settings.signal);
    } finally {
      await live.done();
    }
  }
}

async function steps(client: pg.Client, ctx: AfterLoadContext): Promise<void> {
  const { settings, manifest, selected, pre, result, emit } = ctx;
  emit({ type: 'phase', phase: 'building indexes' });
  await rebuildAllIndexes(client, settings, ctx.progress, result, emit);
  emit({ type: 'phase', phase: 'checking foreign keys' });
  const loadedNow = new Set(result.loaded.map((l) => `${l.schema}\u0000${l.name}`));
  const oids = pre.tables
    .filter((t) => loadedNow.has(`${t.entry.schema}\u0000${t.entry.name}`))
    .map((t) => t.target.oid);
  const keys = await foreignKeysTouching(client, oids);
  result.violations = await withForcedRlsLifted(client, pre, (inTransaction) =>
    checkForeignKeys(client, keys, inTransaction),
  );
  emit({ type: 'phase', phase: 'setting sequences' });
  await setSequencesOn(client, pre, ctx.alreadyLoaded, result);
  const notes: string[] = [];
  if (manifest.sequences?.length && selected.length !== manifest.tables.length) {
    notes.push(
      `${manifest.sequences.length} sequence(s) no column uses were not set: only an import of every table sets them (${manifest.sequences.map((q) => `${q.schema}.${q.name}`).join(', ')})`,
    );
  }
  if (manifest.sequences && selected.length === manifest.tables.length) {
    const standalone = await setStandaloneSequences(client, manifest.sequences);
    result.sequences.push(...standalone.done);
    notes.push(...standalone.notes);
  }
  for (const message of notes) {
    result.notes.push(message);
    emit({ type: 'note', message });
  }
}

async function setSequencesOn(
  client: pg.Client,
  pre: ImportPreflight,
  alreadyLoaded: readonly ManifestTable[],
  result: ImportResult,
): Promise<void> {
  if (alreadyLoaded.length > 0) {
    const catalog = await readCatalog(client, [...new Set(alreadyLoaded.map((t) => t.schema))]);
    for (const entry of alreadyLoaded) {
      const target = catalog.find((c) => c.schema === entry.schema && c.name === entry.name);
      if (target)
        result.sequences.push(
          ...(await resetSequences(client, { entry, target, columns: [], nonEmpty: true })),
        );
    }
  }
  const loaded = new Set(result.loaded.map((l) => `${l.schema}\u0000${l.name}`));
  for (const plan of pre.tables.filter((t) => loaded.has(`${t.entry.schema}\u0000${t.entry.name}`))) {
    try {
      result.sequences.push(...(await resetSequences(client, plan)));
    } catch (err) {
      if (isTransient(err)) throw err; // the connection: all the steps again, on a new one
      result.failures.push({
        table: displayName(plan.entry),
        error: `cannot reset its sequences: ${describeError(err)}`,
      });
    }
  }
}

/**
 * Runs `check` with FORCE ROW LEVEL SECURITY lifted from the tables whose loads lifted it (the owner's
 * check must see every row, as the loads did), in a transaction that is rolled back: FORCE is never off
 * outside it.
 */
async function withForcedRlsLifted<T>(
  client: pg.Client,
  pre: ImportPreflight,
  check: (inTransaction: boolean) => Promise<T>,
): Promise<T> {
  const forced = pre.tables.filter((t) => t.liftForcedRls);
  if (forced.length === 0) return check(false);
  await client.query('BEGIN');
  try {
    for (const t of forced)
      await client.query(`ALTER TABLE ${qualifiedName(t.target)} NO FORCE ROW LEVEL SECURITY`);
    return await check(true);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}
