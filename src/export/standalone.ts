import type pg from 'pg';
import { standaloneSequences } from '../catalog/large-objects.js';
import type { ExportManifest } from '../format/manifest.js';
import type { ExportEvent } from './events.js';
import type { ExportPlan } from './plan.js';
import type { ExportSettings } from './settings.js';

/**
 * What the table files cannot hold, recorded in metadata.json: the positions of sequences that no column
 * uses (`sequences`; with --table the export is of some tables, and no such sequence is taken), and the
 * large objects --skip-large-objects leaves behind (a note).
 */
export async function recordWhatFilesCannotHold(
  client: pg.Client,
  settings: ExportSettings,
  plan: ExportPlan,
  manifest: ExportManifest,
  emit: (event: ExportEvent) => void,
): Promise<void> {
  const notes: string[] = [];
  if (plan.largeObjects.length > 0) {
    const columns = plan.largeObjects.map((c) => `${c.schema}.${c.table}.${c.column} (${c.objects})`);
    notes.push(
      `--skip-large-objects: the large objects named by ${columns.join(', ')} were not exported, only their oid values: in the target these name no object`,
    );
  }
  if (settings.tables.length === 0) {
    const { sequences, unreadable } = await standaloneSequences(client, settings.schemas);
    manifest.sequences = sequences;
    if (unreadable.length > 0) {
      notes.push(
        `sequences used by no column that this role may not read, not recorded: ${unreadable.join(', ')}`,
      );
    }
  }
  for (const message of notes) {
    if (manifest.notes.includes(message)) continue; // kept from the run a --resume finishes
    manifest.notes.push(message);
    emit({ type: 'note', message });
  }
}
