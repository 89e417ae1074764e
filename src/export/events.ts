import type { BrokenEdge } from '../catalog/dependency-order.js';
import type { ExportManifest, ExportMethod } from '../format/manifest.js';
import type { TableExportResult } from './export-table.js';
import type { PlannedTable } from './plan.js';

/** What an export tells its caller as it goes (the CLI's progress display). */
export type ExportEvent =
  | { type: 'plan'; tables: PlannedTable[]; brokenForeignKeys: BrokenEdge[]; snapshot: string | null }
  | { type: 'table-start'; schema: string; name: string; rowCount: number; method: ExportMethod }
  | { type: 'table-progress'; schema: string; name: string; rows: number; rowCount: number }
  /** A table's files are written and metadata.json records it complete. */
  | { type: 'table-done'; schema: string; name: string; result: TableExportResult }
  /**
   * metadata.json is written for the first time: its entries (pending, or complete: kept by --resume) are
   * the live ones the export goes on changing. For a reader that loads tables as they complete (migrate).
   */
  | { type: 'manifest'; manifest: ExportManifest }
  /** The auth users are exported (or failed, or there are none) and recorded in metadata.json. */
  | { type: 'auth-users-done' }
  | { type: 'table-failed'; schema: string; name: string; error: string }
  | { type: 'note'; message: string }
  /** What the run does now: connecting, counting rows, exporting, the auth users. */
  | { type: 'phase'; phase: string };
