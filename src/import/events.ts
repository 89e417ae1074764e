import type { LoadResult } from './load-table.js';
import type { TriggerMode } from './preflight.js';

export interface ImportPlanTable {
  schema: string;
  name: string;
  /** Its file, or the files of its parts. */
  files: string[];
  rowCount: number;
  truncate: boolean;
  nonEmpty: boolean;
}

/** What an import tells its caller as it goes (the CLI's progress display). */
export type ImportEvent =
  | { type: 'plan'; tables: ImportPlanTable[]; triggerMode: TriggerMode; role: string }
  | { type: 'table-start'; schema: string; name: string; rowCount: number }
  | { type: 'table-progress'; schema: string; name: string; rows: number; rowCount: number }
  | { type: 'table-done'; schema: string; name: string; result: LoadResult }
  | { type: 'table-failed'; schema: string; name: string; error: string }
  | { type: 'note'; message: string }
  /** What the run does now: connecting, checking, truncating, loading, setting sequences. */
  | { type: 'phase'; phase: string };
