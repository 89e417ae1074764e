import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureSql } from '../../src/demo/fixtures.js';
import type { UserMap } from '../../src/format/user-map.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

/*
 * A multi-tenant app shaped like basejump: a personal account's id IS its owner's user id (no foreign key
 * says so), team accounts have ids of their own, and account_user.account_id and public.projects.account_id
 * reference accounts by foreign key. More team accounts than personal ones, so the scan must find
 * accounts.id by "equals its row's owner", not by the share of user ids alone.
 */
const schemaSql = (authFks: boolean) => {
  const users = authFks ? 'references auth.users (id)' : '';
  return /* SQL */ `
    create schema basejump;
    create table basejump.accounts (
      id uuid primary key default gen_random_uuid(),
      primary_owner_user_id uuid not null ${users},
      name text not null,
      personal_account boolean not null default false
    );
    create table basejump.account_user (
      user_id uuid not null ${users},
      account_id uuid not null references basejump.accounts (id) on delete cascade,
      account_role text not null,
      primary key (user_id, account_id)
    );
    create table public.activity (
      id bigint generated always as identity primary key,
      actor text not null
    );
    create table public.projects (
      id bigint generated always as identity primary key,
      account_id uuid not null references basejump.accounts (id),
      title text not null
    );`;
};

const SEED_SQL = /* SQL */ `
  insert into auth.users (id, aud, role, email, email_confirmed_at, created_at)
    select md5('bj' || i)::uuid, 'authenticated', 'authenticated', 'member' || i || '@tenant.test', now(), now()
    from generate_series(1, 30) i;
  insert into basejump.accounts (id, primary_owner_user_id, name, personal_account)
    select id, id, email, true from auth.users;
  insert into basejump.accounts (id, primary_owner_user_id, name)
    select md5('team' || i)::uuid, md5('bj' || (i % 30 + 1))::uuid, 'Team ' || i from generate_series(1, 40) i;
  insert into basejump.account_user (user_id, account_id, account_role)
    select primary_owner_user_id, id, 'owner' from basejump.accounts;
  insert into basejump.account_user (user_id, account_id, account_role)
    select md5('bj' || ((i + 7) % 30 + 1))::uuid, md5('team' || i)::uuid, 'member' from generate_series(1, 40) i;
  insert into public.projects (account_id, title) select id, 'Project of ' || name from basejump.accounts;
  insert into public.activity (actor) select md5('bj' || (i % 30 + 1))::uuid::text from generate_series(1, 3000) i;`;

describe('users scan and import on a basejump-style schema (personal account id = user id)', () => {
  let dir: string;
  let sourceUrl: string;
  let mapFile: string;
  let map: UserMap;
  let proposal: string;

  beforeAll(async () => {
    sourceUrl = await createDatabase('bj_src');
    const source = await connectTo(sourceUrl);
    await source.query(await fixtureSql('supabase-auth.sql'));
    await source.query(schemaSql(true));
    await source.query(SEED_SQL);
    dir = join(await tempDir('bj'), 'export');
    const exported = await cli([
      'export',
      '--db-url',
      sourceUrl,
      '-o',
      dir,
      '--schema',
      'public',
      '--schema',
      'basejump',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    // The new provider: Cognito, whose `sub` (a uuid) is the id the app will store.
    const { rows } = await source.query<{ email: string }>('select email from auth.users order by email');
    const cognito = {
      Users: rows.map((r) => ({
        Username: randomUUID(),
        Attributes: [
          { Name: 'sub', Value: randomUUID() },
          { Name: 'email', Value: r.email.toUpperCase() },
          { Name: 'email_verified', Value: 'true' },
        ],
        Enabled: true,
        UserStatus: 'CONFIRMED',
      })),
    };
    await writeFile(join(dir, '..', 'cognito-users.json'), JSON.stringify(cognito, null, 2));
    mapFile = join(dir, '..', 'user-map.json');
    const mapped = await cli([
      'users',
      'map',
      '-i',
      dir,
      '--new-users',
      join(dir, '..', 'cognito-users.json'),
      '--out',
      mapFile,
    ]);
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(mapped.stdout).toMatch(/Read .* as Cognito ListUsers\./);
    expect(mapped.stdout).toMatch(/Matched: 30 \(by email 30, by phone 0, by external id 0\)/);
    map = JSON.parse(await readFile(mapFile, 'utf8')) as UserMap;
  });

  it('users scan proposes accounts.id and every column referencing it, with counts and examples', async () => {
    const run = await cli(['users', 'scan', '-i', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /Columns with a foreign key into auth\.users \(rewritten by import --user-map without asking\): .*basejump\.accounts\.primary_owner_user_id/,
    );
    expect(run.stdout).toMatch(
      /basejump\.accounts\.id\s+43% user ids; equals its row's owner in 30 row\(s\)\s+70\s+30\s+[0-9a-f-]{36}/,
    );
    expect(run.stdout).toMatch(
      /basejump\.account_user\.account_id\s+27% user ids; equals its row's owner in 30 row\(s\)/,
    );
    expect(run.stdout).toMatch(/public\.projects\.account_id\s+references basejump\.accounts\.id/);
    // A text column of user ids in a table larger than the sample: 1,000 rows read, not 3,000.
    expect(run.stdout).toMatch(/public\.activity\.actor\s+100% user ids\s+1,000\s+1,000\s/);
    proposal = /--user-columns (\S+)/.exec(run.stdout)![1]!;
    expect(proposal.split(',').sort()).toEqual([
      'basejump.account_user.account_id',
      'basejump.accounts.id',
      'public.activity.actor',
      'public.projects.account_id',
    ]);
    const json = await cli(['users', 'scan', '-i', dir, '--json']);
    expect((JSON.parse(json.stdout) as { userColumns: string }).userColumns).toBe(proposal);
  });

  it('import with the proposal leaves no account on an old id; verify needs no flags', async () => {
    const targetUrl = await createDatabase('bj_tgt');
    const target = await connectTo(targetUrl);
    // Moving off Supabase auth: the target has no auth.users to reference.
    await target.query(schemaSql(false));
    const importArgs = ['import', '-i', dir, '--target-url', targetUrl, '--user-map', mapFile];
    const dry = await cli([...importArgs, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/User ids in columns without a foreign key \(users scan\):/);
    expect(dry.stdout).toContain(`--user-columns ${proposal}`);
    expect(dry.stdout).toMatch(
      /note: not in your --user-columns, so kept as they are: .*basejump\.accounts\.id/,
    );

    // A real import without the proposal says, before loading, which columns keep the old ids.
    const bareUrl = await createDatabase('bj_bare');
    await (await connectTo(bareUrl)).query(schemaSql(false));
    const bare = await cli(['import', '-i', dir, '--target-url', bareUrl, '--user-map', mapFile]);
    expect(bare.stdout + bare.stderr).toMatch(
      /column\(s\) hold user ids by the users scan's rule and are not rewritten \(not in --user-columns\), so they keep the old ids: .*basejump\.accounts\.id/,
    );

    const run = await cli([...importArgs, '--user-columns', proposal]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(/by the users scan's rule and are not rewritten/);
    const oldIds = map.mappings.map((m) => m.oldId);
    const q = async (sql: string) => (await target.query<{ n: number }>(sql, [oldIds])).rows[0]!.n;
    expect(await q('select count(*)::int as n from basejump.accounts where id::text = any($1)')).toBe(0);
    expect(await q('select count(*)::int as n from public.activity where actor = any($1)')).toBe(0);
    expect(
      await q('select count(*)::int as n from basejump.accounts where primary_owner_user_id::text = any($1)'),
    ).toBe(0);
    expect(
      await q(
        'select count(*)::int as n from basejump.account_user where account_id::text = any($1) or user_id::text = any($1)',
      ),
    ).toBe(0);
    // Every personal account is on its owner's new id; team accounts kept their ids; nothing dangles.
    const personal = await target.query<{ n: number; same: number }>(
      'select count(*)::int as n, count(*) filter (where id = primary_owner_user_id)::int as same from basejump.accounts where personal_account',
    );
    expect(personal.rows[0]).toEqual({ n: 30, same: 30 });
    const count = async (sql: string) => (await target.query<{ n: number }>(sql)).rows[0]!.n;
    expect(
      await count(
        `select count(*)::int as n from basejump.accounts where not personal_account and id in (select md5('team' || i)::uuid from generate_series(1, 40) i)`,
      ),
    ).toBe(40);
    expect(
      await count(
        'select count(*)::int as n from public.projects p where not exists (select from basejump.accounts a where a.id = p.account_id)',
      ),
    ).toBe(0);

    const verify = await cli(['verify', '-i', dir, '--db-url', sourceUrl, '--target-url', targetUrl]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(
      /note: compared user columns through the user map the import recorded in the target/,
    );
  });

  it('the source is untouched by a mapped import (sanity: old ids are still there)', async () => {
    const source = new pg.Client({ connectionString: sourceUrl });
    await source.connect();
    try {
      const { rows } = await source.query<{ n: number }>(
        'select count(*)::int as n from basejump.accounts where id = primary_owner_user_id',
      );
      expect(rows[0]!.n).toBe(30);
    } finally {
      await source.end();
    }
  });
});
