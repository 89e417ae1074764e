import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDatabase } from '../../src/import/import-database.js';
import { verify } from '../../src/verify/verify.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

const BIN = new URL('../../bin/supamigrate.js', import.meta.url).pathname;
const SCHEMA = `
  create table small (id int primary key, note text);
  create table big (id bigint primary key, small_id int references small(id), hash text, pad text, at timestamptz);
`;
const ROWS = 400_000;

/** Starts the CLI; resolves its exit code and signal. */
function start(args: string[]) {
  const child = spawn('node', [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const partials = async (dir: string) =>
  (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.partial'));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('interrupted runs', () => {
  let sourceUrl: string;
  let source: pg.Client;

  beforeAll(async () => {
    sourceUrl = await createDatabase('int_src');
    source = await connectTo(sourceUrl);
    await source.query(SCHEMA);
    await source.query(`insert into small select i, 'n' || i from generate_series(1, 100) i;
      insert into big select i, 1 + i % 100, md5(i::text), repeat('x', 300), timestamptz '2025-01-01' + i * interval '1 s'
        from generate_series(1, ${ROWS}) i; analyze;`);
  });

  it('export killed with SIGKILL leaves nothing that looks complete; --resume finishes it and verify passes', async () => {
    const dir = join(await tempDir('kill-export'), 'out');
    const run = start([
      'export',
      '--db-url',
      sourceUrl,
      '-o',
      dir,
      '--jobs',
      '2',
      '--split-rows',
      '100000',
      '--skip-auth',
    ]);
    // metadata.json is written before the first data file is opened; both are waited for all the same.
    await waitFor(
      'a file being written',
      async () => (await partials(dir)).length > 0 && (await readdir(dir)).includes('metadata.json'),
    );
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    const manifest = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as {
      completedAt: string | null;
      tables: { name: string; state: string; parts?: { file: string; state: string }[] }[];
    };
    expect(manifest.completedAt).toBeNull();
    const big = manifest.tables.find((t) => t.name === 'big')!;
    expect(big.state).not.toBe('complete');
    const files = await readdir(dir);
    for (const part of big.parts ?? []) {
      if (part.state !== 'complete') expect(files).not.toContain(part.file);
    }
    const resumed = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--resume', '--jobs', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed/);
    expect(await partials(dir)).toEqual([]);
    const report = await verify({ inputDir: dir, dbUrl: sourceUrl });
    expect(report.tables.map((t) => [t.name, t.status])).toEqual([
      ['small', 'match'],
      ['big', 'match'],
    ]);
  });

  it('export: a connection killed with pg_terminate_backend mid-part is retried in the same snapshot', async () => {
    const dir = join(await tempDir('term-export'), 'out');
    const run = start([
      'export',
      '--db-url',
      sourceUrl,
      '-o',
      dir,
      '--jobs',
      '2',
      '--split-rows',
      '100000',
      '--skip-auth',
    ]);
    await waitFor('two COPY sessions', async () => {
      const { rows } = await source.query(
        `select pid from pg_stat_activity where query like 'COPY (SELECT%' and state = 'active' and datname = current_database() order by pid desc`,
      );
      if (rows.length < 2) return false;
      await source.query('select pg_terminate_backend($1)', [rows[0].pid]);
      return true;
    });
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toMatch(/public\.big: .*retrying on a new connection \(1 of 2\)/);
    const report = await verify({ inputDir: dir, dbUrl: sourceUrl });
    expect(report.ok).toBe(true);
  });

  it('export stopped with SIGINT exits 130, removes its unfinished files, and leaves no process', async () => {
    const dir = join(await tempDir('int-export'), 'out');
    const run = start(['export', '--db-url', sourceUrl, '-o', dir, '--jobs', '1', '--skip-auth']);
    await waitFor('a file being written', async () => (await partials(dir)).length > 0);
    run.child.kill('SIGINT');
    const exit = await run.exited;
    expect(exit.code).toBe(130);
    expect(exit.stderr).toMatch(/export interrupted: .* finish it with supamigrate export --resume/);
    expect(exit.stderr).not.toMatch(/^\s+at /m);
    expect(alive(run.child.pid!)).toBe(false);
    expect(await partials(dir)).toEqual([]);
    const manifest = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as {
      completedAt: string | null;
    };
    expect(manifest.completedAt).toBeNull();
    // Its server sessions end with it (the server notices the closed socket within moments).
    const sessions = async () =>
      (
        await source.query(
          `select count(*)::int as n from pg_stat_activity where application_name = 'supamigrate' and datname = current_database()`,
        )
      ).rows[0].n as number;
    await waitFor('its sessions to end', async () => (await sessions()) === 0, 10_000);
  });

  describe('import', () => {
    let dir: string;
    beforeAll(async () => {
      dir = join(await tempDir('imp-src'), 'out');
      const run = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--jobs', '1', '--skip-auth']);
      expect(run.code).toBe(0);
    });

    it('killed with SIGKILL mid-table: the table rolls back, --resume finishes, verify passes', async () => {
      const targetUrl = await createDatabase('int_kill_tgt');
      const target = await connectTo(targetUrl);
      await target.query(SCHEMA);
      const run = start(['import', '-i', dir, '--target-url', targetUrl, '--jobs', '1']);
      await waitFor('the COPY into big', async () => {
        const { rows } = await target.query(
          `select count(*)::int as n from pg_stat_activity where query like 'COPY "public"."big"%' and state = 'active'`,
        );
        return rows[0].n > 0;
      });
      run.child.kill('SIGKILL');
      await run.exited;
      await waitFor('the server to end the dead session', async () => {
        const { rows } = await target.query(
          `select count(*)::int as n from pg_stat_activity where query like 'COPY "public"."big"%'`,
        );
        return rows[0].n === 0;
      });
      expect((await target.query('select count(*)::int as n from big')).rows[0].n).toBe(0);
      const state = JSON.parse(await readFile(join(dir, 'import-state.json'), 'utf8')) as {
        tables: Record<string, unknown>;
      };
      expect(Object.keys(state.tables)).toEqual([JSON.stringify(['public', 'small'])]);
      const resumed = await cli(['import', '-i', dir, '--target-url', targetUrl, '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/Imported 1 table;/);
      const report = await verify({ inputDir: dir, targetUrl, dbUrl: sourceUrl });
      expect(report.ok).toBe(true);
    });

    it('a connection killed with pg_terminate_backend fails the table clearly; --retries retries it', async () => {
      for (const retries of [0, 2]) {
        const targetUrl = await createDatabase(`int_term_${retries}`);
        const target = await connectTo(targetUrl);
        await target.query(SCHEMA);
        let terminated = 0;
        const killer = (async () => {
          await waitFor('the COPY into big', async () => {
            const { rows } = await target.query(
              `select pg_terminate_backend(pid) as t from pg_stat_activity where query like 'COPY "public"."big"%' and state = 'active' and datname = current_database()`,
            );
            terminated += rows.length;
            return rows.length > 0;
          });
        })();
        const result = await importDatabase({ targetUrl, inputDir: dir, retries, jobs: 1 });
        await killer;
        expect(terminated).toBeGreaterThan(0);
        if (retries === 0) {
          expect(result.failures).toEqual([
            {
              table: 'public.big',
              error: expect.stringMatching(
                /public\.big\.json: the connection to the target was lost \(.*\); the table was rolled back: run the import again with --resume/,
              ),
            },
          ]);
          expect((await target.query('select count(*)::int as n from big')).rows[0].n).toBe(0);
          const resumed = await importDatabase({ targetUrl, inputDir: dir, resume: true });
          expect(resumed.failures).toEqual([]);
          expect(resumed.loaded.map((l) => l.name)).toEqual(['big']);
        } else {
          expect(result.failures).toEqual([]);
        }
        expect((await target.query('select count(*)::int as n from big')).rows[0].n).toBe(ROWS);
      }
    });
  });
});

describe('a disk that fills up during an export', () => {
  const canMount = process.getuid?.() === 0 && process.platform === 'linux';

  it.skipIf(!canMount)(
    'fails the table with a clear message, removes the partial file, and resumes',
    async () => {
      const { execFileSync } = await import('node:child_process');
      const sourceUrl = await createDatabase('full_src');
      const source = await connectTo(sourceUrl);
      await source.query(SCHEMA);
      await source.query(`insert into small select i, 'n' || i from generate_series(1, 100) i;
      insert into big select i, 1 + i % 100, md5(i::text), repeat('x', 300), now() from generate_series(1, 20000) i;`);
      const mount = await tempDir('full');
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
      } catch {
        return; // mounting is not allowed here (a container without the capability): nothing to test
      }
      try {
        const dir = join(mount, 'out');
        const run = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--skip-auth', '--jobs', '1']);
        expect(run.code).toBe(1);
        expect(run.stdout).toMatch(
          /✗ public\.big: disk full \(no space left on device\); the unfinished file was removed/,
        );
        expect(run.stdout).not.toMatch(/^\s+at /m);
        expect(await partials(dir)).toEqual([]);
        const manifest = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as {
          tables: { name: string; state: string }[];
        };
        // The failed copy left its connection unusable, so the table after it was not exported either.
        expect(manifest.tables.find((t) => t.name === 'big')!.state).toBe('failed');
        expect(manifest.tables.every((t) => t.state !== 'pending')).toBe(true);
        execFileSync('mount', ['-o', 'remount,size=64m', mount]);
        const resumed = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--resume']);
        expect(resumed.code, resumed.stderr).toBe(0);
        expect((await verify({ inputDir: dir, dbUrl: sourceUrl })).ok).toBe(true);
      } finally {
        execFileSync('umount', ['-l', mount]);
      }
    },
  );
});
