/**
 * `npm run bench`: export speed and memory beside pg_dump, and import beside psql \copy, measured in the
 * same run on the same table.
 *
 * Environment: BENCH_DATABASE_URL (or TEST_DATABASE_URL; default postgresql://postgres@127.0.0.1:5432/postgres)
 * names a server on which a database `supamigrate_bench` is (re)created; BENCH_ROWS (default 3,000,000)
 * rows are generated; BENCH_RUNS (default 3) runs of each way are timed and their medians compared.
 * pg_dump and psql must be on PATH and able to talk to that server. Not a test: it prints figures, it asserts nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const ROWS = Number(process.env.BENCH_ROWS ?? 3_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Connections for export and import: the number of cores, as the CLI's default. */
const JOBS = Number(process.env.BENCH_JOBS ?? availableParallelism());
const baseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';
const DB = 'supamigrate_bench';
const TARGET_DB = 'supamigrate_bench_target';
const TABLE = 'sensor_readings';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const urlFor = (db: string) => Object.assign(new URL(baseUrl), { pathname: `/${db}` }).toString();

const DDL = `
  CREATE TABLE ${TABLE} (
    id bigserial PRIMARY KEY,
    device_id uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    value numeric(14,6),
    quality smallint,
    tags text[],
    payload jsonb
  )`;

async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  for (const db of [DB, TARGET_DB]) {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
  }
  await admin.end();
  const target = new pg.Client({ connectionString: urlFor(TARGET_DB) });
  await target.connect();
  await target.query(DDL);
  await target.end();
  const client = new pg.Client({ connectionString: urlFor(DB) });
  await client.connect();
  const started = performance.now();
  await client.query(`${DDL};
    INSERT INTO ${TABLE} (device_id, recorded_at, value, quality, tags, payload)
    SELECT md5((i % 500)::text)::uuid,
           timestamptz '2025-01-01 00:00:00+00' + i * interval '1.234567 second',
           round((random() * 100000)::numeric, 6),
           (i % 100)::smallint,
           ARRAY['zone-' || (i % 7), 'batch-' || (i % 13)],
           jsonb_build_object('temp', round((random() * 40)::numeric, 3), 'seq', i, 'ok', i % 5 <> 0)
      FROM generate_series(1, ${ROWS}) AS i;`);
  await client.query(`VACUUM ANALYZE ${TABLE}`);
  const size = (
    await client.query<{ s: string }>(`SELECT pg_size_pretty(pg_total_relation_size('${TABLE}')) AS s`)
  ).rows[0]!.s;
  console.log(
    `generated ${ROWS.toLocaleString('en-US')} rows (${size}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await client.end();
}

async function timePgDump(dir: string): Promise<{ seconds: number; bytes: number }> {
  const file = join(dir, 'dump.sql');
  const started = performance.now();
  await run('pg_dump', ['--data-only', '-t', TABLE, '-f', file, '-d', urlFor(DB)]);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, bytes: (await stat(file)).size };
}

interface Figures {
  seconds: number;
  maxRssMb: number;
  rows: number;
  bytes: number;
}

async function runOne(...args: string[]): Promise<Figures> {
  const script = new URL('./run-one.ts', import.meta.url).pathname;
  const { stdout } = await run('node', ['--import', 'tsx', script, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Figures;
}

const timeExport = (dir: string, jobs: number) =>
  runOne('export', urlFor(DB), join(dir, 'export'), TABLE, String(jobs));
const timeImport = (dir: string, jobs: number) =>
  runOne('import', urlFor(TARGET_DB), join(dir, 'export'), String(jobs));

/** psql \copy of COPY text into the same empty table: the import's baseline. */
async function timePsqlCopyIn(file: string): Promise<number> {
  await run('psql', ['-X', '-q', '-d', urlFor(TARGET_DB), '-c', `TRUNCATE ${TABLE}`]);
  const started = performance.now();
  await run('psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-d',
    urlFor(TARGET_DB),
    '-c',
    `\\copy ${TABLE} FROM '${file}'`,
  ]);
  return (performance.now() - started) / 1000;
}

async function main() {
  console.log(
    `supamigrate bench: ${ROWS.toLocaleString('en-US')} rows, ${RUNS} runs each, server ${new URL(baseUrl).host}`,
  );
  await setup();
  const dir = await mkdtemp(join(tmpdir(), 'supamigrate-bench-'));
  try {
    const dumps: number[] = [];
    const exports: Figures[] = [];
    let dumpBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so that a noisy moment of the machine hits both ways alike.
      const d = await timePgDump(dir);
      dumps.push(d.seconds);
      dumpBytes = d.bytes;
      exports.push(await timeExport(dir, JOBS));
    }
    const copyFile = join(dir, 'rows.copy');
    await run('psql', ['-X', '-q', '-d', urlFor(DB), '-c', `\\copy ${TABLE} TO '${copyFile}'`]);
    const copies: number[] = [];
    const imports: Figures[] = [];
    for (let i = 0; i < RUNS; i++) {
      copies.push(await timePsqlCopyIn(copyFile));
      imports.push(await timeImport(dir, JOBS));
    }
    const line = (label: string, seconds: number, bytes: number, runs: number[]) =>
      console.log(
        `${label.padEnd(34)} median ${seconds.toFixed(2)} s  (${(ROWS / seconds / 1000).toFixed(0)}k rows/s, ${(bytes / seconds / 1e6).toFixed(0)} MB/s)  runs ${runs.map((s) => s.toFixed(2)).join(' ')}`,
      );
    const dump = median(dumps);
    const exp = median(exports.map((e) => e.seconds));
    const copy = median(copies);
    const imp = median(imports.map((e) => e.seconds));
    const bytes = exports[0]!.bytes;
    const copyBytes = (await stat(copyFile)).size;
    console.log('');
    line('pg_dump --data-only', dump, dumpBytes, dumps);
    line(
      'supamigrate export (json)',
      exp,
      bytes,
      exports.map((e) => e.seconds),
    );
    console.log(
      `${'export / pg_dump'.padEnd(34)} ${(exp / dump).toFixed(2)}x   peak RSS ${Math.max(...exports.map((e) => e.maxRssMb)).toFixed(0)} MB`,
    );
    line('psql \\copy FROM (COPY text)', copy, copyBytes, copies);
    line(
      'supamigrate import (json)',
      imp,
      bytes,
      imports.map((e) => e.seconds),
    );
    console.log(
      `${'import / psql \\copy'.padEnd(34)} ${(imp / copy).toFixed(2)}x   peak RSS ${Math.max(...imports.map((e) => e.maxRssMb)).toFixed(0)} MB`,
    );
    // The target now holds the last import: verify source, files and target (counts and checksums).
    const verifies: Figures[] = [];
    for (let i = 0; i < RUNS; i++)
      verifies.push(await runOne('verify', urlFor(DB), join(dir, 'export'), urlFor(TARGET_DB)));
    const ver = median(verifies.map((v) => v.seconds));
    console.log(
      `${'supamigrate verify (src+files+tgt)'.padEnd(34)} median ${ver.toFixed(2)} s  (${(ROWS / ver / 1000).toFixed(0)}k rows/s per side)  runs ${verifies.map((v) => v.seconds.toFixed(2)).join(' ')}   peak RSS ${Math.max(...verifies.map((v) => v.maxRssMb)).toFixed(0)} MB`,
    );
    console.log(
      `${'file sizes'.padEnd(34)} export ${(bytes / 1e6).toFixed(0)} MB, pg_dump ${(dumpBytes / 1e6).toFixed(0)} MB, COPY text ${(copyBytes / 1e6).toFixed(0)} MB`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    for (const db of [DB, TARGET_DB]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
