import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/pg/embedded.js';
import { createSampleDatabase } from '../../src/demo/fixtures.js';
import { quoteIdent } from '../../src/pg/sql.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database on the test server from which tests create their own databases. */
    adminUrl: string;
    /** A template database holding the Supabase-shaped fixture with seed(FIXTURE_READINGS). */
    fixtureTemplate: string;
    serverKind: 'embedded' | 'TEST_DATABASE_URL';
  }
}

export const FIXTURE_READINGS = 12_000;

/**
 * One PostgreSQL for the whole run: TEST_DATABASE_URL's server when it is set, otherwise an embedded one
 * started here. The Supabase-shaped fixture is built once, as a template each test clones.
 */
export default async function setup(project: TestProject) {
  let server: EmbeddedServer | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    server = await startEmbeddedPostgres();
    adminUrl = server.url();
  }
  const template = `supamigrate_fixture_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(template)}`);
  await admin.query(`CREATE DATABASE ${quoteIdent(template)}`);
  await admin.end();
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await createSampleDatabase(templateUrl.toString(), FIXTURE_READINGS);

  project.provide('adminUrl', adminUrl);
  project.provide('fixtureTemplate', template);
  project.provide('serverKind', server ? 'embedded' : 'TEST_DATABASE_URL');

  return async () => {
    if (server) {
      await server.stop();
      return;
    }
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(template)} WITH (FORCE)`);
    await client.end();
  };
}
