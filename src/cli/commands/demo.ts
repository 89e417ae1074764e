import type { Command } from 'commander';
import { runDemo } from '../../demo/demo.js';
import { displayName } from '../../pg/sql.js';
import { formatBytes, formatCount, textTable } from '../format.js';
import { OptionProblems } from '../options.js';
import { ProgressDisplay } from '../progress.js';
import { action, EXIT_FAILED } from '../run.js';
import { UsageError } from '../../errors.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a whole migration on an embedded PostgreSQL with Supabase-shaped sample data')
    .option('-o, --output-dir <path>', 'where the export goes', './migration-data-demo')
    .option('--readings <n>', 'sensor_readings rows in the sample database', '300000')
    .addHelpText('after', '\nExample:\n  npx supamigrate demo --readings 50000')
    .action(
      action(async (flags: { outputDir: string; readings: string }) => {
        const check = new OptionProblems();
        const readings = check.integer(flags.readings, '--readings', 0) ?? 0;
        if (check.problems.length > 0) throw new UsageError(check.problems);
        const display = new ProgressDisplay(process.stderr, 'exporting');
        const log = (m: string) => display.log(m);
        let result;
        try {
          result = await runDemo({
            outputDir: flags.outputDir,
            readings,
            log,
            onExportEvent: (event) => {
              if (event.type === 'table-start') display.start(displayName(event), event.rowCount);
              else if (event.type === 'table-progress') display.update(displayName(event), event.rows);
              else if (event.type === 'table-done' || event.type === 'table-failed') {
                display.finish(
                  displayName(event),
                  event.type === 'table-done'
                    ? `✓ ${displayName(event)}`
                    : `✗ ${displayName(event)}: ${event.error}`,
                );
              }
            },
          });
        } finally {
          display.stop();
        }
        const manifest = result.export.manifest!;
        const rows = manifest.tables.map((t) => [
          displayName(t),
          formatCount(t.rowCount),
          t.method,
          formatBytes(t.bytes ?? 0),
        ]);
        console.log(`\n${textTable(['table', 'rows', 'method', 'bytes'], rows, [1, 3])}`);
        console.log(
          `\nExported ${manifest.tables.length} tables and ${manifest.authUsers?.rowCount ?? 0} auth users to ${flags.outputDir} (metadata.json lists them).`,
        );
        if (result.export.failures.length > 0) {
          for (const f of result.export.failures) console.log(`✗ ${f.table}: ${f.error}`);
          return EXIT_FAILED;
        }
        return 0;
      }),
    );
}
