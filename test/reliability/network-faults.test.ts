import { access, cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase, type ExportEvent } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import type { ImportEvent } from '../../src/import/events.js';
import { verify } from '../../src/verify/verify.js';
import { cli, noStack } from '../support/cli.js';
import { expectSameTables } from '../support/compare.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';
import { FaultProxy } from '../support/proxy.js';

/*
 * A flaky network between supamigrate and PostgreSQL, played by a loopback proxy: a connection that stalls
 * (open, silent) fails within --io-timeout and is retried on a fresh one; connections cut after N bytes, at
 * several N, end with resume + verify matching the source. No timing assertion but "did not hang".
 */

const SCHEMA = `
  create table parent (id int primary key, note text);
  create table child (id bigint primary key, parent_id int references parent(id), payload text);
  create table events (parent_id int references parent(id), note text);
`;
const TABLES = [
  { schema: 'public', name: 'parent' },
  { schema: 'public', name: 'child' },
  { schema: 'public', name: 'events' },
];
const CUTS = [1, 2, 3, 4, 5, 6].map((k) => k / 7);
const HANG = 60_000;

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
const notes = (events: { type: string; message?: string }[]) =>
  events.filter((e) => e.type === 'note').map((e) => e.message ?? '');

async function freshTarget(label: string): Promise<string> {
  const url = await createDatabase(label);
  const c = await connectTo(url);
  await c.query(SCHEMA);
  return url;
}

describe('network faults between supamigrate and PostgreSQL', () => {
  let sourceUrl: string;
  let source: pg.Client;
  let exported: string;

  beforeAll(async () => {
    sourceUrl = await createDatabase('net_src');
    source = await connectTo(sourceUrl);
    await source.query(SCHEMA);
    await source.query(`insert into parent select i, 'p' || i from generate_series(1, 50) i;
      insert into child select i, 1 + i % 50, md5(i::text) || repeat('z', 100) from generate_series(1, 30000) i;
      insert into events select 1 + i % 50, 'e' || i from generate_series(1, 3000) i;`);
    exported = join(await tempDir('net-export'), 'out');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: exported, skipAuth: true, jobs: 2 });
  });

  it(
    'export: a worker connection that stalls mid-COPY fails within --io-timeout, the retry finishes it',
    async () => {
      const proxy = await FaultProxy.start(sourceUrl);
      // Connection 0 holds the snapshot; a worker (another connection) stalls once it has read 100 kB.
      proxy.stall({ direction: 'toClient', afterBytes: 100_000, where: (c) => c.index > 0 });
      const dir = join(await tempDir('stall-export'), 'out');
      const events: ExportEvent[] = [];
      const result = await exportDatabase({
        dbUrl: proxy.url(sourceUrl),
        outputDir: dir,
        skipAuth: true,
        jobs: 2,
        splitRows: 5000,
        streamingThreshold: 0,
        ioTimeout: 2,
        retries: 1,
        onEvent: (e) => events.push(e),
      });
      expect(proxy.log.join('; ')).toMatch(/stalled toClient/);
      expect(result.failures).toEqual([]);
      expect(notes(events).join('\n')).toMatch(
        /no data from the source database .* for 2 s \(--io-timeout\)/,
      );
      const report = await verify({ inputDir: dir, dbUrl: sourceUrl });
      expect(report.ok).toBe(true);
      await proxy.close();
    },
    HANG,
  );

  it(
    'import: a load whose COPY the server stops taking fails within --io-timeout, the retry loads it once',
    async () => {
      const proxy = await FaultProxy.start(sourceUrl);
      proxy.stall({ direction: 'toServer', afterBytes: 100_000, where: (c) => c.sawCopy });
      const targetUrl = await freshTarget('stall_tgt');
      const dir = join(await tempDir('stall-import'), 'out');
      await cp(exported, dir, { recursive: true });
      const events: ImportEvent[] = [];
      const result = await importDatabase({
        targetUrl: proxy.url(targetUrl),
        inputDir: dir,
        jobs: 1,
        ioTimeout: 2,
        retries: 1,
        onEvent: (e) => events.push(e),
      });
      expect(proxy.log.join('; ')).toMatch(/stalled toServer/);
      expect(result.failures).toEqual([]);
      expect(notes(events).join('\n')).toMatch(/no data from the target database .* \(--io-timeout\)/);
      await expectSameTables(source, await connectTo(targetUrl), TABLES);
      await proxy.close();
    },
    HANG,
  );

  it(
    'export: the connection holding the snapshot stalls: the tables left say how to finish (--resume), which works',
    async () => {
      const proxy = await FaultProxy.start(sourceUrl);
      // Connection 0 holds the snapshot and reads on lane 0: it stalls once it has read 50 kB. With one
      // lane it reads every table (with two, which tables it reads depends on timing).
      proxy.stall({ direction: 'toClient', afterBytes: 50_000, where: (c) => c.index === 0 });
      const dir = join(await tempDir('snap-lost'), 'out');
      const run = await cli([
        'export',
        '--db-url',
        proxy.url(sourceUrl),
        '-o',
        dir,
        '--jobs',
        '1',
        '--io-timeout',
        '2',
        '--retries',
        '0',
      ]);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toMatch(/finish the export with supamigrate export --resume/);
      expect(run.stdout).not.toMatch(/cannot read the auth schema/);
      noStack(run.stdout);
      await proxy.close();
      const resumed = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const check = await cli(['verify', '-i', dir, '--db-url', sourceUrl]);
      expect(check.code, check.stdout).toBe(0);
    },
    HANG,
  );

  it('export cut after N bytes at 6 points: export --resume completes and verify passes', async () => {
    const proxy = await FaultProxy.start(sourceUrl);
    const options = { skipAuth: true, jobs: 2, splitRows: 10_000, retries: 1, ioTimeout: 5 } as const;
    await exportDatabase({
      ...options,
      dbUrl: proxy.url(sourceUrl),
      outputDir: join(await tempDir('b'), 'o'),
    });
    const total = proxy.bytes;
    for (const fraction of CUTS) {
      const dir = join(await tempDir('cut-export'), 'out');
      proxy.cutAfter(Math.floor(total * fraction));
      const first = await exportDatabase({ ...options, dbUrl: proxy.url(sourceUrl), outputDir: dir }).then(
        (r) => (r.failures.length === 0 ? 'complete' : 'incomplete'),
        (e: unknown) => `threw: ${String(e)}`,
      );
      const context = `cut at ${Math.floor(total * fraction)} of ${total} bytes: first run ${first}`;
      if (first !== 'complete') {
        // Cut before metadata.json was written: there is nothing to resume, the export starts over.
        const resume = await exists(join(dir, 'metadata.json'));
        const run = await cli([
          'export',
          '--db-url',
          sourceUrl,
          '-o',
          dir,
          // A resumed export keeps the first run's choices (--skip-auth included) and refuses them again.
          ...(resume ? ['--resume'] : ['--skip-auth']),
        ]);
        expect(run.code, `${context}; ${run.stderr}`).toBe(0);
      }
      const report = await verify({ inputDir: dir, dbUrl: sourceUrl });
      expect(report.ok, context).toBe(true);
    }
    await proxy.close();
  }, 120_000);

  it('import cut after N bytes at 6 points: import --resume completes and verify passes', async () => {
    const proxy = await FaultProxy.start(sourceUrl);
    const dir = join(await tempDir('cut-import'), 'out');
    await cp(exported, dir, { recursive: true });
    const baseline = await freshTarget('cut_base');
    await importDatabase({ targetUrl: proxy.url(baseline), inputDir: dir, jobs: 2 });
    const total = proxy.bytes;
    for (const fraction of CUTS) {
      await rm(join(dir, 'import-state.json'), { force: true });
      const targetUrl = await freshTarget('cut_tgt');
      proxy.cutAfter(Math.floor(total * fraction));
      const first = await importDatabase({
        targetUrl: proxy.url(targetUrl),
        inputDir: dir,
        jobs: 2,
        retries: 0,
        ioTimeout: 5,
      }).then(
        (r) => (r.failures.length === 0 ? 'complete' : 'incomplete'),
        (e: unknown) => `threw: ${String(e)}`,
      );
      const context = `cut at ${Math.floor(total * fraction)} of ${total} bytes: first run ${first}`;
      if (first !== 'complete') {
        const run = await cli(['import', '--target-url', targetUrl, '-i', dir, '--resume']);
        expect(run.code, `${context}; ${run.stderr}`).toBe(0);
      }
      const check = await cli(['verify', '-i', dir, '--target-url', targetUrl]);
      expect(check.code, `${context}; ${check.stdout}${check.stderr}`).toBe(0);
    }
    await proxy.close();
  }, 120_000);

  for (const [table, keepOpen] of [
    ['child', false],
    ['events', false],
    ['events', true],
  ] as const) {
    it(
      `a lost COMMIT acknowledgement while loading ${table} (${table === 'events' ? 'no key' : 'keyed'}, connection ${keepOpen ? 'left open and silent' : 'cut'}): the retry asks the server and loads it exactly once`,
      async () => {
        const proxy = await FaultProxy.start(sourceUrl);
        proxy.dropCommitReply((c) => c.lastCopy?.includes(`"${table}"`) === true, { keepOpen });
        const targetUrl = await freshTarget('commit_tgt');
        const dir = join(await tempDir('commit-import'), 'out');
        await cp(exported, dir, { recursive: true });
        const run = await cli([
          'import',
          '--target-url',
          proxy.url(targetUrl),
          '-i',
          dir,
          '--jobs',
          '1',
          '--io-timeout',
          '3',
        ]);
        expect(proxy.log.join('; ')).toMatch(/COMMIT sent on, its reply dropped/);
        noStack(run.stderr);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        expect(run.stderr).toMatch(new RegExp(`public\\.${table}: .*; retrying \\(1 of 2\\)`));
        await expectSameTables(source, await connectTo(targetUrl), TABLES);
        await proxy.close();
      },
      HANG,
    );
  }

  it(
    'import --truncate whose COMMIT reply is lost: says the tables may or may not be emptied; the same import again loads them',
    async () => {
      const proxy = await FaultProxy.start(sourceUrl);
      proxy.dropCommitReply((c) => /^TRUNCATE/.test(c.previousQuery ?? ''));
      const targetUrl = await freshTarget('trunc_tgt');
      await (await connectTo(targetUrl)).query(`insert into parent values (999, 'old')`);
      const dir = join(await tempDir('trunc-import'), 'out');
      await cp(exported, dir, { recursive: true });
      const args = ['import', '-i', dir, '--truncate', '--jobs', '1', '--io-timeout', '3'];
      const run = await cli([...args, '--target-url', proxy.url(targetUrl)]);
      expect(proxy.log.join('; ')).toMatch(/COMMIT sent on, its reply dropped/);
      noStack(run.stderr);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /may or may not have been emptied, and nothing was loaded; run the same import again/,
      );
      expect(run.stderr).not.toMatch(/Cannot truncate/);
      await proxy.close();
      const again = await cli([...args, '--target-url', targetUrl]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      await expectSameTables(source, await connectTo(targetUrl), TABLES);
    },
    HANG,
  );

  it(
    "import: the coordinator's connection stalls after the load: the steps after it run again on a new one",
    async () => {
      const proxy = await FaultProxy.start(sourceUrl);
      // Connection 0 is the coordinator; the stall starts with the first step after the load.
      proxy.stall({
        direction: 'toClient',
        where: (c) =>
          c.index === 0 && c.lastQuery?.startsWith('SELECT schema, "table" AS name, count(*)') === true,
      });
      const targetUrl = await freshTarget('coord_tgt');
      const dir = join(await tempDir('coord-import'), 'out');
      await cp(exported, dir, { recursive: true });
      const run = await cli([
        'import',
        '--target-url',
        proxy.url(targetUrl),
        '-i',
        dir,
        '--jobs',
        '2',
        '--io-timeout',
        '3',
      ]);
      noStack(run.stderr);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).toMatch(
        /after loading: no data from the target database .* retrying on a new connection \(1 of 2\)/,
      );
      await expectSameTables(source, await connectTo(targetUrl), TABLES);
      await proxy.close();
    },
    HANG,
  );

  it(
    'verify whose connection goes silent: exit 2 (a connection error), one line naming --io-timeout',
    async () => {
      const proxy = await FaultProxy.start(sourceUrl);
      proxy.stall({ direction: 'toClient', afterBytes: 3000 });
      const run = await cli([
        'verify',
        '-i',
        exported,
        '--db-url',
        proxy.url(sourceUrl),
        '--io-timeout',
        '2',
      ]);
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(
        run.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('supamigrate:')),
      ).toEqual([
        expect.stringMatching(
          /^supamigrate: no data from the source database \S+ for 2 s \(--io-timeout\): the connection was closed/,
        ),
      ]);
      noStack(run.stderr);
      await proxy.close();
    },
    HANG,
  );

  it(
    'verify | head -1: stdout closed early ends quietly, without an EPIPE stack',
    async () => {
      const { spawn } = await import('node:child_process');
      const BIN = new URL('../../bin/supamigrate.js', import.meta.url).pathname;
      const child = spawn('node', [BIN, 'verify', '-i', exported, '--db-url', sourceUrl], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CI: 'true' },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.destroy();
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(stderr).not.toMatch(/EPIPE/);
      noStack(stderr);
      expect(code).not.toBeNull();
    },
    HANG,
  );
});
