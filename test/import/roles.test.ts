import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { readManifest } from '../../src/format/manifest.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { quoteIdent } from '../../src/pg/sql.js';
import { expectSameTables } from '../support/compare.js';
import { adminUrl, connectTo, createDatabase, tempDir } from '../support/db.js';

const SCHEMA = `
  create table parent (id int primary key, name text);
  create table child (id bigint generated always as identity primary key, parent_id int references parent(id), note text);
  create table log (id serial primary key, what text);
  create function log_insert() returns trigger language plpgsql as $$
    begin insert into log (what) values ('child ' || new.id); return new; end $$;
  create trigger child_log after insert on child for each row execute function log_insert();
  alter table child enable row level security;
  create policy nobody on child using (false);
  create table cyc_a (id int primary key, b_id int);
  create table cyc_b (id int primary key, a_id int references cyc_a(id));
  alter table cyc_a add foreign key (b_id) references cyc_b(id);
`;

/**
 * Import as roles that are not superusers: the table owner (no session_replication_role, so user
 * triggers are disabled per table, inside the load's transaction), and a role that may insert but is
 * subject to row-level security (refused before writing).
 */
describe('import as a role that is not a superuser', () => {
  const suffix = randomBytes(3).toString('hex');
  const owner = `sm_owner_${suffix}`;
  const writer = `sm_writer_${suffix}`;
  const password = `pw-${suffix}`;
  let dir: string;
  let targetUrl: string;
  let source: pg.Client;
  let admin: pg.Client;

  const urlAs = (role: string) => {
    const url = new URL(targetUrl);
    url.username = role;
    url.password = password;
    return url.toString();
  };

  beforeAll(async () => {
    const sourceUrl = await createDatabase('role_src');
    source = await connectTo(sourceUrl);
    await source.query(SCHEMA);
    await source.query(`insert into cyc_a values (1, null); insert into cyc_b values (1, 1); update cyc_a set b_id = 1;
                        insert into parent select i, 'p' || i from generate_series(1, 50) i;
                        insert into child (parent_id, note) select (i % 50) + 1, 'c' || i from generate_series(1, 200) i;`);
    dir = await tempDir('roles');
    await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true });

    targetUrl = await createDatabase('role_tgt');
    const cluster = await connectTo(adminUrl());
    for (const role of [owner, writer])
      await cluster.query(`create role ${quoteIdent(role)} login password '${password}'`);
    admin = await connectTo(targetUrl);
    // The owner may create schemas in the database (its progress table), as the owner of a database can.
    const db = new URL(targetUrl).pathname.slice(1);
    await admin.query(
      `grant create on database ${quoteIdent(db)} to ${quoteIdent(owner)};
       grant create, usage on schema public to ${quoteIdent(owner)}; set role ${quoteIdent(owner)};`,
    );
    await admin.query(SCHEMA);
    await admin.query(`reset role; grant usage on schema public to ${quoteIdent(writer)};
                       grant select, insert, truncate on all tables in schema public to ${quoteIdent(writer)};`);
  });

  afterAll(async () => {
    for (const role of [owner, writer])
      await admin.query(`drop owned by ${quoteIdent(role)} cascade`).catch(() => undefined);
    const cluster = new pg.Client({ connectionString: adminUrl() });
    await cluster.connect();
    for (const role of [owner, writer])
      await cluster.query(`drop role if exists ${quoteIdent(role)}`).catch(() => undefined);
    await cluster.end();
  });

  it('an export by a role subject to row-level security fails instead of losing rows', async () => {
    const sourceUrl = new URL(targetUrl);
    sourceUrl.username = writer;
    sourceUrl.password = password;
    const out = await tempDir('rls-export');
    await admin.query(
      `insert into parent values (1, 'p'); insert into child (parent_id, note) values (1, 'hidden from writer')`,
    );
    try {
      // Reading meets the policy (row_security = off): the table fails, and no file of it is left.
      const result = await exportDatabase({
        dbUrl: sourceUrl.toString(),
        outputDir: out,
        tables: ['child', 'parent'],
        skipAuth: true,
      });
      expect(result.failures.map((f) => f.table)).toEqual(['public.child']);
      expect(result.failures[0]!.error).toMatch(
        /query would be affected by row-level security.*hint: connect as a role that bypasses/,
      );
      expect((await readdir(out)).filter((f) => f.includes('child'))).toEqual([]);
      const manifest = await readManifest(out);
      expect(manifest.completedAt).toBeNull();
    } finally {
      await admin.query('truncate parent, child, log');
    }
  });

  it('a role subject to row-level security is refused before any row is written', async () => {
    const error = await importDatabase({ targetUrl: urlAs(writer), inputDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(String(error)).toMatch(
      new RegExp(`public\\.child: row-level security is enabled and role ${writer} does not bypass it`),
    );
    expect(String(error)).toMatch(
      /may neither set session_replication_role nor disable the table's triggers/,
    );
    expect((await admin.query('select count(*)::int as n from parent')).rows[0].n).toBe(0);
  });

  it('the table owner loads with user triggers disabled per table, and a foreign-key cycle set aside for the load', async () => {
    // With --on-conflict skip nothing may be set aside (the keys are needed while loading): refused.
    const cycle = await importDatabase({ targetUrl: urlAs(owner), inputDir: dir, onConflict: 'skip' }).catch(
      (e: unknown) => e,
    );
    expect(cycle).toBeInstanceOf(UsageError);
    expect(String(cycle)).toMatch(
      /foreign key cyc_\w+_fkey closes a cycle with public\.cyc_\w+, which cannot load while foreign keys are checked/,
    );
    expect((await admin.query('select count(*)::int as n from parent')).rows[0].n).toBe(0);
    // FORCE ROW LEVEL SECURITY would apply a policy to the owner too: lifted for each load only.
    await admin.query(`alter table parent enable row level security; alter table parent force row level security;
                       create policy parent_none on parent using (false)`);
    const result = await importDatabase({ targetUrl: urlAs(owner), inputDir: dir, jobs: 2 });
    expect(result.failures).toEqual([]);
    expect(result.violations.map((v) => JSON.stringify(v))).toEqual([]);
    expect(result.notes.join('\n')).toMatch(
      /public\.cyc_\w+: foreign key cyc_\w+_fkey closes a cycle with public\.cyc_\w+: dropped for the load and added back after it/,
    );
    // The key is back, as it was, and nothing is left set aside.
    const keys = await admin.query<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint
        where conrelid in ('cyc_a'::regclass, 'cyc_b'::regclass) and contype = 'f' order by 1`,
    );
    expect(keys.rows.map((r) => r.def)).toEqual([
      'FOREIGN KEY (a_id) REFERENCES cyc_a(id)',
      'FOREIGN KEY (b_id) REFERENCES cyc_b(id)',
    ]);
    expect((await admin.query('select count(*)::int as n from supamigrate.deferred_indexes')).rows[0].n).toBe(
      0,
    );
    expect(result.triggerMode).toBe('disable-user-triggers');
    await expectSameTables(source, admin, [
      { schema: 'public', name: 'parent' },
      { schema: 'public', name: 'child' },
      // The source's log rows, and no more: the trigger did not fire on the import.
      { schema: 'public', name: 'log' },
      { schema: 'public', name: 'cyc_a' },
      { schema: 'public', name: 'cyc_b' },
    ]);
    expect((await admin.query('select count(*)::int as n from log')).rows[0].n).toBe(200);
    expect(
      (await admin.query(`select relforcerowsecurity as f from pg_class where oid = 'parent'::regclass`))
        .rows[0].f,
    ).toBe(true);
    expect(
      (await admin.query(`select tgenabled from pg_trigger where tgname = 'child_log'`)).rows[0].tgenabled,
    ).toBe('O');
  });
});
