import type { Readable } from 'node:stream';
import type { ExportManifest, ManifestTable } from '../format/manifest.js';

/**
 * Tables handed to an import while their export is still running (migrate's pipeline): the export's live
 * manifest, whose entries turn complete one by one, and a way to wait for each. The import checks and
 * plans every table at once, as always, and loads each as soon as it is ready, parents first.
 */
export interface ExportFeed {
  /** The export's manifest, as it goes: entries pending, then complete (or failed). */
  manifest: ExportManifest;
  /**
   * The identity the import's progress rows are keyed by (supamigrate.import_progress). It cannot be
   * derived from the entries (their sha256 are not known yet), so the caller gives one that stays the same
   * across resumes of its run.
   */
  exportId: string;
  /** Resolves once the table's files are written and recorded complete; rejects with why they will not be. */
  tableReady: (entry: ManifestTable) => Promise<void>;
  /** Resolves once the auth users are exported and recorded (or failed, or there are none). */
  authUsersReady: () => Promise<void>;
  /**
   * The rows of a table whose method is `direct` (written to no file): the source's COPY text of `columns`,
   * read in the export's snapshot. Absent: no table is direct.
   */
  directRows?: (entry: ManifestTable, columns: readonly string[]) => Promise<DirectRows>;
}

/** One table's rows straight from the source, as COPY text (one line per row). */
export interface DirectRows {
  stream: Readable;
  /** The rows the source's COPY says it sent (once the stream has ended). */
  rowCount: () => number | null;
  /**
   * The error to tell when the target's connection timed out (--io-timeout) while it waited for these rows:
   * the source was the one that went silent.
   */
  silent: () => Error;
  /** Gives the source connection back: reused when the copy went well, closed otherwise. */
  release: (ok: boolean) => void;
}
