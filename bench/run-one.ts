/**
 * Runs one supamigrate operation in a fresh process and prints {seconds, maxRssMb} as JSON, so the
 * benchmark measures peak memory of that operation alone. Imports the built package (dist/), as users run it.
 */
import { exportDatabase } from '../dist/index.js';

const [operation, url, dir, table, jobs] = process.argv.slice(2);
if (operation !== 'export' || !url || !dir || !table) {
  console.error('usage: run-one export <url> <dir> <table> [jobs]');
  process.exit(2);
}
const started = performance.now();
const result = await exportDatabase({
  dbUrl: url,
  outputDir: dir,
  tables: [table],
  skipAuth: true,
  force: true,
  jobs: Number(jobs ?? 1),
});
const seconds = (performance.now() - started) / 1000;
if (result.failures.length > 0) {
  console.error(JSON.stringify(result.failures));
  process.exit(1);
}
const t = result.manifest!.tables[0]!;
console.log(
  JSON.stringify({
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rows: t.rowCount,
    bytes: t.bytes,
  }),
);
