import { beforeAll, describe, expect, it } from 'vitest';
import { chooseDatabase } from '../../src/cli/database.js';
import { SettingsProblems } from '../../src/settings.js';
import {
  parseConninfo,
  passwordFromPassfile,
  redactConninfo,
  resolveConnection,
} from '../../src/pg/conninfo.js';
import { connect, describeConnectError } from '../../src/pg/connect.js';
import { cli, noStack } from '../support/cli.js';

/** Output about TLS, certificates or passwords, warnings or errors: none is expected when a connection works. */
const NOISE = /ssl|tls|cert|pass|warn|deprecat|error|supamigrate:/i;
import { createFixtureDatabase, tempDir } from '../support/db.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

describe('connection strings as libpq reads them', () => {
  it('parses the keyword form: quotes, escapes, spaces around =', () => {
    expect(
      parseConninfo(
        `host=db.example.com port = 6432 dbname='my db' user=o\\'brien password='it\\'s a \\\\ secret'`,
      ),
    ).toEqual({
      host: 'db.example.com',
      port: '6432',
      dbname: 'my db',
      user: "o'brien",
      password: "it's a \\ secret",
    });
    expect(() => parseConninfo('host=x dbname')).toThrow(/missing "=" after "dbname"/);
    expect(() => parseConninfo("host='x")).toThrow(/unterminated quoted value of "host"/);
    expect(() => parseConninfo('host=x sslmod=require')).toThrow(/unknown connection parameter "sslmod"/);
    expect(() => parseConninfo('postgresql://h/db?ssl=true')).toThrow(/"ssl".*sslmode=require/);
  });

  it('parses URLs: percent-encoding, IPv6, socket directories, query parameters', () => {
    expect(
      parseConninfo('postgresql://us%40er:p%3Ass@[::1]:5433/my%20db?sslmode=verify-full&sslrootcert=/ca.crt'),
    ).toEqual({
      user: 'us@er',
      password: 'p:ss',
      host: '::1',
      port: '5433',
      dbname: 'my db',
      sslmode: 'verify-full',
      sslrootcert: '/ca.crt',
    });
    expect(parseConninfo('postgresql:///app?host=/var/run/postgresql')).toEqual({
      dbname: 'app',
      host: '/var/run/postgresql',
    });
    expect(() => parseConninfo('mysql://h/db')).toThrow(/must start with postgresql:\/\//);
  });

  it('fills what is missing from PG* variables, with libpq defaults; the option wins over the variable', () => {
    const env = {
      PGHOST: 'envhost',
      PGPORT: '6000',
      PGUSER: 'envuser',
      PGPASSWORD: 'envpw',
      PGSSLMODE: 'disable',
    };
    const a = resolveConnection('dbname=app', env);
    expect([a.host, a.port, a.user, a.database, a.password, a.sslmode, a.tls]).toEqual([
      'envhost',
      6000,
      'envuser',
      'app',
      'envpw',
      'disable',
      null,
    ]);
    const b = resolveConnection('postgresql://me@h:1/db', env);
    expect([b.host, b.port, b.user, b.database, b.where]).toEqual(['h', 1, 'me', 'db', 'me@h:1/db']);
    const c = resolveConnection('host=h user=u', { PGPASSFILE: '/nonexistent' });
    expect([c.database, c.sslmode, c.password]).toEqual(['u', 'prefer', undefined]);
    expect(c.tls).toEqual({ rejectUnauthorized: false });
    const req = resolveConnection('host=h sslmode=require', {
      PGPASSFILE: '/nonexistent',
      HOME: '/nonexistent',
    });
    expect(req.tls?.rejectUnauthorized).toBe(false);
    expect(() => resolveConnection('host=h sslmode=requier', {})).toThrow(/sslmode must be one of/);
    expect(() => resolveConnection('host=h sslmode=verify-ca sslrootcert=/nonexistent/ca.crt', {})).toThrow(
      /cannot read sslrootcert \/nonexistent\/ca\.crt: no such file/,
    );
  });

  it('reads .pgpass as libpq does: first matching line, * wildcards, \\: escapes', async () => {
    const dir = await tempDir('pgpass');
    const file = join(dir, 'pgpass');
    await writeFile(
      file,
      ['# comment', 'h:5432:other:u:wrong', 'h:*:app:u:pa\\:ss', '*:*:*:*:fallback', ''].join('\n'),
      { mode: 0o600 },
    );
    expect(passwordFromPassfile({ host: 'h', dbname: 'app', user: 'u' }, { PGPASSFILE: file }).password).toBe(
      'pa:ss',
    );
    expect(passwordFromPassfile({ host: 'x', dbname: 'app', user: 'u' }, { PGPASSFILE: file }).password).toBe(
      'fallback',
    );
  });

  it('never shows a password: redacted in both forms', () => {
    expect(redactConninfo('postgresql://u:secret@h/db')).toBe('postgresql://u:***@h/db');
    expect(redactConninfo("host=h password='se cret' dbname=d")).toBe('host=h password=*** dbname=d');
  });

  it("port 6543: a hint at the transaction pooler; Supabase's pooler host is refused before connecting", async () => {
    const local = await cli(['export', '--dry-run', '--db-url', 'postgresql://u:pw@127.0.0.1:6543/db']);
    expect(local.code).toBe(2);
    expect(local.stderr.trim().split('\n')).toHaveLength(1);
    expect(local.stderr).toMatch(
      /Cannot connect to the source database u@127\.0\.0\.1:6543\/db: .*transaction pooler.*session pooler.*port 5432/,
    );
    const pooler = await cli([
      'export',
      '--dry-run',
      '--db-url',
      'postgresql://postgres.abcd:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres',
    ]);
    expect(pooler.code).toBe(2);
    expect(pooler.stderr.trim().split('\n')).toHaveLength(1);
    expect(pooler.stderr).toMatch(
      /--db-url: port 6543 is Supabase's transaction pooler.*session pooler \(same host, port 5432\)/,
    );
    expect(pooler.stderr).not.toContain(':pw@');
    noStack(pooler.stderr);
    expect(describeConnectError({ code: 'ECONNREFUSED' })).not.toMatch(/6543/);
  });
});

describe('which database: option > SUPABASE_DB_URL/TARGET_DB_URL > DATABASE_URL > PG* variables', () => {
  it('takes the first one given', () => {
    const pick = (role: 'source' | 'target', option: string | undefined, env: NodeJS.ProcessEnv) => {
      const check = new SettingsProblems();
      return [chooseDatabase(role, option, check, env), check.problems] as const;
    };
    const env = {
      SUPABASE_DB_URL: 'postgresql://s/db',
      TARGET_DB_URL: 'postgresql://t/db',
      DATABASE_URL: 'postgresql://d/db',
      PGHOST: 'pghost',
      PGDATABASE: 'pg db',
    };
    expect(pick('source', 'postgresql://o/db', env)[0]).toBe('postgresql://o/db');
    expect(pick('source', undefined, env)[0]).toBe('postgresql://s/db');
    expect(pick('target', undefined, env)[0]).toBe('postgresql://t/db');
    expect(pick('target', undefined, { ...env, TARGET_DB_URL: undefined })[0]).toBe('postgresql://d/db');
    expect(pick('source', undefined, { PGHOST: 'pghost', PGDATABASE: 'pg db' })[0]).toBe(
      "host=pghost dbname='pg db'",
    );
    const [none, problems] = pick('target', undefined, {});
    expect(none).toBe('');
    expect(problems).toEqual([
      'no database given: pass --target-url <url> or set TARGET_DB_URL (or DATABASE_URL, or PGHOST/PGDATABASE/PGUSER as for psql)',
    ]);
  });

  describe('against the test server', () => {
    let url: URL;
    beforeAll(async () => {
      url = new URL(await createFixtureDatabase('conn'));
    });
    const closed = 'postgresql://nobody@127.0.0.1:1/nothing';

    it('the keyword form connects', async () => {
      const keywords = `host=${url.hostname} port=${url.port || 5432} dbname=${url.pathname.slice(1)} user=${decodeURIComponent(url.username)}${url.password ? ` password='${decodeURIComponent(url.password)}'` : ''}`;
      const client = await connect(keywords, { role: 'source' });
      expect((await client.query('select current_database() as d')).rows[0].d).toBe(url.pathname.slice(1));
      await client.end();
      const run = await cli(['export', '--dry-run', '--json', '--db-url', keywords]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).tables.length).toBe(23);
    });

    it('DATABASE_URL is used when nothing more specific is given, and loses to SUPABASE_DB_URL', async () => {
      const alone = await cli(['export', '--dry-run', '--json'], { DATABASE_URL: url.toString() });
      expect(alone.stderr).not.toMatch(NOISE);
      expect(alone.code).toBe(0);
      const both = await cli(['export', '--dry-run', '--json'], {
        DATABASE_URL: closed,
        SUPABASE_DB_URL: url.toString(),
      });
      expect(both.code).toBe(0);
      const wrongWay = await cli(['export', '--dry-run', '--json'], {
        DATABASE_URL: url.toString(),
        SUPABASE_DB_URL: closed,
      });
      expect(wrongWay.code).toBe(2);
      expect(wrongWay.stderr).toMatch(/nobody@127\.0\.0\.1:1\/nothing: connection refused/);
    });

    it('PG* variables alone connect; DATABASE_URL wins over them', async () => {
      const env = {
        PGHOST: url.hostname,
        PGPORT: url.port || '5432',
        PGUSER: decodeURIComponent(url.username),
        PGDATABASE: url.pathname.slice(1),
        ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
      };
      const alone = await cli(['export', '--dry-run', '--json'], env);
      expect(alone.stderr).not.toMatch(NOISE);
      expect(alone.code).toBe(0);
      expect(JSON.parse(alone.stdout).tables.length).toBe(23);
      const overridden = await cli(['export', '--dry-run'], { ...env, DATABASE_URL: closed });
      expect(overridden.code).toBe(2);
      expect(overridden.stderr).toMatch(/connection refused/);
    });
  });
});
