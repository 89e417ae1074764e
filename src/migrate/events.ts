import type { ExportEvent } from '../export/events.js';
import type { ImportEvent } from '../import/events.js';
import type { TableVerification } from '../verify/verify-table.js';

/** The named steps of a migrate, in the order they run. */
export const MIGRATE_STEPS = [
  'connect',
  'schema',
  'data',
  'foreign keys',
  'sequences',
  'verify',
  'storage',
] as const;
export type MigrateStep = (typeof MIGRATE_STEPS)[number];

/** What a migrate tells its caller as it goes: its steps, and the events of the export and import it runs. */
export type MigrateEvent =
  | { type: 'step'; step: MigrateStep; status: 'start' | 'done' | 'skipped'; detail?: string }
  | { type: 'export'; event: ExportEvent }
  | { type: 'import'; event: ImportEvent }
  | { type: 'verify'; table: TableVerification }
  | { type: 'note'; message: string };
