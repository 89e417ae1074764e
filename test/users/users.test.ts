import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { UsageError } from '../../src/errors.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { readAuthUsers, type AuthUser } from '../../src/users/auth-users.js';
import { mapUsers } from '../../src/users/map-users.js';
import { readNewUsers } from '../../src/users/new-users.js';
import { exportUsersForProvider } from '../../src/users/provider-export.js';
import type { UserMap } from '../../src/format/user-map.js';
import { tableText } from '../support/compare.js';
import { cli } from '../support/cli.js';
import { auth0ExportLine, clerkId, clerkUser } from './provider-fixtures.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

const newIdFor = (oldId: string) => {
  const h = createHash('md5').update(`new:${oldId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

describe('users: map, provider export, import with user-id rewriting', () => {
  let dir: string;
  let source: pg.Client;
  let users: AuthUser[];
  let map: UserMap;
  let mapFile: string;

  beforeAll(async () => {
    const sourceUrl = await createFixtureDatabase('users_src');
    source = await connectTo(sourceUrl);
    dir = await tempDir('users');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir });
    users = await readAuthUsers(dir);
    // The new provider's list: new uuids, lower-case emails, for every user with an email; the
    // soft-deleted one carries its Supabase id (a soft-deleted user matches by external id only).
    const newUsers = users
      .filter((u) => u.email)
      .map((u) => ({
        id: newIdFor(u.id),
        email: u.email!.toLowerCase(),
        supabase_id: u.deleted_at ? u.id : null,
      }));
    await writeFile(join(dir, 'new-users.json'), JSON.stringify(newUsers));
    mapFile = join(dir, 'user-map.json');
    const run = await cli([
      'users',
      'map',
      '-i',
      dir,
      '--new-users',
      join(dir, 'new-users.json'),
      '--external-id-field',
      'supabase_id',
      '--out',
      mapFile,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Matched: 39 \(by email 38, by phone 0, by external id 1\)/);
    map = JSON.parse(await readFile(mapFile, 'utf8')) as UserMap;
  });

  it('maps 39 users by email (case-insensitively) or external id, and leaves the anonymous one unmatched', () => {
    expect(users).toHaveLength(40);
    expect(map.mappings).toHaveLength(39);
    expect(map.unmatched).toEqual([
      expect.objectContaining({ email: null, reason: 'anonymous user (no email or phone)' }),
    ]);
    const mixed = users.find((u) => u.email === 'Mixed.Case@Example.COM')!;
    expect(map.mappings.find((m) => m.oldId === mixed.id)?.newId).toBe(newIdFor(mixed.id));
  });

  it('reads CSV with other field names, matches by phone, and flags duplicates', async () => {
    const csv = join(dir, 'new.csv');
    await writeFile(
      csv,
      'uid,mail,tel\nn1,ADMIN@example.com ,\nn2,dup@x.io,\nn3,dup@x.io,\nn4,,+1 (555) 000-0001\n',
    );
    const { users: newUsers } = await readNewUsers(csv, {
      fields: { id: 'uid', email: 'mail', phone: 'tel' },
    });
    expect(newUsers[0]).toEqual({
      id: 'n1',
      externalIds: [],
      emails: [{ address: 'ADMIN@example.com', verified: null }],
      phones: [],
    });
    const result = mapUsers(
      [
        { id: 'a', email: 'admin@EXAMPLE.com' },
        { id: 'b', email: 'dup@x.io' },
        { id: 'c', email: null, phone: '15550000001' },
        { id: 'd', email: 'nobody@x.io' },
      ],
      newUsers,
    );
    expect(result.mappings.map((m) => [m.oldId, m.newId, m.matchedBy])).toEqual([
      ['a', 'n1', 'email'],
      ['c', 'n4', 'phone'],
    ]);
    expect(result.unmatched.map((u) => [u.oldId, u.reason])).toEqual([
      ['b', '2 new users have this email: n2, n3'],
      ['d', 'no new user with this external id, email or phone'],
    ]);
  });

  it('import --user-map refuses unmatched ids before writing a row', async () => {
    const targetUrl = await createDatabase('users_refuse');
    await createSampleSchema(targetUrl);
    const error = await importDatabase({ targetUrl, inputDir: dir, userMap: map }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(String(error)).toMatch(/user id value\(s\) in the data have no mapping/);
    const target = await connectTo(targetUrl);
    const { rows } = await target.query(
      `select sum(n_live_tup)::int as n from pg_stat_user_tables where schemaname = 'public'`,
    );
    expect((await target.query('select count(*)::int as n from public.devices')).rows[0].n).toBe(0);
    expect((await target.query('select count(*)::int as n from public.profiles')).rows[0].n).toBe(0);
    expect(rows[0].n ?? 0).toBe(0);
    const run = await cli(['import', '-i', dir, '--target-url', targetUrl, '--user-map', mapFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/have no mapping in the user map/);
  });

  it('with --unmatched keep and --user-columns, rewrites exactly the user columns', async () => {
    const targetUrl = await createDatabase('users_keep');
    await createSampleSchema(targetUrl);
    const result = await importDatabase({
      targetUrl,
      inputDir: dir,
      userMap: map,
      unmatched: 'keep',
      userColumns: ['public.event_logs.actor_id', 'teams.member_ids'],
      jobs: 2,
    });
    expect(result.failures).toEqual([]);
    const target = await connectTo(targetUrl);
    const newOf = new Map(map.mappings.map((m) => [m.oldId, m.newId]));
    const anonymous = map.unmatched[0]!.oldId;
    const expected = (v: string | null) => (v === null ? null : (newOf.get(v) ?? v));
    expect(result.userColumns.map((c) => `${c.table}.${c.column}`)).toEqual(
      expect.arrayContaining([
        'devices.owner_id',
        'profiles.id',
        'alerts.acknowledged_by',
        'event_logs.actor_id',
        'teams.member_ids',
      ]),
    );
    for (const c of result.userColumns) {
      const q = (client: pg.Client) =>
        client.query<{ k: string; v: unknown }>(
          `select t::text as k, ${client.escapeIdentifier(c.column)} as v from ${client.escapeIdentifier(c.schema)}.${client.escapeIdentifier(c.table)} t`,
        );
      // Pair rows by their other columns: every column but the user column is unchanged.
      const before = (await q(source)).rows;
      const after = (await q(target)).rows;
      expect(after).toHaveLength(before.length);
      const want = before
        .map((r) =>
          Array.isArray(r.v) ? (r.v as (string | null)[]).map(expected) : expected(r.v as string | null),
        )
        .map((v) => JSON.stringify(v))
        .sort();
      expect(after.map((r) => JSON.stringify(r.v)).sort(), `${c.table}.${c.column}`).toEqual(want);
    }
    const owners = (await target.query<{ owner_id: string }>('select owner_id from public.devices')).rows.map(
      (r) => r.owner_id,
    );
    expect(owners).toContain(anonymous);
    expect(owners.some((o) => newOf.has(o))).toBe(false);
    // Other uuid columns are untouched, even where a value equals a user id.
    for (const table of ['organizations', 'sites', 'notifications']) {
      const cols = (
        await source.query<{ c: string }>(
          `select attname as c from pg_attribute where attrelid = $1::regclass and atttypid = 'uuid'::regtype and attnum > 0`,
          [`public.${table}`],
        )
      ).rows.map((r) => r.c);
      const userCols = result.userColumns.filter((u) => u.table === table).map((u) => u.column);
      for (const col of cols.filter((c) => !userCols.includes(c))) {
        const sql = `select ${source.escapeIdentifier(col)}::text as v from public.${table} order by 1`;
        expect((await target.query(sql)).rows, `${table}.${col}`).toEqual((await source.query(sql)).rows);
      }
    }
    expect(await tableText(target, 'public', 'sensor_readings')).toEqual(
      await tableText(source, 'public', 'sensor_readings'),
    );
    const rewritten = result.userColumns.find((c) => c.column === 'owner_id')!;
    expect(rewritten.rewritten).toBeGreaterThan(0);
    expect(rewritten.unmatched).toBeGreaterThan(0);
  });

  it('refuses new ids a uuid column cannot hold, naming the column and the fix', async () => {
    const targetUrl = await createDatabase('users_type');
    await createSampleSchema(targetUrl);
    const textIds: UserMap = {
      mappings: map.mappings.map((m) => ({ ...m, newId: `user_${m.newId.slice(0, 8)}` })),
      unmatched: [],
    };
    const error = await importDatabase({
      targetUrl,
      inputDir: dir,
      userMap: textIds,
      unmatched: 'keep',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(String(error)).toMatch(
      /public\.devices\.owner_id is uuid in the target and cannot hold the new ids \(e\.g\. "user_[0-9a-f]{8}"[^;]*; change its type first, e\.g\. ALTER TABLE "public"\."devices" ALTER COLUMN "owner_id" TYPE text/,
    );
  });

  it('--unmatched null is refused for NOT NULL columns holding unmatched ids', async () => {
    const targetUrl = await createDatabase('users_null');
    await createSampleSchema(targetUrl);
    const error = await importDatabase({ targetUrl, inputDir: dir, userMap: map, unmatched: 'null' }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(
      /public\.notifications\.user_id is NOT NULL: --unmatched null cannot clear its \d+ unmatched user id/,
    );
    // With the ids kept, nothing is refused; the NOT NULL check only concerns columns with unmatched ids.
    expect(String(error)).not.toMatch(/public\.profiles\.id is NOT NULL/);
  });

  it('exports users for Clerk, Auth0, CSV and JSON, keeping every bcrypt hash', async () => {
    const hashed = users.filter((u) => u.encrypted_password?.startsWith('$2') && !u.deleted_at && u.email);
    expect(hashed.length).toBeGreaterThan(20);
    const clerk = await exportUsersForProvider(users, 'clerk', join(dir, 'clerk.json'));
    const clerkUsers = JSON.parse(await readFile(clerk.files[0]!, 'utf8')) as Record<string, unknown>[];
    for (const u of hashed) {
      expect(clerkUsers.find((c) => c.externalId === u.id)).toMatchObject({
        passwordDigest: u.encrypted_password,
        passwordHasher: 'bcrypt',
        emailAddress: [u.email],
      });
    }
    expect(clerk.skippedNoEmailOrPhone).toContain(map.unmatched[0]!.oldId);
    const auth0 = await exportUsersForProvider(users, 'auth0', join(dir, 'auth0.json'));
    const auth0Users = JSON.parse(await readFile(auth0.files[0]!, 'utf8')) as Record<string, unknown>[];
    for (const u of hashed) {
      expect(auth0Users.find((a) => a.user_id === u.id)).toMatchObject({
        email: u.email,
        email_verified: Boolean(u.email_confirmed_at),
        custom_password_hash: { algorithm: 'bcrypt', hash: { value: u.encrypted_password } },
      });
    }
    const csv = await exportUsersForProvider(users, 'csv', join(dir, 'users.csv'));
    const rows = parse(await readFile(csv.files[0]!, 'utf8'), { columns: true }) as Record<string, string>[];
    for (const u of hashed) expect(rows.find((r) => r.id === u.id)?.passwordHash).toBe(u.encrypted_password);
    const json = await exportUsersForProvider(users, 'json', join(dir, 'users.json'));
    const plain = JSON.parse(await readFile(json.files[0]!, 'utf8')) as Record<string, unknown>[];
    for (const u of hashed)
      expect(plain.find((p) => p.id === u.id)).toMatchObject({
        passwordHash: u.encrypted_password,
        passwordHasher: 'bcrypt',
      });
    const run = await cli([
      'users',
      'export',
      '-i',
      dir,
      '--format',
      'auth0',
      '--out',
      join(dir, 'cli-auth0.json'),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/with a bcrypt password hash: \d+/);
    const { stat } = await import('node:fs/promises');
    expect(((await stat(join(dir, 'cli-auth0.json'))).mode & 0o777).toString(8)).toBe('600');
  });

  it('users export / users map onto an existing 0644 file: refused without --force, 0600 with it', async () => {
    const { chmod, stat } = await import('node:fs/promises');
    const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
    for (const [command, extra] of [
      ['export', ['--format', 'clerk']],
      ['map', ['--new-users', join(dir, 'new-users.json')]],
    ] as const) {
      const out = join(dir, `existing-${command}.json`);
      await writeFile(out, 'old contents\n');
      await chmod(out, 0o644);
      const args = ['users', command, '-i', dir, ...extra, '--out', out];
      const refused = await cli(args);
      expect(refused.code, command).toBe(2);
      expect(refused.stderr.trim()).toBe(
        `supamigrate: ${out} already exists: not replaced (give --force to replace it)`,
      );
      expect(await readFile(out, 'utf8')).toBe('old contents\n');
      expect(await mode(out)).toBe('644');
      const forced = await cli([...args, '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(await mode(out)).toBe('600');
      expect(await readFile(out, 'utf8')).not.toBe('old contents\n');
    }
  });

  it('users export names its default file users.<format>.json, or users.csv, users.json', async () => {
    const cwd = await tempDir('users_cwd');
    const { execFile } = await import('node:child_process');
    const bin = new URL('../../bin/supamigrate.js', import.meta.url).pathname;
    for (const format of ['csv', 'clerk', 'json']) {
      await new Promise<void>((resolve, reject) =>
        execFile('node', [bin, 'users', 'export', '-i', dir, '--format', format], { cwd }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    }
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(cwd)).sort()).toEqual(['users.clerk.json', 'users.csv', 'users.json']);
  });

  it('users map: Clerk objects map every user by external id (anonymous too), one without it by email', async () => {
    const clerk = users.map((u, i) => clerkUser(u, { externalId: i !== 1 }));
    const file = join(dir, 'clerk-users.json');
    await writeFile(file, JSON.stringify({ data: clerk, totalCount: clerk.length }));
    const out = join(dir, 'clerk-map.json');
    const run = await cli(['users', 'map', '-i', dir, '--new-users', file, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/as Clerk user objects\./);
    expect(run.stdout).toMatch(/Matched: 40 \(by email 1, by phone 0, by external id 39\)/);
    const clerkMap = JSON.parse(await readFile(out, 'utf8')) as UserMap;
    const anonymous = users.find((u) => u.is_anonymous)!;
    expect(clerkMap.mappings.find((m) => m.oldId === anonymous.id)).toMatchObject({
      newId: clerkId(anonymous),
      matchedBy: 'external id',
    });
  });

  it('users map: an Auth0 export (NDJSON) maps every user with an email; one without the field is refused', async () => {
    const file = join(dir, 'auth0-export.json');
    await writeFile(
      file,
      users
        .filter((u) => u.email)
        .map((u) => JSON.stringify(auth0ExportLine(u)))
        .join('\n'),
    );
    const out = join(dir, 'auth0-map.json');
    const run = await cli(['users', 'map', '-i', dir, '--new-users', file, '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { matched: number; readAs: string };
    expect(result).toMatchObject({ matched: users.filter((u) => u.email).length, readAs: 'Auth0 users' });
    const noEmail = join(dir, 'auth0-no-email.json');
    await writeFile(
      noEmail,
      users.map((u) => JSON.stringify({ user_id: `auth0|${u.id}`, name: 'x' })).join('\n'),
    );
    const refused = await cli([
      'users',
      'map',
      '-i',
      dir,
      '--new-users',
      noEmail,
      '--out',
      join(dir, 'x.json'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^supamigrate: new users file \S+ \(Auth0 users\): no user has the field "email"/,
      ),
    ]);
    const none = join(dir, 'nobody.json');
    await writeFile(none, JSON.stringify([{ id: 'n1', email: 'nobody@nowhere.test' }]));
    const zero = await cli(['users', 'map', '-i', dir, '--new-users', none, '--out', join(dir, 'y.json')]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/^supamigrate: no Supabase user matched any of the 1 new users/);
  });
});
