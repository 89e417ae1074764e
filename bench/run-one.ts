/**
 * Runs one supamigrate operation in a fresh process and prints {seconds, maxRssMb, …} as JSON, so the
 * benchmark measures the peak memory of that operation alone. Imports the built package (dist/), as
 * users run it; the bench runs it transpiled, with plain node (a TypeScript loader would add its own memory). `seconds` counts the operation itself, not node's start nor the loading of modules.
 *
 *   run-one export --url <source> --dir <dir> [--table <name>] [--jobs N] [--compress gzip[:level]]
 *   run-one import --url <target> --dir <dir> [--jobs N]
 *   run-one verify --url <source> --dir <dir> --target <target>
 *   run-one migrate --url <source> --dir <temp dir> --target <target> [--jobs N]   (schema, data, no verify)
 */
import { parseArgs } from 'node:util';
// The modules of each operation, not dist/index.js: the CLI does not load what an operation does not use.
import { exportDatabase } from '../dist/export/export-database.js';
import { importDatabase } from '../dist/import/import-database.js';
import { migrate } from '../dist/migrate/migrate.js';
import { verify } from '../dist/verify/verify.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    dir: { type: 'string' },
    table: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    compress: { type: 'string' },
    target: { type: 'string' },
  },
});
const [operation] = positionals;
const { url, dir } = values;
if (!url || !dir) usage();
const jobs = Number(values.jobs);

async function runExport(): Promise<Record<string, number>> {
  const result = await exportDatabase({
    dbUrl: url!,
    outputDir: dir!,
    ...(values.table ? { tables: [values.table] } : {}),
    ...(values.compress ? { compress: values.compress } : {}),
    skipAuth: true,
    force: true,
    jobs,
  });
  if (result.failures.length > 0) throw new Error(JSON.stringify(result.failures));
  const tables = result.manifest!.tables;
  return {
    rows: tables.reduce((n, t) => n + t.rowCount, 0),
    bytes: tables.reduce((n, t) => n + (t.bytes ?? 0), 0),
  };
}

async function runImport(): Promise<Record<string, number>> {
  const result = await importDatabase({ targetUrl: url!, inputDir: dir!, truncate: true, jobs });
  if (result.failures.length > 0) throw new Error(JSON.stringify(result.failures));
  return { rows: result.loaded.reduce((n, l) => n + l.rows, 0) };
}

async function runVerify(): Promise<Record<string, number>> {
  if (!values.target) usage();
  const result = await verify({ dbUrl: url!, inputDir: dir!, targetUrl: values.target });
  if (!result.ok)
    throw new Error(
      `verify found differences: ${JSON.stringify(result.tables.filter((t) => t.status !== 'match'))}`,
    );
  return { rows: result.tables.reduce((n, t) => n + (t.sides.source?.rows ?? 0), 0) };
}

/** The whole move into an empty database, as pgcopydb clone does it: schema, data, sequences, no verify. */
async function runMigrate(): Promise<Record<string, number>> {
  if (!values.target) usage();
  const result = await migrate({
    dbUrl: url!,
    targetUrl: values.target,
    verify: 'none',
    jobs,
    tempDir: dir!,
  });
  if (!result.complete) throw new Error(`migrate incomplete: ${result.failures.join('; ')}`);
  return { rows: (result.export?.manifest?.tables ?? []).reduce((n, t) => n + t.rowCount, 0) };
}

function usage(): never {
  console.error(
    'usage: run-one export|import|verify|migrate --url <url> --dir <dir> [--table t] [--jobs n] [--compress gzip] [--target <url>]',
  );
  process.exit(2);
}

const operations: Record<string, () => Promise<Record<string, number>>> = {
  export: runExport,
  import: runImport,
  verify: runVerify,
  migrate: runMigrate,
};
const operate = operations[operation ?? ''] ?? usage();
const started = performance.now();
const figures = await operate();
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, ...figures }));
