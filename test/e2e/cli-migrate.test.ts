import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { privateWorkDir } from '../../src/migrate/work-dir.js';
import { cli, noStack } from '../support/cli.js';
import { expectSameTables } from '../support/compare.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';
import { FaultProxy } from '../support/proxy.js';

const BIN = new URL('../../bin/supamigrate.js', import.meta.url).pathname;

interface MigrateJson {
  complete: boolean;
  workDir: string;
  workDirKept: boolean;
  schemaCreated: boolean;
  steps: { step: string; status: string; detail?: string }[];
  tables: { schema: string; name: string; rowCount: number }[];
  verify: { mode: string; ok: boolean } | null;
  failures: string[];
}

const parse = (stdout: string) => JSON.parse(stdout) as MigrateJson;
const stepsOf = (r: MigrateJson) => Object.fromEntries(r.steps.map((s) => [s.step, s.status]));

/** Every table of the source's application schemas (and auth.users), as the migrate moved them. */
async function appTables(client: pg.Client): Promise<{ schema: string; name: string }[]> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relispartition and n.nspname in ('public', 'billing') order by 1, 2`,
  );
  return rows;
}

describe('supamigrate migrate (the built CLI)', () => {
  let sourceUrl: string;
  let source: pg.Client;

  beforeAll(async () => {
    sourceUrl = await createFixtureDatabase('mig_src');
    source = await connectTo(sourceUrl);
  });

  it('into an empty database: the schema step creates the tables, the rows are the source rows, verify is clean', async () => {
    const targetUrl = await createDatabase('mig_fresh');
    const run = await cli([
      'migrate',
      '--db-url',
      sourceUrl,
      '--target-url',
      targetUrl,
      '--jobs',
      '2',
      '--json',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = parse(run.stdout);
    expect(result.complete).toBe(true);
    expect(result.schemaCreated).toBe(true);
    expect(stepsOf(result)).toEqual({
      connect: 'done',
      schema: 'done',
      data: 'done',
      'foreign keys': 'done',
      sequences: 'done',
      verify: 'done',
    });
    expect(result.verify).toMatchObject({ mode: 'checksums', ok: true });
    // The private work directory is gone at success.
    expect(result.workDirKept).toBe(false);
    await expect(stat(result.workDir)).rejects.toThrow();
    const target = await connectTo(targetUrl);
    const tables = await appTables(source);
    expect(tables.length).toBeGreaterThan(10);
    await expectSameTables(source, target, tables);
    // Sequences stand where the source's do: the next id is past every row.
    const next = await target.query<{ ok: boolean }>(
      `select nextval(pg_get_serial_sequence('public.sensor_readings', 'id')) > (select max(id) from public.sensor_readings) as ok`,
    );
    expect(next.rows[0]!.ok).toBe(true);
    // Again into the same target: it holds rows now, and the run says so before reading anything.
    const again = await cli(['migrate', '--db-url', sourceUrl, '--target-url', targetUrl]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^supamigrate: the target is not empty: .+ holds? rows; .+--truncate/m);
    noStack(again.stderr);
  }, 60_000);

  it('--keep-files into a target that has the schema: the schema step is skipped, verify accepts the directory', async () => {
    const targetUrl = await createDatabase('mig_keep');
    await createSampleSchema(targetUrl);
    // The users (as a new provider would have them): the foreign keys into auth.users hold.
    const ids = (await source.query<{ id: string }>('select id from auth.users')).rows.map((r) => r.id);
    await (await connectTo(targetUrl)).query('insert into auth.users (id) select unnest($1::uuid[])', [ids]);
    const dir = join(await tempDir('mig-keep'), 'kept');
    const run = await cli([
      'migrate',
      '--db-url',
      sourceUrl,
      '--target-url',
      targetUrl,
      '--keep-files',
      dir,
      '--verify',
      'counts',
      '--skip-auth',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^schema +skipped .+the target has \d+ of the application tables/m);
    expect(run.stdout).toMatch(/source and target have the same row counts/);
    expect(run.stdout).toContain(`The export is kept in ${dir}`);
    expect(await readdir(dir)).toContain('metadata.json');
    const verified = await cli(['verify', '-i', dir, '--db-url', sourceUrl, '--target-url', targetUrl]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/All \d+ tables match \(source, files, target\)/);
  }, 60_000);

  it('with a user map: the user ids in the target are the new ones (profiles.id), and verify maps them back', async () => {
    const targetUrl = await createDatabase('mig_map');
    const users = (
      await source.query<{ id: string; email: string | null }>('select id::text, email from auth.users')
    ).rows;
    const map = join(await tempDir('mig-map'), 'user-map.json');
    const newIds = new Map(users.map((u) => [u.id, randomUUID()]));
    await writeFile(
      map,
      JSON.stringify({
        mappings: users.map((u) => ({ oldId: u.id, newId: newIds.get(u.id), email: u.email })),
      }),
    );
    const run = await cli([
      'migrate',
      '--db-url',
      sourceUrl,
      '--target-url',
      targetUrl,
      '--user-map',
      map,
      '--json',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(parse(run.stdout).verify).toMatchObject({ mode: 'checksums', ok: true });
    const target = await connectTo(targetUrl);
    const before = (
      await source.query<{ id: string }>('select id::text as id from public.profiles order by id')
    ).rows;
    const after = (
      await target.query<{ id: string }>('select id::text as id from public.profiles order by id')
    ).rows;
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBe(before.length);
    expect(after.map((r) => r.id).sort()).toEqual(before.map((r) => newIds.get(r.id)).sort());
  }, 60_000);

  it('refuses a target that is the source (the same URL, or the same database behind another address) and an unreachable one', async () => {
    const same = await cli([
      'migrate',
      '--db-url',
      sourceUrl,
      '--target-url',
      sourceUrl.replace('127.0.0.1', 'localhost'),
    ]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/^supamigrate: the source and the target are the same database/m);
    const proxy = await FaultProxy.start(sourceUrl);
    try {
      const behind = await cli([
        'migrate',
        '--db-url',
        sourceUrl,
        '--target-url',
        proxy.url(sourceUrl),
        '--json',
      ]);
      expect(behind.code).toBe(2);
      expect(JSON.parse(behind.stdout).error.message).toMatch(
        /the source and the target are the same database/,
      );
    } finally {
      await proxy.close();
    }
    // An unreachable target: one line, exit 2, never the password, and no work directory left behind.
    const closed = 'postgresql://u:Very-Secret-9@127.0.0.1:1/x';
    const unreachable = await cli(['migrate', '--db-url', sourceUrl, '--target-url', closed]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(
      /^supamigrate: Cannot connect to the target database u@127\.0\.0\.1:1\/x: connection refused/m,
    );
    expect(unreachable.stderr + unreachable.stdout).not.toContain('Very-Secret-9');
    await expect(
      stat(privateWorkDir({ dbUrl: sourceUrl, targetUrl: closed, tempDir: undefined })),
    ).rejects.toThrow();
    // Nothing was left behind to resume.
    const resumed = await cli([
      'migrate',
      '--db-url',
      sourceUrl,
      '--target-url',
      proxy.url(sourceUrl),
      '--resume',
    ]);
    expect(resumed.stderr).toMatch(/nothing to resume/);
    noStack(resumed.stderr);
  }, 30_000);
});

const KILL_SCHEMA = `
  create schema extra;
  create table small (id int primary key, note text);
  create table big (id bigint generated by default as identity primary key, small_id int references small(id), hash text);
  create table extra.events (id serial primary key, big_id bigint references big(id), at timestamptz);
`;

async function sessionsGone(client: pg.Client): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where application_name = 'supamigrate' and datname = current_database()`,
    );
    if (rows[0]!.n === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the killed migrate left sessions behind for 10 s');
}

/** SIGKILL of `migrate` at a few moments of a run, each ending with `migrate --resume`: the source's exact rows. */
describe('migrate killed with SIGKILL, then --resume', () => {
  let sourceUrl: string;
  let source: pg.Client;

  beforeAll(async () => {
    sourceUrl = await createDatabase('mig_kill_src');
    source = await connectTo(sourceUrl);
    await source.query(KILL_SCHEMA);
    await source.query(`insert into small select i, 'n' || i from generate_series(1, 200) i;
      insert into big (small_id, hash) select 1 + i % 200, md5(i::text) from generate_series(1, 70000) i;
      insert into extra.events (big_id, at) select 1 + i % 70000, '2025-01-01'::timestamptz + i * interval '1 s' from generate_series(1, 30000) i;
      analyze;`);
  });

  it('kill at three moments, resume: the same rows, sequences past them, the work directory gone', async () => {
    const tables = [
      { schema: 'public', name: 'small' },
      { schema: 'public', name: 'big' },
      { schema: 'extra', name: 'events' },
    ];
    const args = (url: string) => [
      'migrate',
      '--db-url',
      sourceUrl,
      '--target-url',
      url,
      '--jobs',
      '2',
      '--split-rows',
      '30000',
    ];
    const first = await createDatabase('mig_kill_t0');
    const began = performance.now();
    const whole = await cli(args(first));
    expect(whole.code, whole.stdout + whole.stderr).toBe(0);
    const duration = performance.now() - began;
    const outcomes: string[] = [];
    const loadedAgain: number[] = [];
    for (const [trial, fraction] of [0.3, 0.55, 0.8].entries()) {
      const url = await createDatabase(`mig_kill_t${trial + 1}`);
      const target = await connectTo(url);
      const delay = Math.round(fraction * duration);
      const child = spawn('node', [BIN, ...args(url)], {
        stdio: 'ignore',
        env: { ...process.env, CI: 'true' },
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const killed = await Promise.race([
        new Promise<boolean>((r) => setTimeout(() => r(true), delay)),
        exited.then(() => false),
      ]);
      if (killed) child.kill('SIGKILL');
      await exited;
      await sessionsGone(target);
      await sessionsGone(source);
      let resumed = await cli([...args(url), '--resume', '--json']);
      // Killed before the run recorded itself (a new run starts over), or after it finished (nothing to do).
      if (/nothing to resume/.test(resumed.stderr)) {
        const done = await target.query(`select 1 from pg_tables where tablename = 'small'`);
        resumed = done.rowCount ? { code: 0, stdout: '', stderr: '' } : await cli([...args(url), '--json']);
      }
      expect(
        resumed.code,
        `trial ${trial + 1} (kill after ${delay} ms): ${resumed.stdout}${resumed.stderr}`,
      ).toBe(0);
      await expectSameTables(source, target, tables);
      // Keys set aside while their tables loaded are built, nothing is left aside.
      const keys = await target.query<{ n: number; aside: number }>(
        `select (select count(*)::int from pg_index where indrelid = 'big'::regclass and indisprimary) as n,
                (select count(*)::int from supamigrate.deferred_indexes) as aside`,
      );
      expect(keys.rows[0]).toEqual({ n: 1, aside: 0 });
      if (resumed.stdout)
        loadedAgain.push(
          (JSON.parse(resumed.stdout) as { import: { loaded: unknown[] } }).import.loaded.length,
        );
      const next = await target.query<{ ok: boolean }>(
        `select nextval(pg_get_serial_sequence('public.big', 'id')) > 70000 as ok`,
      );
      expect(next.rows[0]!.ok).toBe(true);
      await expect(
        stat(privateWorkDir({ dbUrl: sourceUrl, targetUrl: url, tempDir: undefined })),
      ).rejects.toThrow();
      outcomes.push(`${delay} ms${killed ? '' : ' (finished first)'}`);
    }
    expect(outcomes).toHaveLength(3);
    // Killed late (in verify), a resume loads nothing again: the tables the target committed are skipped.
    expect(Math.min(...loadedAgain), outcomes.join(', ')).toBeLessThan(tables.length);
  }, 90_000);

  it('a resume with other options than the first run is refused, naming them', async () => {
    const url = await createDatabase('mig_kill_opts');
    const dir = join(await tempDir('mig-opts'), 'work');
    await (await connectTo(url)).query(KILL_SCHEMA);
    await (await connectTo(url)).query(`insert into small values (1, 'in the way')`);
    const refused = await cli(['migrate', '--db-url', sourceUrl, '--target-url', url, '--keep-files', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the target is not empty: public\.small holds rows/);
    // Nothing recorded: --resume has nothing to finish.
    const nothing = await cli([
      'migrate',
      '--db-url',
      sourceUrl,
      '--target-url',
      url,
      '--keep-files',
      dir,
      '--resume',
    ]);
    expect(nothing.stderr).toMatch(/nothing to resume: no interrupted migrate/);
    // A run that stops mid-way, at the load (--truncate of small alone is refused: big references it): one
    // line naming the step and the kept work directory, exit 2, the target as it was.
    const base = ['migrate', '--db-url', sourceUrl, '--target-url', url, '--keep-files', dir];
    const stopped = await cli([...base, '--truncate', '--verify', 'counts', '--table', 'small']);
    expect(stopped.code).toBe(2);
    expect(stopped.stderr).toMatch(
      /^supamigrate: migrate stopped at the data step: --truncate: public\.big is not imported but references public\.small .+; the work directory .+ is kept: run the same command with --resume to finish$/m,
    );
    noStack(stopped.stderr);
    expect((await source.query('select 1')).rowCount).toBe(1);
    const inTheWay = await (await connectTo(url)).query<{ note: string }>('select note from small');
    expect(inTheWay.rows).toEqual([{ note: 'in the way' }]);
    const other = await cli([...base, '--resume', '--verify', 'none', '--table', 'big']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /cannot resume the migrate in .+ with other options than its first run: --table \["big"\] \(it used \["small"\]\), --verify "none" \(it used "counts"\), --truncate false \(it used true\)/,
    );
    const json = JSON.parse(await readFile(join(dir, 'migrate.json'), 'utf8')) as {
      source: { where: string };
    };
    expect(json.source.where).not.toMatch(/:[^@/]*@/);
  }, 60_000);
});
