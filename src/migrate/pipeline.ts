import { describeError } from '../errors.js';
import type { ExportEvent } from '../export/events.js';
import type { ExportResult } from '../export/export-database.js';
import { MANIFEST_FILE, type ExportManifest, type ManifestTable } from '../format/manifest.js';
import type { ExportFeed } from '../import/feed.js';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

const key = (t: { schema: string; name: string }) => `${t.schema}\u0000${t.name}`;

/**
 * The export's events turned into what the import waits on: the manifest once written, each table once
 * its files are written and recorded complete, the auth users. When the export ends (or fails), every
 * table still awaited is refused with why, so the import never waits on something that will not come.
 */
export class ExportPipeline {
  private live: ExportManifest | null = null;
  private readonly ready = new Set<string>();
  private readonly failed = new Map<string, string>();
  private readonly waiting = new Map<string, Waiter[]>();
  private ended: string | null = null;
  private authDone = false;
  private readonly authWaiters: (() => void)[] = [];
  private manifestWaiter: { resolve: (m: ExportManifest) => void; reject: (e: Error) => void } | null = null;
  /** Resolves with the export's live manifest once it is on disk; rejects if the export ends before. */
  readonly manifest: Promise<ExportManifest>;

  constructor() {
    this.manifest = new Promise((resolve, reject) => (this.manifestWaiter = { resolve, reject }));
    // Awaited by the caller only when the export got that far: a rejection nobody awaits is not an error.
    this.manifest.catch(() => undefined);
  }

  /** Feeds an export event in (every event passes here first). */
  onEvent(event: ExportEvent): void {
    switch (event.type) {
      case 'manifest':
        this.start(event.manifest);
        break;
      case 'table-done':
        this.settle(key(event), null);
        break;
      case 'table-failed':
        this.settle(key(event), event.error);
        break;
      case 'auth-users-done':
        this.finishAuth();
        break;
    }
  }

  /** The export returned (`result`) or threw (`error`). */
  end(result: ExportResult | undefined, error?: unknown): void {
    // `--resume` of a complete export returns its manifest without writing it: everything is ready.
    if (!this.live && result?.manifest) this.start(result.manifest);
    // A table whose own record failed to be written mid-run (a disk full for a moment) is recorded by the
    // export's last save: complete in the manifest it returned, when that save did not fail.
    if (result?.manifest && !result.failures.some((f) => f.table === MANIFEST_FILE)) {
      for (const t of result.manifest.tables) if (t.state === 'complete') this.settle(key(t), null);
    }
    this.finishAuth();
    this.ended = error === undefined ? 'the export ended without it' : describeError(error);
    for (const k of [...this.waiting.keys()]) this.settle(k, this.failed.get(k) ?? this.ended);
    this.manifestWaiter?.reject(new Error(`the export stopped before writing metadata.json: ${this.ended}`));
  }

  /** What the import reads: the live manifest and the waits. */
  feed(manifest: ExportManifest, exportId: string): ExportFeed {
    return {
      manifest,
      exportId,
      tableReady: (entry) => this.tableReady(entry),
      authUsersReady: () =>
        this.authDone ? Promise.resolve() : new Promise<void>((r) => this.authWaiters.push(r)),
    };
  }

  private start(manifest: ExportManifest): void {
    this.live = manifest;
    // Complete now (kept by --resume): on disk already, since the manifest was written before this event.
    for (const t of manifest.tables) if (t.state === 'complete') this.ready.add(key(t));
    this.manifestWaiter?.resolve(manifest);
    this.manifestWaiter = null;
  }

  private tableReady(entry: ManifestTable): Promise<void> {
    const k = key(entry);
    if (this.ready.has(k)) return Promise.resolve();
    const why = this.failed.get(k) ?? this.ended;
    if (why !== undefined && why !== null) return Promise.reject(new Error(`not exported: ${why}`));
    return new Promise((resolve, reject) => {
      this.waiting.set(k, [...(this.waiting.get(k) ?? []), { resolve, reject }]);
    });
  }

  private settle(k: string, error: string | null): void {
    if (error === null) this.ready.add(k);
    else this.failed.set(k, error);
    for (const w of this.waiting.get(k) ?? []) {
      if (error === null) w.resolve();
      else w.reject(new Error(`not exported: ${error}`));
    }
    this.waiting.delete(k);
  }

  private finishAuth(): void {
    this.authDone = true;
    for (const r of this.authWaiters.splice(0)) r();
  }
}
