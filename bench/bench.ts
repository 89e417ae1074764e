/**
 * `npm run bench`: every way of issue #14's comparison, measured in one run on one server — export beside
 * pg_dump and COPY, import beside psql \copy, the whole move beside pgcopydb clone and pg_dump | psql, on one
 * large table and on many small ones — with medians, the source server's CPU, our peak RSS and ratios.
 *
 * Environment: BENCH_DATABASE_URL (or TEST_DATABASE_URL; default postgresql://postgres@127.0.0.1:5432/postgres)
 * names a server on which the databases `supamigrate_bench*` are (re)created and dropped at the end;
 * BENCH_ROWS (default 3,000,000) rows are generated in the large table; BENCH_RUNS (default 3) runs of each
 * way are timed, the runs of a group's ways alternating, and their medians compared; BENCH_JOBS (default:
 * cores) connections for our export and import where not fixed. pg_dump and psql must be on PATH; pgcopydb
 * is skipped when it is not installed. BENCH_ONLY (e.g. `export,move`) runs only the groups whose names start
 * with one of its words (import loads what the export group wrote, so it needs that group too). Server CPU is read from /proc, so only for a server on this machine
 * whose data directory is readable. Not a test: it prints figures, it asserts nothing.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import ts from 'typescript';

const run = promisify(execFile);
const ROWS = Number(process.env.BENCH_ROWS ?? 3_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Connections for export and import where a way does not fix them: the number of cores, as the CLI's default. */
const JOBS = Number(process.env.BENCH_JOBS ?? availableParallelism());
const ONLY =
  process.env.BENCH_ONLY?.split(',')
    .map((w) => w.trim())
    .filter(Boolean) ?? [];
const SMALL_TABLES = 300;
const SMALL_ROWS = 2_000;
const baseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';
/** Every database the bench creates starts with this name (and is dropped at the end). */
const PREFIX = 'supamigrate_bench';
const DB = PREFIX;
const TARGET_DB = `${PREFIX}_target`;
const CLONE_DB = `${PREFIX}_clone`;
const SMALL_DB = `${PREFIX}_small`;
const SMALL_TARGET_DB = `${PREFIX}_small_target`;
const SMALL_CLONE_DB = `${PREFIX}_small_clone`;
const MIGRATE_DB = `${PREFIX}_migrate`;
const SMALL_MIGRATE_DB = `${PREFIX}_small_migrate`;
const DATABASES = [
  DB,
  TARGET_DB,
  CLONE_DB,
  SMALL_DB,
  SMALL_TARGET_DB,
  SMALL_CLONE_DB,
  MIGRATE_DB,
  SMALL_MIGRATE_DB,
];
const TABLE = 'sensor_readings';
const PGCOPYDB_MISSING = 'pgcopydb: not installed (apt-get install pgcopydb)';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const urlFor = (db: string) => Object.assign(new URL(baseUrl), { pathname: `/${db}` }).toString();
const smallTable = (i: number) => `items_${String(i).padStart(3, '0')}`;
const smallTables = Array.from({ length: SMALL_TABLES }, (_, i) => smallTable(i + 1));

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

// ---- processes ----------------------------------------------------------------------------------------

/** Runs a program to its end; its output is kept (up to 64 MB) and shown only when it fails. */
async function sh(program: string, args: string[]): Promise<string> {
  try {
    return (await run(program, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${program} failed: ${e.message}\n${(e.stderr ?? '').slice(-2000)}`);
  }
}

const psql = (db: string, ...args: string[]) =>
  sh('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', urlFor(db), ...args]);

/** A shell pipeline, failing when any of its commands fails. */
const pipeline = (command: string) => sh('bash', ['-o', 'pipefail', '-c', command]);

/** What one timed run tells beyond its wall time: our own runs report their seconds and peak RSS. */
interface Outcome {
  seconds?: number;
  maxRssMb?: number;
  bytes?: number;
}

let runOneScript: string | null = null;

/** run-one.ts as JavaScript beside the bench's files: run with plain node, no loader in its memory. */
async function runOneScriptPath(): Promise<string> {
  if (runOneScript) return runOneScript;
  const source = await readFile(new URL('./run-one.ts', import.meta.url), 'utf8');
  const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
  const js = ts
    .transpileModule(source, { compilerOptions: options })
    .outputText.replaceAll("'../dist/", `'${new URL('../dist/', import.meta.url).href}`);
  const dir = await mkdtemp(join(tmpdir(), 'supamigrate-bench-run-one-'));
  runOneScript = join(dir, 'run-one.mjs');
  await writeFile(runOneScript, js);
  return runOneScript;
}

/** One supamigrate operation in its own process (run-one.ts), for its peak RSS alone. */
async function runOne(...args: string[]): Promise<Outcome> {
  const stdout = await sh('node', [await runOneScriptPath(), ...args]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
}

const ourExport = (db: string, dir: string, ...args: string[]) =>
  runOne('export', '--url', urlFor(db), '--dir', dir, ...args);
const ourImport = (db: string, dir: string) =>
  runOne('import', '--url', urlFor(db), '--dir', dir, '--jobs', String(JOBS));

/** Export then import, as one figure: seconds summed, the larger peak RSS. */
async function ourMove(
  source: string,
  target: string,
  dir: string,
  ...exportArgs: string[]
): Promise<Outcome> {
  const e = await ourExport(source, dir, '--jobs', String(JOBS), ...exportArgs);
  const i = await ourImport(target, dir);
  return { seconds: e.seconds! + i.seconds!, maxRssMb: Math.max(e.maxRssMb!, i.maxRssMb!), bytes: e.bytes };
}

/** `supamigrate migrate --verify none` into an empty database (its schema step runs), as pgcopydb clone. */
const ourMigrate = (source: string, target: string, dir: string) =>
  runOne(
    'migrate',
    '--url',
    urlFor(source),
    '--target',
    urlFor(target),
    '--dir',
    dir,
    '--jobs',
    String(JOBS),
  );

/** Bytes of a file, or of every file under a directory. */
async function sizeOf(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

async function pgcopydbInstalled(): Promise<boolean> {
  try {
    await run('pgcopydb', ['--version']);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

const pgcopydbClone = async (source: string, target: string, workDir: string): Promise<Outcome> => {
  await sh('pgcopydb', [
    'clone',
    '--source',
    urlFor(source),
    '--target',
    urlFor(target),
    '--dir',
    workDir,
    '--no-owner',
    '--no-acl',
  ]);
  return {};
};

// ---- the server: one monitoring connection, and its CPU ------------------------------------------------

/**
 * One connection kept open for the whole bench: it (re)creates databases and watches for the bench's
 * backends to end. Its own CPU is not counted: the postmaster counts a backend's CPU when it reaps it.
 */
class Server {
  private constructor(
    private readonly client: pg.Client,
    /** /proc/<postmaster pid>/stat, or why the server's CPU cannot be read. */
    readonly cpu: { statFile: string; ticksPerSecond: number } | { unavailable: string },
  ) {}

  static async open(): Promise<Server> {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    return new Server(client, await postmasterStat(client));
  }

  async recreate(db: string): Promise<void> {
    await this.client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await this.client.query(`CREATE DATABASE ${db}`);
  }

  async dropAll(): Promise<void> {
    for (const db of DATABASES) await this.client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }

  async close(): Promise<void> {
    await this.client.end();
  }

  /** Waits until no backend of the bench's databases is left, so that the postmaster has reaped them all. */
  async settle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const { rows } = await this.client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE '${PREFIX}%' AND pid <> pg_backend_pid()`,
      );
      if (rows[0]!.n === 0) break;
      await sleep(10);
    }
    await sleep(50); // a backend leaves pg_stat_activity just before it exits and is reaped
  }

  /** Seconds of CPU of the postmaster's reaped children (cutime + cstime), or null. */
  async cpuSeconds(): Promise<number | null> {
    if ('unavailable' in this.cpu) return null;
    const stat = await readFile(this.cpu.statFile, 'utf8');
    // Fields after "(comm)" start at field 3; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / this.cpu.ticksPerSecond;
  }
}

async function postmasterStat(client: pg.Client): Promise<Server['cpu']> {
  const host = new URL(baseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1', ''].includes(host))
    return { unavailable: `the server (${host}) is not on this machine` };
  try {
    const { rows } = await client.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`);
    const pidFile = join(rows[0]!.d, 'postmaster.pid');
    const pid = (await readFile(pidFile, 'utf8')).split('\n')[0]!.trim();
    const statFile = `/proc/${pid}/stat`;
    await readFile(statFile, 'utf8');
    const ticksPerSecond = Number((await sh('getconf', ['CLK_TCK'])).trim());
    return { statFile, ticksPerSecond };
  } catch (err) {
    return { unavailable: (err as Error).message.split('\n')[0]! };
  }
}

// ---- data -----------------------------------------------------------------------------------------------

async function generateLargeTable(server: Server): Promise<void> {
  for (const db of [DB, TARGET_DB, CLONE_DB]) await server.recreate(db);
  const started = performance.now();
  await psql(TARGET_DB, '-c', DDL);
  const client = new pg.Client({ connectionString: urlFor(DB) });
  await client.connect();
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
  await client.end();
  console.log(
    `generated ${TABLE}: ${ROWS.toLocaleString('en-US')} rows (${size}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** SMALL_TABLES tables of SMALL_ROWS rows; the target gets their schema (our import needs it there). */
async function generateSmallTables(server: Server): Promise<void> {
  for (const db of [SMALL_DB, SMALL_TARGET_DB, SMALL_CLONE_DB]) await server.recreate(db);
  await psql(
    SMALL_DB,
    '-c',
    `DO $$ DECLARE t text; BEGIN
       FOR i IN 1..${SMALL_TABLES} LOOP
         t := 'items_' || lpad(i::text, 3, '0');
         EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, name text NOT NULL, value numeric(12,4),
                         created_at timestamptz NOT NULL, payload jsonb)', t);
         EXECUTE format('INSERT INTO %I SELECT g, ''name-'' || g, round((random() * 1000)::numeric, 4),
                         timestamptz ''2025-01-01'' + g * interval ''1 minute'', jsonb_build_object(''n'', g)
                         FROM generate_series(1, ${SMALL_ROWS}) AS g', t);
       END LOOP; END $$`,
    '-c',
    'VACUUM ANALYZE',
  );
  await pipeline(
    `pg_dump --schema-only -d '${urlFor(SMALL_DB)}' | psql -X -q -v ON_ERROR_STOP=1 -d '${urlFor(SMALL_TARGET_DB)}' >/dev/null`,
  );
  console.log(`generated ${SMALL_TABLES} tables × ${SMALL_ROWS.toLocaleString('en-US')} rows`);
}

// ---- the ways -------------------------------------------------------------------------------------------

interface Way {
  group: string;
  label: string;
  /** The label of the way (in the same group) this one's ratios are to; none for a baseline. */
  baseline?: string;
  /** Why this way is not run (a peer not installed). */
  skip?: string;
  /** Untimed, before every run. */
  prepare?: () => Promise<void>;
  /** Timed. Wall time is its own `seconds` when it reports them (our runs), else measured around it. */
  run: () => Promise<Outcome>;
}

function ways(server: Server, dir: string, pgcopydb: boolean): Way[] {
  const at = (name: string) => join(dir, name);
  const noPgcopydb = pgcopydb ? {} : { skip: PGCOPYDB_MISSING };
  const emptyTarget = () => psql(TARGET_DB, '-c', `TRUNCATE ${TABLE}`).then(() => undefined);
  const emptySmallTarget = () =>
    psql(SMALL_TARGET_DB, '-c', `TRUNCATE ${smallTables.join(', ')}`).then(() => undefined);
  const fresh = (db: string, workDir: string) => async () => {
    await server.recreate(db);
    await rm(workDir, { recursive: true, force: true });
  };
  const written = async (path: string): Promise<Outcome> => ({ bytes: await sizeOf(path) });
  const ourExportOf =
    (name: string, ...args: string[]) =>
    async () => {
      const outcome = await ourExport(DB, at(name), '--table', TABLE, ...args);
      return { ...outcome, bytes: await sizeOf(at(name)) };
    };

  const EXPORT = `export ${TABLE}`;
  const IMPORT = `import ${TABLE} (empty, primary key)`;
  const MOVE = `move ${TABLE} (export + import)`;
  const SMALL = `move ${SMALL_TABLES} tables × ${SMALL_ROWS.toLocaleString('en-US')} rows`;
  const PG_DUMP = 'pg_dump --data-only -t';
  const COPY_TEXT = 'psql \\copy FROM, text';
  const CLONE = 'pgcopydb clone';
  const DUMP_PIPE = 'pg_dump | psql';
  return [
    {
      group: EXPORT,
      label: PG_DUMP,
      run: () =>
        sh('pg_dump', ['--data-only', '-t', TABLE, '-f', at('dump.sql'), '-d', urlFor(DB)]).then(() =>
          written(at('dump.sql')),
        ),
    },
    {
      group: EXPORT,
      label: 'COPY TO STDOUT text → /dev/null',
      baseline: PG_DUMP,
      run: () => psql(DB, '-o', '/dev/null', '-c', `COPY ${TABLE} TO STDOUT`).then(() => ({})),
    },
    {
      group: EXPORT,
      label: 'COPY TO STDOUT binary → /dev/null',
      baseline: PG_DUMP,
      run: () =>
        psql(DB, '-o', '/dev/null', '-c', `COPY ${TABLE} TO STDOUT (FORMAT binary)`).then(() => ({})),
    },
    {
      group: EXPORT,
      label: 'supamigrate export --jobs 1',
      baseline: PG_DUMP,
      run: ourExportOf('export-1', '--jobs', '1'),
    },
    {
      group: EXPORT,
      label: 'supamigrate export --jobs 2',
      baseline: PG_DUMP,
      run: ourExportOf('export-2', '--jobs', '2'),
    },
    {
      group: EXPORT,
      label: 'pg_dump -Fd (gzip)',
      prepare: () => rm(at('dump-fd'), { recursive: true, force: true }),
      run: () =>
        sh('pg_dump', ['-Fd', '--data-only', '-t', TABLE, '-f', at('dump-fd'), '-d', urlFor(DB)]).then(() =>
          written(at('dump-fd')),
        ),
    },
    {
      group: EXPORT,
      label: `supamigrate export --compress gzip --jobs ${JOBS}`,
      baseline: 'pg_dump -Fd (gzip)',
      run: ourExportOf('export-gz', '--compress', 'gzip', '--jobs', String(JOBS)),
    },

    {
      group: IMPORT,
      label: COPY_TEXT,
      prepare: emptyTarget,
      run: () => psql(TARGET_DB, '-c', `\\copy ${TABLE} FROM '${at('rows.copy')}'`).then(() => ({})),
    },
    {
      group: IMPORT,
      label: 'psql \\copy FROM, binary',
      baseline: COPY_TEXT,
      prepare: emptyTarget,
      run: () =>
        psql(TARGET_DB, '-c', `\\copy ${TABLE} FROM '${at('rows.bin')}' (FORMAT binary)`).then(() => ({})),
    },
    // The export is the one `supamigrate export --jobs 2` wrote, above.
    {
      group: IMPORT,
      label: `supamigrate import --jobs ${JOBS}`,
      baseline: COPY_TEXT,
      prepare: emptyTarget,
      run: () => ourImport(TARGET_DB, at('export-2')),
    },

    {
      group: MOVE,
      label: CLONE,
      ...noPgcopydb,
      prepare: fresh(CLONE_DB, at('pgcopydb')),
      run: () => pgcopydbClone(DB, CLONE_DB, at('pgcopydb')),
    },
    {
      group: MOVE,
      label: `supamigrate export + import --jobs ${JOBS}`,
      baseline: CLONE,
      prepare: emptyTarget,
      run: () => ourMove(DB, TARGET_DB, at('move'), '--table', TABLE),
    },
    {
      group: MOVE,
      label: `supamigrate migrate --jobs ${JOBS} --verify none (empty database)`,
      baseline: CLONE,
      prepare: fresh(MIGRATE_DB, at('migrate')),
      run: () =>
        mkdir(at('migrate'), { recursive: true }).then(() => ourMigrate(DB, MIGRATE_DB, at('migrate'))),
    },
    {
      group: 'verify (after the move)',
      label: 'supamigrate verify (source, files, target)',
      run: () => runOne('verify', '--url', urlFor(DB), '--dir', at('move'), '--target', urlFor(TARGET_DB)),
    },

    {
      group: SMALL,
      label: DUMP_PIPE,
      prepare: fresh(SMALL_CLONE_DB, at('none')),
      run: () =>
        pipeline(
          `pg_dump -d '${urlFor(SMALL_DB)}' | psql -X -q -v ON_ERROR_STOP=1 -d '${urlFor(SMALL_CLONE_DB)}' >/dev/null`,
        ).then(() => ({})),
    },
    {
      group: SMALL,
      label: CLONE,
      baseline: DUMP_PIPE,
      ...noPgcopydb,
      prepare: fresh(SMALL_CLONE_DB, at('pgcopydb-small')),
      run: () => pgcopydbClone(SMALL_DB, SMALL_CLONE_DB, at('pgcopydb-small')),
    },
    {
      group: SMALL,
      label: `supamigrate export + import --jobs ${JOBS}`,
      baseline: DUMP_PIPE,
      prepare: emptySmallTarget,
      run: () => ourMove(SMALL_DB, SMALL_TARGET_DB, at('move-small')),
    },
    {
      group: SMALL,
      label: `supamigrate migrate --jobs ${JOBS} --verify none (empty database)`,
      baseline: DUMP_PIPE,
      prepare: fresh(SMALL_MIGRATE_DB, at('migrate-small')),
      run: () =>
        mkdir(at('migrate-small'), { recursive: true }).then(() =>
          ourMigrate(SMALL_DB, SMALL_MIGRATE_DB, at('migrate-small')),
        ),
    },
  ];
}

// ---- measuring and printing -----------------------------------------------------------------------------

interface Measured {
  way: Way;
  walls: number[];
  /** Server CPU seconds per run; empty when unavailable. */
  cpus: number[];
  rss: number[];
  bytes?: number;
}

async function measureOnce(server: Server, way: Way, into: Measured): Promise<void> {
  await way.prepare?.();
  await server.settle();
  const cpuBefore = await server.cpuSeconds();
  const started = performance.now();
  const outcome = await way.run();
  const wall = outcome.seconds ?? (performance.now() - started) / 1000;
  await server.settle();
  const cpuAfter = await server.cpuSeconds();
  into.walls.push(wall);
  if (cpuBefore !== null && cpuAfter !== null) into.cpus.push(cpuAfter - cpuBefore);
  if (outcome.maxRssMb !== undefined) into.rss.push(outcome.maxRssMb);
  if (outcome.bytes !== undefined) into.bytes = outcome.bytes;
}

/** The runs of a group's ways alternate, so that a noisy moment of the machine hits every way alike. */
async function measureGroup(server: Server, group: Way[]): Promise<Measured[]> {
  const measured = group.map((way) => ({ way, walls: [], cpus: [], rss: [] }) as Measured);
  for (let i = 0; i < RUNS; i++)
    for (const m of measured) {
      if (m.way.skip) continue;
      await measureOnce(server, m.way, m);
      console.error(`  [${i + 1}/${RUNS}] ${m.way.group}: ${m.way.label}: ${m.walls.at(-1)!.toFixed(2)} s`);
    }
  return measured;
}

const seconds = (s: number | undefined) => (s === undefined ? '—' : `${s.toFixed(2)} s`);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;
const medianOf = (xs: number[]) => (xs.length > 0 ? median(xs) : undefined);

function printGroup(measured: Measured[]): void {
  const COLUMNS: [string, number][] = [
    ['way', 50],
    ['wall', 9],
    ['server CPU', 11],
    ['peak RSS', 9],
    ['size', 8],
    ['× wall', 7],
    ['× CPU', 7],
    ['× size', 7],
    ['runs (wall)', 0],
  ];
  const line = (cells: string[]) =>
    console.log(
      cells
        .map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]![1]) : c.padStart(COLUMNS[i]![1])))
        .join('  ')
        .trimEnd(),
    );
  console.log(`\n${measured[0]!.way.group}`);
  line(COLUMNS.map(([name]) => name));
  for (const m of measured) {
    if (m.way.skip) {
      console.log(`${m.way.label.padEnd(50)}  skipped: ${m.way.skip}`);
      continue;
    }
    const base = measured.find((b) => b.way.label === m.way.baseline && !b.way.skip);
    const rss = m.rss.length > 0 ? `${Math.max(...m.rss).toFixed(0)} MB` : '—';
    const size = m.bytes === undefined ? '—' : `${(m.bytes / 1e6).toFixed(0)} MB`;
    line([
      m.way.label + (measured.some((o) => o.way.baseline === m.way.label) ? ' (baseline)' : ''),
      seconds(medianOf(m.walls)),
      seconds(medianOf(m.cpus)),
      rss,
      size,
      base ? ratio(medianOf(m.walls), medianOf(base.walls)) : '',
      base ? ratio(medianOf(m.cpus), medianOf(base.cpus)) : '',
      base && m.bytes !== undefined ? ratio(m.bytes, base.bytes) : '',
      m.walls.map((w) => w.toFixed(2)).join(' '),
    ]);
  }
}

async function main() {
  console.log(
    `supamigrate bench: ${ROWS.toLocaleString('en-US')} rows, ${RUNS} run(s) of each way (interleaved), --jobs ${JOBS} where not fixed, server ${new URL(baseUrl).host}`,
  );
  const server = await Server.open();
  const dir = await mkdtemp(join(tmpdir(), 'supamigrate-bench-'));
  try {
    const pgcopydb = await pgcopydbInstalled();
    if (!pgcopydb) console.log(`${PGCOPYDB_MISSING}: its ways are skipped`);
    console.log(
      'unavailable' in server.cpu
        ? `server CPU: n/a (${server.cpu.unavailable})`
        : `server CPU: CPU of the backends the postmaster reaped during a run (${server.cpu.statFile}, fields 16+17)`,
    );
    await generateLargeTable(server);
    await psql(DB, '-c', `\\copy ${TABLE} TO '${join(dir, 'rows.copy')}'`);
    await psql(DB, '-c', `\\copy ${TABLE} TO '${join(dir, 'rows.bin')}' (FORMAT binary)`);
    const all = ways(server, dir, pgcopydb).filter(
      (w) => ONLY.length === 0 || ONLY.some((word) => w.group.startsWith(word)),
    );
    if (all.some((w) => w.group.includes(`${SMALL_TABLES} tables`))) await generateSmallTables(server);

    const groups = [...new Set(all.map((w) => w.group))].map((g) => all.filter((w) => w.group === g));
    const results: Measured[][] = [];
    for (const group of groups) results.push(await measureGroup(server, group));
    console.log(
      `\nmedians of ${RUNS} run(s); wall of supamigrate rows: the operation in its process (not node's start); × = ratio to the group's baseline`,
    );
    for (const measured of results) printGroup(measured);
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (runOneScript) await rm(dirname(runOneScript), { recursive: true, force: true });
    await server.dropAll();
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
