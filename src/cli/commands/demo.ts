import { describeViolation } from '../../import/foreign-keys.js';
import type { Command } from 'commander';
import { runDemo } from '../../demo/demo.js';
import { displayName } from '../../pg/sql.js';
import { formatBytes, formatCount, textTable } from '../format.js';
import { prepareOutputDir } from '../../export/output-dir.js';
import { SettingsProblems } from '../../settings.js';
import { ProgressDisplay } from '../progress.js';
import { plural } from '../terminal.js';
import { action, EXIT_FAILED, interruption } from '../run.js';
import { progressHandler as importProgress } from './import.js';
import { tableLine } from './verify.js';
import { addS3Options, s3Sides, type S3SideFlags } from './migrate.js';

export function registerDemo(program: Command): void {
  const command = program
    .command('demo')
    .description('run a whole migration on an embedded PostgreSQL with Supabase-shaped sample data')
    .option('-o, --output-dir <path>', 'where the export goes', './migration-data-demo')
    .option('--readings <n>', 'sensor_readings rows in the sample database', '300000')
    .addHelpText('after', '\nExample:\n  npx supamigrate demo --readings 50000')
    .action(
      action(async (flags: { outputDir: string; readings: string } & S3SideFlags) => {
        const check = new SettingsProblems();
        const readings = check.integer(flags.readings, '--readings', 0, 0);
        const storage = s3Sides(flags, check);
        check.done();
        await prepareOutputDir(flags.outputDir);
        const display = new ProgressDisplay(process.stderr, 'exporting', '');
        let result;
        try {
          result = await runDemo({
            outputDir: flags.outputDir,
            readings,
            log: (m) => {
              display.log(m);
              if (m.endsWith('…')) display.phase(m.slice(0, -1), false);
            },
            onVerifyEvent: () => display.checkedTable(),
            onExportEvent: (event) => {
              if (!display.show(event) && event.type === 'table-done') {
                display.finish(displayName(event), `  exported ${displayName(event)}`);
              }
            },
            onImportEvent: importProgress(display),
            signal: interruption.signal,
            ...(storage ? { storage } : {}),
          });
        } finally {
          display.stop();
        }
        const manifest = result.export.manifest!;
        const imported = new Map((result.import?.loaded ?? []).map((l) => [displayName(l), l]));
        const rows = manifest.tables.map((t) => {
          const loaded = imported.get(displayName(t));
          return [
            displayName(t),
            formatCount(t.rowCount),
            t.method,
            formatBytes(t.bytes ?? 0),
            loaded ? formatCount(loaded.inserted) : '✗',
          ];
        });
        console.log(`\n${textTable(['table', 'exported', 'method', 'bytes', 'imported'], rows, [1, 3, 4])}`);
        console.log(
          `\nExported ${plural(manifest.tables.length, 'table')} and ${plural(manifest.authUsers?.rowCount ?? 0, 'auth user')} to ${flags.outputDir} (metadata.json lists them).`,
        );
        if (result.import) {
          console.log(
            `Imported them into a second database with the same schema: ${plural(result.import.loaded.length, 'table')}, ${plural(result.import.sequences.length, 'sequence')} set past their data, triggers held by ${result.import.triggerMode}.`,
          );
          const rewritten = result.import.userColumns.reduce((n, c) => n + c.rewritten, 0);
          const kept = result.import.userColumns.reduce((n, c) => n + c.unmatched, 0);
          console.log(
            `User ids: ${formatCount(rewritten)} values rewritten to the new provider's ids in ${result.import.userColumns.length} columns; ${formatCount(kept)} without a mapping kept as they were.`,
          );
        }
        if (result.verify) {
          console.log('\nVerify (source, files, target):');
          for (const t of result.verify.tables) console.log(tableLine(t));
          console.log(
            result.verify.ok
              ? `All ${plural(result.verify.tables.length, 'table')} match: same row counts and content checksums on all three sides.`
              : `${plural(result.verify.tables.filter((t) => t.status !== 'match').length, 'table')} DIFFER.`,
          );
        }
        if (result.storage) {
          const problems = result.storage.verify?.problems.length ?? 0;
          console.log(
            `\nStorage: ${plural(result.storage.objects, 'object')} (${formatBytes(result.storage.bytes)}) moved from ${flags.s3Endpoint} to ${flags.targetS3Endpoint}${result.storage.verify?.ok ? '; verified: every key, size and content hash the same' : `; ${plural(problems, 'difference')}`}.`,
          );
          for (const p of result.storage.verify?.problems ?? [])
            console.log(`✗ ${p.kind}: ${p.bucket}/${p.key}: ${p.detail}`);
        }
        const failures = [...result.export.failures, ...(result.import?.failures ?? [])];
        for (const f of result.storage?.failures ?? []) failures.push({ table: 'storage', error: f });
        if (result.storage?.verify && !result.storage.verify.ok)
          failures.push({ table: 'storage', error: 'the target S3 differs from the export' });
        for (const v of result.import?.violations ?? [])
          failures.push({ table: 'foreign key', error: describeViolation(v) });
        if (result.verify && !result.verify.ok)
          failures.push({ table: 'verify', error: 'source, files and target differ' });
        for (const f of failures) console.log(`✗ ${f.table}: ${f.error}`);
        return failures.length > 0 ? EXIT_FAILED : 0;
      }),
    );
  addS3Options(command, {
    source: 'also move sample storage files from this S3 endpoint (buckets supamigrate-demo-*)',
    target: 'to this S3 endpoint (buckets supamigrate-demo-*)',
  });
}
