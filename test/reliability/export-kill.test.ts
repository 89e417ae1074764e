import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

const BIN = new URL('../../bin/supamigrate.js', import.meta.url).pathname;
const SCHEMA = `
  create table small (id int primary key, note text);
  create table big (id bigint primary key, small_id int references small(id), hash text);
  create table nokey (n int, note text);
`;
/** SUPAMIGRATE_TRIALS raises it for a longer run (the figures in the notes); the suite keeps it short. */
const TRIALS = Number(process.env.SUPAMIGRATE_TRIALS ?? 6);
const EXPORT = ['--jobs', '2', '--split-rows', '15000', '--skip-auth'];

function start(args: string[]) {
  const child = spawn('node', [BIN, ...args], { stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

/**
 * SIGKILL of `export` at random moments while split tables are read on two connections, each trial
 * ending with `export --resume` and `verify` against the source (counts and checksums of every table):
 * whatever the moment, the resumed export holds the source's rows exactly.
 */
describe('export killed with SIGKILL at random moments', () => {
  let sourceUrl: string;
  let source: pg.Client;

  beforeAll(async () => {
    sourceUrl = await createDatabase('xkill_src');
    source = await connectTo(sourceUrl);
    await source.query(SCHEMA);
    await source.query(`insert into small select i, 'n' || i from generate_series(1, 100) i;
      insert into big select i, 1 + i % 100, md5(i::text) from generate_series(1, 120000) i;
      insert into nokey select i % 7, 'x' || i from generate_series(1, 60000) i; analyze;`);
  });

  it(`${TRIALS} trials: kill, export --resume, verify matches the source`, async () => {
    const base = await tempDir('xkill');
    const began = performance.now();
    const whole = await cli(['export', '--db-url', sourceUrl, '-o', join(base, 'whole'), ...EXPORT]);
    expect(whole.code, whole.stderr).toBe(0);
    const duration = performance.now() - began;
    const outcomes: string[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      const dir = join(base, `t${trial}`);
      const delay = Math.round(Math.random() * duration);
      const run = start(['export', '--db-url', sourceUrl, '-o', dir, ...EXPORT]);
      const killed = await Promise.race([
        new Promise<boolean>((r) => setTimeout(() => r(true), delay)),
        run.exited.then(() => false),
      ]);
      if (killed) run.child.kill('SIGKILL');
      const code = await run.exited;
      const context = `trial ${trial} (kill after ${delay} ms)`;
      // Killed before metadata.json: a fresh export; after: a resume; finished first: nothing to resume.
      const resumed = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--resume', ...EXPORT]);
      const again =
        resumed.code === 0
          ? resumed
          : await cli(['export', '--db-url', sourceUrl, '-o', dir, '--force', ...EXPORT]);
      expect(again.code, `${context}: ${resumed.stderr} ${again.stderr}`).toBe(0);
      if (resumed.code !== 0) {
        expect(resumed.stderr, context).toMatch(/no export to resume|nothing to resume|metadata\.json/);
      }
      const check = await cli(['verify', '-i', dir, '--db-url', sourceUrl]);
      expect(check.code, `${context}: ${check.stdout}${check.stderr}`).toBe(0);
      outcomes.push(`${delay} ms${killed ? '' : ` (finished first, exit ${code})`}`);
    }
    expect(outcomes).toHaveLength(TRIALS);
  });
});
