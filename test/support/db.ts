import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { SESSION_SETTINGS_SQL } from '../../src/pg/connect.js';
import { quoteIdent } from '../../src/pg/sql.js';

const created: string[] = [];
const clients: pg.Client[] = [];
const dirs: string[] = [];

export const adminUrl = () => inject('adminUrl');

export function urlFor(database: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/**
 * A fresh empty database of this test's own; dropped after the file's tests. `options`: what follows
 * CREATE DATABASE's name (ENCODING …).
 */
export async function createDatabase(label = 'db', options = ''): Promise<string> {
  const name = `sm_${label}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)} ${options}`));
  created.push(name);
  return urlFor(name);
}

/** A fresh copy of the Supabase-shaped fixture database (cloned from the run's template). */
export async function createFixtureDatabase(label = 'fx'): Promise<string> {
  const name = `sm_${label}_${randomBytes(4).toString('hex')}`;
  const template = inject('fixtureTemplate');
  // Two CREATE DATABASE … TEMPLATE at the same instant can collide ("being accessed by other users").
  for (let attempt = 1; ; attempt++) {
    try {
      await withAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`));
      break;
    } catch (err) {
      if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
  created.push(name);
  return urlFor(name);
}

/** A client with supamigrate's session settings; closed after the file's tests. */
export async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(SESSION_SETTINGS_SQL);
  clients.push(client);
  return client;
}

/** A temporary directory, removed after the file's tests. */
export async function tempDir(label = 'out'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `supamigrate-test-${label}-`));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  const names = created.splice(0);
  if (names.length > 0) {
    await withAdmin(async (c) => {
      for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    });
  }
});
