import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/pg/embedded.js';
import { cli, noStack } from '../support/cli.js';
import { createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

/*
 * `supamigrate schema` into a second server that has none of Supabase's roles (roles are cluster-wide, so
 * a database on the test server would not do): schema → export → import → verify, each exit 0 with the
 * URLs alone; the app's objects exist; an "own rows" policy works for `authenticated` with a user's claims.
 */

let target: EmbeddedServer;
let source: string;
const clients: pg.Client[] = [];

/** A client closed before the second server stops (row-level security on, as an application has it). */
async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

const APP_OBJECTS_SQL = /* SQL */ `
  select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('public', 'billing') and c.relkind in ('r', 'p'))::int as tables,
         (select count(*) from pg_constraint c join pg_namespace n on n.oid = c.connamespace
           where n.nspname in ('public', 'billing') and c.contype = 'f')::int as fks,
         (select count(*) from pg_policy p join pg_class c on c.oid = p.polrelid
           join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'billing'))::int as policies,
         (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('public', 'billing') and c.relkind in ('v', 'm'))::int as views,
         (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname in ('public', 'billing'))::int as functions,
         (select count(*) from pg_trigger t join pg_class c on c.oid = t.tgrelid
           join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('public', 'billing') and not t.tgisinternal)::int as triggers`;

async function count(url: string) {
  const c = await connectTo(url);
  return (await c.query(APP_OBJECTS_SQL)).rows[0] as Record<string, number>;
}

/** As `authenticated` with the claims of the user `sub`: the invoices the policies show. */
async function invoicesSeenBy(url: string, sub: string): Promise<{ all: number; own: number }> {
  const c = await connectTo(url);
  await c.query('begin');
  try {
    await c.query('set local role authenticated');
    await c.query(`select set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub, role: 'authenticated' }),
    ]);
    const { rows } = await c.query<{ all: number; own: number }>(
      'select count(*)::int as all, count(*) filter (where owner_id::text = $1)::int as own from billing.invoices',
      [sub],
    );
    return rows[0]!;
  } finally {
    await c.query('rollback');
  }
}

beforeAll(async () => {
  target = await startEmbeddedPostgres();
  source = await createFixtureDatabase('schema_src');
  const c = await connectTo(source);
  await c.query(await readFile(new URL('../fixtures/schema-app.sql', import.meta.url), 'utf8'));
}, 120_000);

afterAll(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  await target?.stop();
});

describe('supamigrate schema', () => {
  it('schema → export → import → verify on a server without Supabase roles, RLS working', async () => {
    const url = await target.createDatabase('plain');
    const dir = join(await tempDir('schema'), 'export');
    const schema = await cli(['schema', '--db-url', source, '--target-url', url]);
    expect(schema.stderr + schema.stdout).toContain('Created:');
    expect(schema.code).toBe(0);
    expect(schema.stdout).toMatch(
      /on_auth_user_created on auth\.users → public\.handle_new_user\(\) inserted into public\.user_settings at sign-up/,
    );
    expect(schema.stdout).toMatch(
      /avatar_uploaded on storage\.objects → public\.on_avatar_uploaded\(\) updated public\.user_settings when a file is uploaded: not created/,
    );
    expect(schema.stdout).toMatch(
      /update_objects_updated_at on storage\.objects → storage\.touch_object\(\): Supabase Storage's own trigger: not created/,
    );
    expect(schema.stdout).not.toMatch(/storage\.objects .*(sign-up|webhook)/);
    expect(schema.stdout).toMatch(/authenticated: created NOLOGIN/);
    expect(schema.stdout).toMatch(/Schemas included: billing, public/);
    expect(schema.stdout).toMatch(
      /storage\.objects: created .* because application foreign keys point into it/,
    );
    expect(schema.stdout).toMatch(/storage\.buckets: created/);
    expect(schema.stdout).toMatch(/policy "Users upload their own avatar" on storage\.objects: not created/);
    const script = await cli(['schema', '--db-url', source, '--dry-run']);
    expect(script.stdout).toMatch(/create policy "own settings" on "public"\."user_settings"/);
    expect(script.stdout).not.toMatch(/supabase_admin|dashboard_user|to "postgres"/);
    const plan = await cli(['export', '--db-url', source, '--dry-run']);
    expect(plan.stdout).toMatch(/Schemas included: billing, public, supamigrate_fixture/);
    expect(plan.stdout).toMatch(
      /auth \(Supabase's own \(auth users are exported apart\)\), extensions \(Supabase's own\)/,
    );
    const exp = await cli(['export', '--db-url', source, '-o', dir]);
    expect(exp.code, exp.stderr).toBe(0);
    const dry = await cli(['import', '--target-url', url, '-i', dir, '--dry-run']);
    expect(dry.stdout).toMatch(
      /note: the export's schemas included: billing, public, supamigrate_fixture; left out: auth/,
    );
    expect(dry.stdout).toMatch(/auth users would be loaded into the target's minimal auth\.users/);
    const imp = await cli(['import', '--target-url', url, '-i', dir]);
    expect(imp.code, imp.stderr + imp.stdout).toBe(0);
    const ver = await cli(['verify', '--db-url', source, '--target-url', url, '-i', dir]);
    expect(ver.code, ver.stdout).toBe(0);
    expect(await count(url)).toEqual(await count(source));
    expect(ver.stdout).toMatch(/✓ storage\.objects/);

    const src = await connectTo(source);
    const owner = (
      await src.query<{ id: string }>('select owner_id::text as id from billing.invoices limit 1')
    ).rows[0]!.id;
    const seen = await invoicesSeenBy(url, owner);
    expect(seen.all).toBeGreaterThan(0);
    expect(seen.own).toBe(seen.all);
  }, 120_000);

  it('with Clerk-style ids: user-id columns and auth.uid() are text, and the same holds', async () => {
    const url = await target.createDatabase('clerk');
    const work = await tempDir('schema-clerk');
    const dir = join(work, 'export');
    const src = await connectTo(source);
    const users = (
      await src.query<{ id: string; email: string | null }>('select id::text, email from auth.users')
    ).rows;
    const map = join(work, 'user-map.json');
    const newId = (id: string) => `user_${id.replace(/-/g, '').slice(0, 24)}`;
    await writeFile(
      map,
      JSON.stringify({ mappings: users.map((u) => ({ oldId: u.id, newId: newId(u.id), email: u.email })) }),
    );
    const schema = await cli(['schema', '--db-url', source, '--target-url', url, '--user-map', map]);
    expect(schema.code, schema.stderr + schema.stdout).toBe(0);
    expect(schema.stdout).toMatch(/billing\.invoices\.owner_id: text/);
    expect(schema.stdout).toMatch(
      /public\.devices_of\(uuid\): still takes uuid \(p_user uuid\): a call passing it a user id \(text now\) fails/,
    );
    expect(schema.stdout).toMatch(/public\.is_me\(text\): parameter p_user uuid made text/);
    expect(schema.stdout).toMatch(/billing\.can_see\(uuid,text\): parameter p_user uuid made text/);
    expect(schema.stdout).toMatch(/public\.user_notes\.author_id: text/);
    expect((await cli(['export', '--db-url', source, '-o', dir])).code).toBe(0);
    const imp = await cli(['import', '--target-url', url, '-i', dir, '--user-map', map]);
    expect(imp.code, imp.stderr + imp.stdout).toBe(0);
    const ver = await cli(['verify', '--db-url', source, '--target-url', url, '-i', dir, '--user-map', map]);
    expect(ver.code, ver.stdout).toBe(0);
    const owner = (
      await src.query<{ id: string }>('select owner_id::text as id from billing.invoices limit 1')
    ).rows[0]!.id;
    const seen = await invoicesSeenBy(url, newId(owner));
    expect(seen.all).toBeGreaterThan(0);
    expect(seen.own).toBe(seen.all);
  }, 120_000);

  it('as a non-superuser owner: what it cannot do is reported before anything is written; with CREATEROLE it works', async () => {
    const admin = await connectTo(target.url());
    await admin.query('create role schema_owner login createrole createdb');
    await admin.query('create role schema_weak login createdb');
    await admin.query("alter role schema_owner password 'owner-pw'");
    await admin.query("alter role schema_weak password 'weak-pw'");
    const as = (role: string, password: string, db: string) => {
      const u = new URL(target.url(db));
      u.username = role;
      u.password = password;
      return u.toString();
    };
    await new pg.Client({ connectionString: as('schema_weak', 'weak-pw', 'postgres') })
      .connect()
      .then(async (c) => {
        await c.query('create database weak_db');
        await c.end();
      });
    // Without CREATEROLE: a role the target lacks is reported, with what to do, and nothing is written.
    const weakUrl = as('schema_weak', 'weak-pw', 'weak_db');
    const weak = await cli([
      'schema',
      '--db-url',
      source,
      '--target-url',
      weakUrl,
      '--role-map',
      'service_role=app_service',
    ]);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(
      /role app_service \(for service_role, --role-map\) does not exist in the target and schema_weak may not create roles/,
    );
    expect(weak.stderr).toMatch(/--role-map/);
    noStack(weak.stderr);
    expect(weak.stdout + weak.stderr).not.toContain('weak-pw');
    const check = await connectTo(target.url('weak_db'));
    expect((await check.query("select to_regclass('billing.invoices') as t")).rows[0].t).toBeNull();

    const c = new pg.Client({ connectionString: as('schema_owner', 'owner-pw', 'postgres') });
    await c.connect();
    await c.query('create database owner_db');
    await c.end();
    // A trigger calls moddatetime(), which only a superuser may install: found before anything is written.
    const ownerUrl = as('schema_owner', 'owner-pw', 'owner_db');
    const blocked = await cli(['schema', '--db-url', source, '--target-url', ownerUrl]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(
      /extension moddatetime \(schema extensions\): cannot be created: .*; trigger customers_updated_at on table billing\.customers uses function extensions\.moddatetime\(\): have the extension installed first \(as a superuser: create schema if not exists "extensions"; create extension "moddatetime" schema "extensions"; grant usage, create on schema "extensions" to "schema_owner"\)/,
    );
    const owned = await connectTo(target.url('owner_db'));
    expect((await owned.query("select to_regclass('billing.invoices') as t")).rows[0].t).toBeNull();
    await owned.query('create schema extensions');
    await owned.query('create extension moddatetime schema extensions');
    // The schema the superuser made is not the owner's: found before writing, with the grant to give.
    const noRights = await cli(['schema', '--db-url', source, '--target-url', ownerUrl]);
    expect(noRights.code).toBe(1);
    expect(noRights.stderr).toMatch(
      /schema extensions exists in the target and schema_owner may not (use|create objects in) it: as its owner or a superuser, grant usage(, create)? on schema "extensions" to "schema_owner"/,
    );
    expect((await owned.query("select to_regclass('billing.invoices') as t")).rows[0].t).toBeNull();
    await owned.query('grant usage, create on schema extensions to schema_owner');
    const ok = await cli(['schema', '--db-url', source, '--target-url', ownerUrl]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/moddatetime: installed in the target already/);
    expect(ok.stdout).toMatch(
      /extension pg_buffercache \(schema extensions\): cannot be created: it needs a superuser \(schema_owner is not one, and the extension is not trusted\); left out/,
    );
    expect(ok.stdout).toMatch(/citext: created in schema extensions/);
    expect(await count(target.url('owner_db'))).toEqual(await count(source));
  }, 120_000);

  it('a target that has some of the objects: the differences, and nothing written; --if-not-exists creates the rest', async () => {
    const url = await target.createDatabase('partial');
    const c = await connectTo(url);
    await c.query(`create schema billing;
      create table billing.customers (id uuid primary key, note text);
      create type billing.period as range (subtype = date, subtype_diff = daterange_subdiff)`);
    const stop = await cli(['schema', '--db-url', source, '--target-url', url]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toMatch(/2 problems found before writing/);
    expect(stop.stderr).toMatch(
      /table billing\.customers exists in the target and differs: column\(s\) user_id, email, created_by, updated_at missing, column\(s\) note extra \(not in the source\)/,
    );
    expect(stop.stderr).toMatch(/type billing\.period exists in the target, identical to the source's/);
    expect((await c.query("select to_regclass('billing.invoices') as t")).rows[0].t).toBeNull();
    // --if-not-exists leaves identical objects alone, not one that differs (a view may need its columns).
    const args = ['schema', '--db-url', source, '--target-url', url, '--if-not-exists', '--dry-run'];
    const refused = await cli(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/a problem found before writing .*\n.*table billing\.customers exists/);
    await c.query('drop table billing.customers');
    const dry = await cli(args);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/create table "billing"\."invoices"/);
    expect(dry.stdout).toMatch(
      /type billing\.period: exists in the target, identical to the source's, left as it is/,
    );
    expect((await c.query("select to_regclass('billing.invoices') as t")).rows[0].t).toBeNull();
  }, 120_000);

  it('a PostgreSQL 17 source into an older target: MAINTAIN left out, 17-only DDL found before writing', async (ctx) => {
    const olderUrl = await createDatabase('older');
    const older = await connectTo(olderUrl);
    const version = (await older.query("select current_setting('server_version_num')::int as v")).rows[0].v;
    if (version >= 170000) return ctx.skip(); // the test server is not older than the embedded 17
    const src17 = await target.createDatabase('src17');
    const c = await connectTo(src17);
    await c.query(`do $r$ begin create role anon nologin; exception when duplicate_object then null; end $r$;
      create table public.rooms (id int primary key, name text);
      grant all on public.rooms to anon;
      create table public.bookings (room int not null, note text, exclude using btree (room with =))
        partition by list (room);
      create view public.room_cards as select JSON_OBJECT('id': id, 'name': name) as card from public.rooms`);
    const run = await cli(['schema', '--db-url', src17, '--target-url', olderUrl, '--dry-run']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /MAINTAIN \(PostgreSQL 17\): not a privilege on the target's PostgreSQL 1\d: 1 grant\(s\) of it to anon left out/,
    );
    expect(run.stdout).not.toMatch(/grant maintain/);
    expect(run.stderr).toMatch(
      /view public\.room_cards uses SQL of PostgreSQL 16 \(the target runs 1\d\): rewrite it in the source/,
    );
    expect(run.stderr).toMatch(
      /exclusion constraint bookings_room_excl on partitioned table public\.bookings: PostgreSQL 1\d \(the target\) has none/,
    );
  }, 60_000);

  it('--out writes a script that creates the same objects in one transaction, without connecting to a target', async () => {
    const file = join(await tempDir('schema-out'), 'schema.sql');
    const run = await cli(['schema', '--db-url', source, '--out', file]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Script written to .*schema\.sql/);
    const url = await target.createDatabase('script');
    const c = await connectTo(url);
    await c.query('begin');
    await c.query(await readFile(file, 'utf8'));
    await c.query('commit');
    expect(await count(url)).toEqual(await count(source));
  }, 120_000);

  it('creates the same catalog as pg_dump --schema-only restored (where pg_dump can read the server)', async (ctx) => {
    const dump = await promisify(execFile)(
      'pg_dump',
      ['--schema-only', '-n', 'public', '-n', 'billing', source],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    ).catch(() => undefined);
    if (!dump) return ctx.skip(); // no pg_dump, or one older than the server
    const [a, b] = [await createDatabase('dumped'), await createDatabase('ours')];
    for (const url of [a, b]) {
      const c = await connectTo(url);
      await c.query(await readFile(new URL('../../fixtures/supabase-auth.sql', import.meta.url), 'utf8'));
      await c.query('create schema extensions');
      for (const e of ['citext', 'uuid-ossp', 'pgcrypto', 'moddatetime'])
        await c.query(`create extension "${e}" with schema extensions`);
    }
    const restore = await connectTo(a);
    await restore.query(dump.stdout.replace(/^CREATE SCHEMA public;$/gm, '').replace(/^\\.*$/gm, ''));
    await restore.end();
    const ours = await cli([
      'schema',
      '--db-url',
      source,
      '--target-url',
      b,
      '--schema',
      'public',
      '--schema',
      'billing',
    ]);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    const catalog = async (url: string) =>
      (await (await connectTo(url)).query(CATALOG_SQL)).rows.map((r) => `${r.kind} ${r.item}`);
    const [dumped, created] = [await catalog(a), await catalog(b)];
    expect(created.length).toBeGreaterThan(300);
    expect(created).toEqual(dumped);
  }, 120_000);
});

/**
 * Columns, constraints, indexes, policies, triggers, views, functions (a range type's constructors its own),
 * aggregates, sequences (identity options too), extended statistics and RLS of public and billing.
 */
const CATALOG_SQL = /* SQL */ `
  with app as (select oid from pg_namespace where nspname in ('public', 'billing'))
  select 'column' as kind, c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
           || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || a.attidentity::text || a.attgenerated::text as item
    from pg_attribute a join pg_class c on c.oid = a.attrelid
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where c.relnamespace in (select oid from app) and a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm')
  union all select 'constraint', conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    from pg_constraint where connamespace in (select oid from app)
  union all select 'index', pg_get_indexdef(i.indexrelid)
    from pg_index i join pg_class c on c.oid = i.indrelid where c.relnamespace in (select oid from app)
  union all select 'policy', polrelid::regclass || ' ' || polname || ' ' || polcmd::text || ' ' || coalesce(pg_get_expr(polqual, polrelid), '')
           || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '') || ' ' || polroles::regrole[]::text
    from pg_policy
  union all select 'trigger', pg_get_triggerdef(t.oid)
    from pg_trigger t join pg_class c on c.oid = t.tgrelid where not t.tgisinternal and c.relnamespace in (select oid from app)
  union all select 'view', c.oid::regclass || ' ' || pg_get_viewdef(c.oid)
    from pg_class c where c.relnamespace in (select oid from app) and c.relkind in ('v', 'm')
  union all select 'function', pg_get_functiondef(p.oid)
    from pg_proc p where p.pronamespace in (select oid from app) and p.prokind <> 'a'
  union all select 'aggregate', a.aggfnoid::regprocedure || ' ' || a.aggtransfn::regproc || ' '
           || format_type(a.aggtranstype, null) || ' ' || coalesce(a.agginitval, 'null')
    from pg_aggregate a join pg_proc p on p.oid = a.aggfnoid where p.pronamespace in (select oid from app)
  union all select 'sequence', s.seqrelid::regclass || ' ' || format_type(s.seqtypid, null) || ' ' || s.seqstart || ' '
           || s.seqincrement || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcache || ' ' || s.seqcycle
    from pg_sequence s join pg_class c on c.oid = s.seqrelid where c.relnamespace in (select oid from app)
  union all select 'internal', d.objid::regprocedure || ' of ' || pg_describe_object(d.refclassid, d.refobjid, 0)
    from pg_depend d join pg_proc p on d.classid = 'pg_proc'::regclass and p.oid = d.objid
   where d.deptype = 'i' and p.pronamespace in (select oid from app)
  union all select 'range', r.rngtypid::regtype || ' ' || r.rngsubtype::regtype || ' ' || (select o.opcname from pg_opclass o where o.oid = r.rngsubopc) || ' '
           || r.rngsubdiff::regproc || ' ' || r.rngmultitypid::regtype
    from pg_range r join pg_type t on t.oid = r.rngtypid where t.typnamespace in (select oid from app)
  union all select 'statistics', pg_get_statisticsobjdef(s.oid)
    from pg_statistic_ext s where s.stxnamespace in (select oid from app)
  union all select 'column grant', c.oid::regclass || '.' || a.attname || ' ' || a.attacl::text
    from pg_attribute a join pg_class c on c.oid = a.attrelid
   where c.relnamespace in (select oid from app) and a.attacl is not null
  union all select 'rls', c.oid::regclass || ' ' || c.relrowsecurity || c.relforcerowsecurity || ' ' || c.relreplident::text
    from pg_class c where c.relnamespace in (select oid from app) and c.relkind in ('r', 'p')
   order by 1, 2`;
