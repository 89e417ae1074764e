import { readFile } from 'node:fs/promises';
import pg from 'pg';

/** The SQL fixtures shipped with the package: a Supabase-shaped auth schema and an IoT application. */
export const FIXTURE_FILES = ['supabase-auth.sql', 'iot-app.sql', 'iot-seed.sql'] as const;

const fixturesDir = new URL('../../fixtures/', import.meta.url);

export const fixtureSql = (file: string): Promise<string> => readFile(new URL(file, fixturesDir), 'utf8');

/**
 * Creates the sample Supabase-shaped database in an empty database: auth and storage schemas, the IoT
 * application's tables in public, and `readings` sensor readings (with about a tenth as many event
 * logs and a hundredth as many alerts).
 */
export async function createSampleDatabase(url: string, readings: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const file of FIXTURE_FILES) await client.query(await fixtureSql(file));
    await client.query('SELECT supamigrate_fixture.seed($1)', [readings]);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/** Creates the sample schema without rows (what a user's migrations would create in the target). */
export async function createSampleSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const file of FIXTURE_FILES) await client.query(await fixtureSql(file));
  } finally {
    await client.end();
  }
}
