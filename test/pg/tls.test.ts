import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/pg/connect.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/pg/embedded.js';
import { cli, noStack } from '../support/cli.js';

/** Output about TLS, certificates or passwords, warnings or errors: none is expected when a connection works. */
const NOISE = /ssl|tls|cert|pass|warn|deprecat|error|supamigrate:/i;

const run = promisify(execFile);

/**
 * A second PostgreSQL with ssl=on and a self-signed certificate for localhost/127.0.0.1, generated here
 * with openssl; password (scram) authentication. Exercises libpq's sslmode meanings through the CLI.
 */
describe('TLS and passwords as libpq has them (a server with a self-signed certificate)', () => {
  let server: EmbeddedServer | undefined;
  let skipReason = '';
  let dir: string;
  let cert: string;
  let port: string;
  let password: string;
  const url = (host: string, query: string, withPassword = true) =>
    `postgresql://postgres${withPassword ? `:${password}` : ''}@${host}:${port}/postgres${query}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'supamigrate-tls-'));
    await chmod(dir, 0o755);
    cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    try {
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ]);
    } catch (err) {
      skipReason = `openssl could not make a certificate: ${(err as Error).message.split('\n')[0]}`;
      return;
    }
    await chmod(key, 0o600);
    if (process.getuid?.() === 0) {
      // As root the server runs as the postgres OS user, which must own its key.
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      await chown(key, uid, gid);
      await chown(cert, uid, gid);
    }
    try {
      server = await startEmbeddedPostgres({
        settings: ['ssl=on', `ssl_cert_file=${cert}`, `ssl_key_file=${key}`],
      });
    } catch (err) {
      skipReason = `no PostgreSQL with ssl=on could start: ${(err as Error).message.split('\n')[0]}`;
      return;
    }
    const parsed = new URL(server.url());
    port = parsed.port;
    password = decodeURIComponent(parsed.password);
    const client = await connect(server.url(), { role: 'source' });
    await client.query('create table public.things (id int primary key, name text)');
    await client.query("insert into public.things values (1, 'one'), (2, 'two')");
    await client.end();
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const ready = () => {
    if (skipReason) console.warn(`TLS tests skipped: ${skipReason}`);
    return !skipReason;
  };

  it('sslmode=require encrypts without checking the certificate, with no output about it', async (ctx) => {
    if (!ready()) ctx.skip();
    const client = await connect(url('localhost', '?sslmode=require'), { role: 'source' });
    const { rows } = await client.query<{ ssl: boolean }>(
      'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
    );
    await client.end();
    expect(rows[0]!.ssl).toBe(true);
    const exported = await cli(['export', '--dry-run', '--db-url', url('127.0.0.1', '?sslmode=require')], {
      HOME: dir,
    });
    expect(exported.stderr).not.toMatch(NOISE);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/public\.things\s+2/);
    expect(`${exported.stdout}${exported.stderr}`).not.toMatch(/ssl|tls|certificate|warning/i);
  });

  it('the default (sslmode=prefer) also encrypts, as libpq does', async () => {
    if (!ready()) return;
    const client = await connect(url('127.0.0.1', ''), { role: 'source' });
    const { rows } = await client.query<{ ssl: boolean }>(
      'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
    );
    await client.end();
    expect(rows[0]!.ssl).toBe(true);
  });

  it('sslmode=verify-full refuses in one line: without a CA, and with a CA that did not sign it', async (ctx) => {
    if (!ready()) ctx.skip();
    const noCa = await cli(['export', '--dry-run', '--db-url', url('localhost', '?sslmode=verify-full')], {
      HOME: dir,
    });
    expect(noCa.code).toBe(2);
    expect(noCa.stderr.trim().split('\n')).toHaveLength(1);
    expect(noCa.stderr).toMatch(/sslmode=verify-full needs the CA certificate.*sslrootcert=/);
    const system = await cli(
      ['export', '--dry-run', '--db-url', url('localhost', '?sslmode=verify-full&sslrootcert=system')],
      { HOME: dir },
    );
    expect(system.code).toBe(2);
    expect(system.stderr.trim().split('\n')).toHaveLength(1);
    expect(system.stderr).toMatch(
      /Cannot connect to the source database postgres@localhost:\d+\/postgres: the server's certificate was refused \(self[- ]signed certificate\) under sslmode=verify-full/,
    );
    expect(system.stderr).not.toContain(password);
    noStack(system.stderr);
  });

  it('sslmode=verify-full with sslrootcert=<the CA> connects, by name and by address; a wrong name is refused', async (ctx) => {
    if (!ready()) ctx.skip();
    for (const host of ['localhost', '127.0.0.1']) {
      const ok = await cli(
        ['export', '--dry-run', '--db-url', url(host, `?sslmode=verify-full&sslrootcert=${cert}`)],
        { HOME: dir },
      );
      expect(ok.stderr).not.toMatch(NOISE);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/public\.things\s+2/);
    }
    // The certificate is for localhost and 127.0.0.1: host=other.test connects to 127.0.0.1 by hostaddr
    // but checks the name other.test, which the certificate does not hold.
    const wrongName = await cli(
      [
        'export',
        '--dry-run',
        '--db-url',
        `host=other.test hostaddr=127.0.0.1 port=${port} user=postgres password=${password} dbname=postgres sslmode=verify-full sslrootcert=${cert}`,
      ],
      { HOME: dir },
    );
    expect(wrongName.code).toBe(2);
    expect(wrongName.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrongName.stderr).toMatch(/certificate was refused/);
    expect(wrongName.stderr).not.toContain(password);
    // verify-ca checks the signature only, not the name.
    const ca = await cli(
      [
        'export',
        '--dry-run',
        '--db-url',
        `host=other.test hostaddr=127.0.0.1 port=${port} user=postgres password=${password} dbname=postgres sslmode=verify-ca sslrootcert=${cert}`,
      ],
      { HOME: dir },
    );
    expect(ca.stderr).not.toMatch(NOISE);
    expect(ca.code).toBe(0);
  });

  it('no password for a password server: one line saying where to put it', async (ctx) => {
    if (!ready()) ctx.skip();
    const none = await cli(['export', '--dry-run', '--db-url', url('127.0.0.1', '', false)], { HOME: dir });
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(
      /Cannot connect to the source database postgres@127\.0\.0\.1:\d+\/postgres: the server asks for a password and none was given: put it in the URL .*PGPASSWORD.*~\/\.pgpass/,
    );
    expect(none.stderr).not.toMatch(/SASL|SCRAM/);
  });

  it('PG* variables alone, PGPASSWORD, and a PGPASSFILE connect, without a deprecation warning', async (ctx) => {
    if (!ready()) ctx.skip();
    const env = { HOME: dir, PGHOST: '127.0.0.1', PGPORT: port, PGUSER: 'postgres', PGDATABASE: 'postgres' };
    const withPassword = await cli(['export', '--dry-run'], { ...env, PGPASSWORD: password });
    expect(withPassword.stderr).not.toMatch(NOISE);
    expect(withPassword.code).toBe(0);
    expect(withPassword.stdout).toMatch(/public\.things\s+2/);
    const passfile = join(dir, 'pgpass');
    await writeFile(passfile, `# comment\nother:*:*:*:nope\n127.0.0.1:${port}:*:postgres:${password}\n`, {
      mode: 0o600,
    });
    const fromFile = await cli(['export', '--dry-run'], { ...env, PGPASSFILE: passfile });
    expect(fromFile.stderr).not.toMatch(NOISE);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/public\.things\s+2/);
    // ~/.pgpass is read too; one readable by others is ignored, as libpq ignores it, and the message says so.
    await writeFile(join(dir, '.pgpass'), `*:*:*:*:${password}\n`, { mode: 0o644 });
    await chmod(join(dir, '.pgpass'), 0o644);
    const open = await cli(['export', '--dry-run'], env);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/none was given.*\.pgpass was ignored: it has group or world access/);
    await chmod(join(dir, '.pgpass'), 0o600);
    const home = await cli(['export', '--dry-run'], env);
    expect(home.stderr).not.toMatch(NOISE);
    expect(home.code).toBe(0);
  });
});
