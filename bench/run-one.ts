/**
 * Runs one supamigrate operation in a fresh process and prints {seconds, maxRssMb, …} as JSON, so the
 * benchmark measures the peak memory of that operation alone. Imports the built package (dist/), as
 * users run it.
 *
 *   run-one export <source-url> <dir> <table> [jobs]
 *   run-one import <target-url> <dir> [jobs]
 *   run-one verify <source-url> <dir> <target-url>
 */
import { exportDatabase, importDatabase, verify } from '../dist/index.js';

const [operation, url, dir, ...rest] = process.argv.slice(2);
const started = performance.now();
let figures: Record<string, number>;
if (operation === 'export' && url && dir && rest[0]) {
  const result = await exportDatabase({
    dbUrl: url,
    outputDir: dir,
    tables: [rest[0]],
    skipAuth: true,
    force: true,
    jobs: Number(rest[1] ?? 1),
  });
  if (result.failures.length > 0) throw new Error(JSON.stringify(result.failures));
  const t = result.manifest!.tables[0]!;
  figures = { rows: t.rowCount, bytes: t.bytes ?? 0 };
} else if (operation === 'import' && url && dir) {
  const result = await importDatabase({
    targetUrl: url,
    inputDir: dir,
    truncate: true,
    jobs: Number(rest[0] ?? 1),
  });
  if (result.failures.length > 0) throw new Error(JSON.stringify(result.failures));
  figures = { rows: result.loaded.reduce((n, l) => n + l.rows, 0) };
} else if (operation === 'verify' && url && dir && rest[0]) {
  const result = await verify({ dbUrl: url, inputDir: dir, targetUrl: rest[0] });
  if (!result.ok)
    throw new Error(
      `verify found differences: ${JSON.stringify(result.tables.filter((t) => t.status !== 'match'))}`,
    );
  figures = { rows: result.tables.reduce((n, t) => n + (t.sides.source?.rows ?? 0), 0) };
} else {
  console.error('usage: run-one export <url> <dir> <table> [jobs] | run-one import <url> <dir> [jobs]');
  process.exit(2);
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, ...figures }));
