import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cli, noStack } from '../support/cli.js';
import { connectTo, createFixtureDatabase, tempDir } from '../support/db.js';

describe('supamigrate export (the built CLI)', () => {
  let url: string;

  beforeAll(async () => {
    url = await createFixtureDatabase('cli');
  });

  it('--dry-run --json prints the plan from SUPABASE_DB_URL: public tables in order, exact counts, methods', async () => {
    const run = await cli(
      ['export', '--dry-run', '--json', '--large-tables', 'sensor_readings,event_logs,alerts'],
      {
        SUPABASE_DB_URL: url,
      },
    );
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as {
      tables: { schema: string; name: string; rowCount: number; method: string }[];
    };
    expect(plan.tables).toHaveLength(23);
    const client = await connectTo(url);
    for (const t of plan.tables) {
      expect(t.schema).toBe('public');
      const n = (
        await client.query<{ n: number }>(
          `select count(*)::int as n from public.${client.escapeIdentifier(t.name)}`,
        )
      ).rows[0]!.n;
      expect(t.rowCount).toBe(n);
      expect(t.method).toBe(
        n > 10_000 || ['sensor_readings', 'event_logs', 'alerts'].includes(t.name) ? 'stream' : 'batch',
      );
    }
    const names = plan.tables.map((t) => t.name);
    expect(names.indexOf('devices')).toBeGreaterThan(names.indexOf('device_models'));
    expect(names.indexOf('sensor_readings')).toBeGreaterThan(names.indexOf('sensors'));
  });

  it('exports with --table, --skip-large, --skip-auth; prints a summary; files are 0600', async () => {
    const out = join(await tempDir('cli'), 'export');
    const run = await cli([
      'export',
      '--db-url',
      url,
      '-o',
      out,
      '--table',
      'sensors',
      '--table',
      'public.alerts',
      '--large-tables',
      'sensor_readings,event_logs,alerts',
      '--skip-large',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/public\.sensors\s+180/);
    expect(run.stderr).toMatch(/exporting public\.sensors/);
    const manifest = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8')) as {
      tables: { name: string }[];
      authUsers: { file: string };
    };
    expect(manifest.tables.map((t) => t.name)).toEqual(['sensors']);
    expect(((await stat(join(out, manifest.authUsers.file))).mode & 0o777).toString(8)).toBe('600');
    const skipped = join(await tempDir('cli'), 'noauth');
    const run2 = await cli([
      'export',
      '--db-url',
      url,
      '-o',
      skipped,
      '--table',
      'sites',
      '--skip-auth',
      '--json',
    ]);
    expect(run2.code).toBe(0);
    const result = JSON.parse(run2.stdout) as {
      authUsers: unknown;
      tables: { name: string; rowCount: number }[];
    };
    expect(result.authUsers).toBeNull();
    expect(result.tables).toEqual([
      expect.objectContaining({ name: 'sites', rowCount: 6, state: 'complete' }),
    ]);
  });

  it('a closed port: one line, exit 2, no password, no stack', async () => {
    const run = await cli(['export', '--db-url', 'postgresql://app:Sup3r-Secret-pw@127.0.0.1:1/appdb']);
    expect(run.code).toBe(2);
    expect(`${run.stdout}${run.stderr}`).not.toContain('Sup3r-Secret-pw');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /Cannot connect to the source database app@127\.0\.0\.1:1\/appdb: connection refused/,
    );
    noStack(run.stderr);
  });

  it.skipIf(inject('serverKind') !== 'embedded')(
    'a wrong password: one line, exit 2, the password not echoed',
    async () => {
      const bad = new URL(url);
      bad.password = 'definitely-Wrong-pw';
      const run = await cli(['export', '--db-url', bad.toString(), '--dry-run']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/password authentication failed/);
      expect(run.stderr).not.toContain('definitely-Wrong-pw');
      noStack(run.stderr);
    },
  );

  it('unknown tables and schemas, a missing URL, bad options: exit 2, every problem named', async () => {
    const unknown = await cli([
      'export',
      '--db-url',
      url,
      '--table',
      'nope',
      '--table',
      'public.sensros',
      '--dry-run',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--table nope: no such table/);
    expect(unknown.stderr).toMatch(/--table public\.sensros: no such table/);
    noStack(unknown.stderr);
    const schema = await cli(['export', '--db-url', url, '--schema', 'billing', '--dry-run']);
    expect(schema.code).toBe(2);
    expect(schema.stderr).toMatch(/schema "billing" does not exist/);
    const none = await cli(['export']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/pass --db-url <url> or set SUPABASE_DB_URL/);
    const bad = await cli([
      'export',
      '--db-url',
      'mysql://x',
      '--format',
      'csv',
      '--streaming-threshold',
      '-3',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/3 problems/);
  });

  it('an output directory that cannot be written: exit 2, the path named', async () => {
    const file = join(await tempDir('cli'), 'a-file');
    await writeFile(file, 'x');
    const run = await cli(['export', '--db-url', url, '-o', join(file, 'sub'), '--table', 'sites']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Cannot write to output directory ${join(file, 'sub')}`);
    noStack(run.stderr);
  });
});
