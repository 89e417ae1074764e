import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { loadTestHooks } from '../../src/import/load-table.js';
import { quoteIdent } from '../../src/pg/sql.js';
import { cli, noStack } from '../support/cli.js';
import { expectSameTables } from '../support/compare.js';
import { adminUrl, connectTo, createDatabase, tempDir } from '../support/db.js';

const SCHEMA = `
  create table devices (id int primary key, name text);
  create table sensors (id int primary key, device_id int references devices(id), kind text);
  create table logs (device_id int, msg text);
  create table pairs (a int, b int, note text, primary key (a, b));
  create table pair_refs (id int primary key, a int, b int, foreign key (a, b) references pairs (a, b));
`;
const TABLES = ['devices', 'sensors', 'logs', 'pairs', 'pair_refs'].map((name) => ({
  schema: 'public',
  name,
}));
const count = async (c: pg.Client, table: string) =>
  (await c.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;

async function target(label: string, setup = ''): Promise<{ url: string; client: pg.Client }> {
  const url = await createDatabase(label);
  const client = await connectTo(url);
  await client.query(SCHEMA + setup);
  return { url, client };
}

/**
 * The first COMMIT of a public.logs file lands, then its connection dies (ended by `killer`) before the
 * load hears of it: the acknowledgement is lost. Undone by setting loadTestHooks.afterCommit back.
 */
function loseFirstCommitAck(killer: pg.Client): { count: number } {
  const killed = { count: 0 };
  loadTestHooks.afterCommit = async (client, file) => {
    if (killed.count > 0 || !file.startsWith('public.logs')) return;
    killed.count++;
    const pid = (client as unknown as { processID: number }).processID;
    await killer.query('select pg_terminate_backend($1)', [pid]);
    await client.query('select 1'); // the connection is gone: this fails as a lost connection does
  };
  return killed;
}

describe('import integrity', () => {
  let source: pg.Client;
  let dir: string;

  beforeAll(async () => {
    const sourceUrl = await createDatabase('integ_src');
    source = await connectTo(sourceUrl);
    await source.query(SCHEMA);
    await source.query(`
      insert into devices select i, 'd' || i from generate_series(1, 10) i;
      insert into sensors select i, 1 + i % 10, 'k' from generate_series(1, 30) i;
      insert into logs select 1 + i % 10, 'm' || i from generate_series(1, 200) i;
      insert into pairs select i, i * 10, 'p' from generate_series(1, 5) i;
      insert into pair_refs select i, i, case when i % 2 = 0 then null else i * 10 end from generate_series(1, 6) i;`);
    dir = join(await tempDir('integ'), 'out');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true, jobs: 1 });
  });

  it('import --table sensors into an empty target: the dry run warns, the import exits 1 naming the foreign key', async () => {
    const t = await target('integ_fk');
    const dry = await cli(['import', '-i', dir, '--target-url', t.url, '--table', 'sensors', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /note: public\.sensors: foreign key sensors_device_id_fkey references public\.devices, which is not imported and is empty in the target/,
    );
    const run = await cli(['import', '-i', dir, '--target-url', t.url, '--table', 'sensors']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(
      /✗ public\.sensors\.sensors_device_id_fkey: 30 row\(s\) of public\.sensors \(device_id\) reference no row of public\.devices \(id\), e\.g\. \(1\), \(10\), \(2\)/,
    );
    expect(run.stdout).not.toMatch(/every table's row count matches/);
    noStack(run.stdout + run.stderr);
  });

  it('checks both directions, multi-column keys, NULLs as MATCH SIMPLE', async () => {
    // A sensor already in the target points at a device the import does not bring.
    const t = await target(
      'integ_fk2',
      `set session_replication_role = replica; insert into sensors values (99, 99, 'old'); reset session_replication_role;`,
    );
    const result = await importDatabase({
      targetUrl: t.url,
      inputDir: dir,
      tables: ['devices', 'pair_refs'],
    });
    expect(result.failures).toEqual([]);
    expect(result.violations).toEqual([
      {
        foreignKey: 'public.pair_refs.pair_refs_a_b_fkey',
        table: 'public.pair_refs (a, b)',
        references: 'public.pairs (a, b)',
        // Rows 2, 4, 6 have b NULL: they reference nothing and break nothing.
        count: 3,
        examples: ['(1, 10)', '(3, 30)', '(5, 50)'],
      },
      {
        foreignKey: 'public.sensors.sensors_device_id_fkey',
        table: 'public.sensors (device_id)',
        references: 'public.devices (id)',
        count: 1,
        examples: ['(99)'],
      },
    ]);
  });

  it('a child whose parent failed in this run is not loaded', async () => {
    const t = await target('integ_parent', `alter table devices add check (id < 5);`);
    const result = await importDatabase({ targetUrl: t.url, inputDir: dir, tables: ['devices', 'sensors'] });
    expect(result.failures).toEqual([
      { table: 'public.devices', error: expect.stringMatching(/check constraint/) },
      { table: 'public.sensors', error: 'not loaded: parent public.devices failed' },
    ]);
    expect(await count(t.client, 'sensors')).toBe(0);
  });

  it('--on-conflict skip on a table without a key is refused, and never suggested for it', async () => {
    const t = await target(
      'integ_skip',
      `insert into logs values (1, 'x'); insert into devices values (1, 'd1');`,
    );
    const refused = await importDatabase({
      targetUrl: t.url,
      inputDir: dir,
      tables: ['logs', 'devices'],
    }).catch((e: unknown) => e);
    expect((refused as UsageError).problems).toEqual([
      'public.devices: the target table is not empty (use --truncate to empty it first, or --on-conflict skip)',
      'public.logs: the target table is not empty (use --truncate to empty it first)',
    ]);
    const skip = await cli([
      'import',
      '-i',
      dir,
      '--target-url',
      t.url,
      '--table',
      'logs',
      '--on-conflict',
      'skip',
    ]);
    expect(skip.code).toBe(2);
    expect(skip.stderr).toMatch(
      /public\.logs: --on-conflict skip needs a primary key, or a unique key over NOT NULL columns/,
    );
    expect(await count(t.client, 'logs')).toBe(1);
    // A unique key over a column that may be NULL, or a partial one, cannot tell a row exists either.
    for (const key of [
      'create unique index logs_nullable on logs (device_id, msg)',
      `alter table logs alter device_id set not null, alter msg set not null;
       create unique index logs_partial on logs (device_id, msg) where msg like 'm%'`,
    ]) {
      const u = await target('integ_skip_key', `insert into logs values (1, 'x'); ${key};`);
      const again = await importDatabase({
        targetUrl: u.url,
        inputDir: dir,
        tables: ['logs'],
        onConflict: 'skip',
      }).catch((e: unknown) => e);
      expect(String(again), key).toMatch(/public\.logs: --on-conflict skip needs a primary key/);
      expect(await count(u.client, 'logs')).toBe(1);
    }
    // Over NOT NULL columns, without a WHERE: it can.
    const ok = await target(
      'integ_skip_ok',
      `alter table logs alter device_id set not null, alter msg set not null;
       create unique index logs_key on logs (device_id, msg); insert into logs values (2, 'm1');`,
    );
    const skipped = await importDatabase({
      targetUrl: ok.url,
      inputDir: dir,
      tables: ['logs'],
      onConflict: 'skip',
    });
    expect(skipped.loaded[0]!.inserted).toBe(199);
  });

  it('--truncate refused by a table that is not imported but references a truncated one, before anything is emptied', async () => {
    const t = await target('integ_trunc', `insert into devices values (1, 'd1');`);
    const dry = await cli([
      'import',
      '-i',
      dir,
      '--target-url',
      t.url,
      '--table',
      'devices',
      '--truncate',
      '--dry-run',
    ]);
    expect(dry.code).toBe(2);
    expect(dry.stdout).toMatch(
      /✗ --truncate: public\.sensors is not imported but references public\.devices \(foreign key sensors_device_id_fkey\), so PostgreSQL refuses to truncate it/,
    );
    const run = await cli(['import', '-i', dir, '--target-url', t.url, '--table', 'devices', '--truncate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--truncate: public\.sensors is not imported but references public\.devices/);
    expect(await count(t.client, 'devices')).toBe(1);
  });

  it('a lost COMMIT acknowledgement: the retry sees the progress row and does not load the file twice', async () => {
    const t = await target('integ_ack');
    const killer = await connectTo(t.url);
    const killed = loseFirstCommitAck(killer);
    try {
      const result = await importDatabase({ targetUrl: t.url, inputDir: dir, jobs: 2, retries: 2 });
      expect(killed.count).toBe(1);
      expect(result.failures).toEqual([]);
      expect(result.violations).toEqual([]);
    } finally {
      loadTestHooks.afterCommit = undefined;
    }
    expect(await count(t.client, 'logs')).toBe(200);
    await expectSameTables(source, t.client, TABLES);
  });

  it('a re-created empty target with a stale import-state.json: --resume loads everything', async () => {
    const t = await target('integ_stale');
    const first = await cli(['import', '-i', dir, '--target-url', t.url]);
    expect(first.code, first.stdout).toBe(0);
    // The same database name, dropped and created again (empty tables, no progress table).
    const name = new URL(t.url).pathname.slice(1);
    const cluster = new pg.Client({ connectionString: adminUrl() });
    await cluster.connect();
    await t.client.end();
    await cluster.query(`drop database ${quoteIdent(name)} with (force)`);
    await cluster.query(`create database ${quoteIdent(name)}`);
    await cluster.end();
    const fresh = await connectTo(t.url);
    await fresh.query(SCHEMA);
    const dry = await cli(['import', '-i', dir, '--target-url', t.url, '--resume', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Dry run: 5 tables/);
    const resumed = await cli(['import', '-i', dir, '--target-url', t.url, '--resume']);
    expect(resumed.code, resumed.stdout).toBe(0);
    expect(resumed.stdout).toMatch(/Imported 5 tables/);
    await expectSameTables(source, fresh, TABLES);
  });

  describe('a role that may not create the progress table', () => {
    const role = `sm_noschema_${randomBytes(3).toString('hex')}`;
    let cluster: pg.Client;
    afterAll(async () => {
      await cluster.query(`drop owned by ${quoteIdent(role)} cascade`).catch(() => undefined);
      await cluster.query(`drop role if exists ${quoteIdent(role)}`).catch(() => undefined);
    });

    it('imports, says it cannot be resumed, and refuses --resume', async () => {
      const url = await createDatabase('integ_role');
      cluster = await connectTo(url);
      await cluster.query(`create role ${quoteIdent(role)} login password 'pw';
        grant usage, create on schema public to ${quoteIdent(role)}; set role ${quoteIdent(role)};`);
      await cluster.query(SCHEMA);
      await cluster.query('reset role');
      const as = new URL(url);
      as.username = role;
      as.password = 'pw';
      const notes: string[] = [];
      const result = await importDatabase({
        targetUrl: as.toString(),
        inputDir: dir,
        tables: ['devices', 'logs'],
        onEvent: (e) => void (e.type === 'note' && notes.push(e.message)),
      });
      expect(result.failures).toEqual([]);
      expect(notes.join('\n')).toMatch(
        /no progress table \(supamigrate\.import_progress cannot be created: .*cannot be resumed/,
      );
      const resumed = await importDatabase({ targetUrl: as.toString(), inputDir: dir, resume: true }).catch(
        (e: unknown) => e,
      );
      expect(String(resumed)).toMatch(
        /--resume needs the progress table supamigrate\.import_progress in the target/,
      );
    });

    it('a lost COMMIT acknowledgement on a table without a key: the retry asks the server, loads it once', async () => {
      const url = await createDatabase('integ_role_ack');
      const owner = await connectTo(url);
      await owner.query(
        `grant usage, create on schema public to ${quoteIdent(role)}; set role ${quoteIdent(role)};`,
      );
      await owner.query(SCHEMA);
      await owner.query('reset role');
      const as = new URL(url);
      as.username = role;
      as.password = 'pw';
      const killed = loseFirstCommitAck(owner);
      try {
        const result = await importDatabase({ targetUrl: as.toString(), inputDir: dir, tables: ['logs'] });
        expect(killed.count).toBe(1);
        expect(result.failures).toEqual([]);
      } finally {
        loadTestHooks.afterCommit = undefined;
      }
      expect(await count(owner, 'logs')).toBe(200);
      expect(
        (await owner.query("select to_regclass('supamigrate.import_progress') as t")).rows[0].t,
      ).toBeNull();
    });
  });
});

describe('a split table whose part fails, referenced by another table', () => {
  it('is emptied again (DELETE where TRUNCATE is refused), exit 1, nothing half-loaded', async () => {
    const ddl = `create table p (id int primary key, v text);
      create table c (id int primary key, pid int references p (id));`;
    const sourceUrl = await createDatabase('split_fail_src');
    const source = await connectTo(sourceUrl);
    await source.query(`${ddl}
      insert into p select g, 'v' from generate_series(1, 30000) g;
      insert into c select g, g * 100 from generate_series(1, 100) g; analyze;`);
    const out = join(await tempDir('split_fail'), 'out');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: out, skipAuth: true, splitRows: 10000, jobs: 2 });
    const t = await target('split_fail_tgt', '');
    await t.client.query(`drop table pair_refs, pairs, logs, sensors, devices; ${ddl}
      alter table p add constraint nope check (id <> 25000);`);
    const run = await cli(['import', '-i', out, '--target-url', t.url, '--jobs', '2']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/public\.p: .*\(the parts already loaded were removed again\)/);
    expect(run.stdout).toMatch(/public\.c: not loaded: parent public\.p failed/);
    expect(await count(t.client, 'p')).toBe(0);
    expect(await count(t.client, 'c')).toBe(0);
  });
});

describe('import --resume over a table that lost rows since it was loaded', () => {
  it('refuses naming it, and with --truncate loads it again', async () => {
    const sourceUrl = await createDatabase('resume_lost_src');
    const source = await connectTo(sourceUrl);
    await source.query(
      `${SCHEMA} insert into logs select 1 + i % 10, 'm' || i from generate_series(1, 200) i;`,
    );
    const out = join(await tempDir('resume_lost'), 'out');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: out, skipAuth: true, tables: ['logs'] });
    const t = await target('resume_lost_tgt');
    expect((await cli(['import', '-i', out, '--target-url', t.url])).code).toBe(0);
    await t.client.query(`delete from logs where device_id = 3`);
    const resumed = await cli(['import', '-i', out, '--target-url', t.url, '--resume']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(
      /public\.logs: an earlier run loaded it \(200 rows\), but the target table holds 180 rows now: it was changed since; empty it \(--truncate\)/,
    );
    const again = await cli(['import', '-i', out, '--target-url', t.url, '--resume', '--truncate']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await count(t.client, 'logs')).toBe(200);
  });
});

describe('--jobs beyond what the target allows', () => {
  it('the dry run says so, and the real run refuses before emptying anything', async () => {
    const role = `sm_limit_${randomBytes(3).toString('hex')}`;
    const sourceUrl = await createDatabase('jobs_limit_src');
    await (
      await connectTo(sourceUrl)
    ).query(`${SCHEMA}
      insert into devices select i, 'd' || i from generate_series(1, 10) i;
      insert into logs select 1 + i % 10, 'm' || i from generate_series(1, 50) i;`);
    const dir = join(await tempDir('jobs_limit'), 'out');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true });
    const t = await target('jobs_limit', `insert into devices values (99, 'kept');`);
    await t.client.query(`create role ${quoteIdent(role)} login password 'pw' connection limit 2;
      grant all on all tables in schema public to ${quoteIdent(role)};
      grant create on database ${quoteIdent(new URL(t.url).pathname.slice(1))} to ${quoteIdent(role)};
      alter table devices owner to ${quoteIdent(role)}; alter table sensors owner to ${quoteIdent(role)};
      alter table logs owner to ${quoteIdent(role)}; alter table pairs owner to ${quoteIdent(role)};
      alter table pair_refs owner to ${quoteIdent(role)};`);
    const as = new URL(t.url);
    as.username = role;
    as.password = 'pw';
    try {
      const dry = await cli([
        'import',
        '-i',
        dir,
        '--target-url',
        as.toString(),
        '--jobs',
        '4',
        '--truncate',
        '--dry-run',
      ]);
      expect(dry.code, dry.stdout + dry.stderr).toBe(2);
      expect(dry.stdout + dry.stderr).toMatch(
        /Cannot open 4 connections to the target for --jobs 4 .*lower --jobs/,
      );
      const run = await cli([
        'import',
        '-i',
        dir,
        '--target-url',
        as.toString(),
        '--jobs',
        '4',
        '--truncate',
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /Cannot open 4 connections to the target for --jobs 4 .*nothing was written/,
      );
      expect(await count(t.client, 'devices')).toBe(1);
    } finally {
      await t.client.query(
        `reassign owned by ${quoteIdent(role)} to current_user; drop owned by ${quoteIdent(role)}`,
      );
      await t.client.query(`drop role ${quoteIdent(role)}`).catch(() => undefined);
    }
  });
});
