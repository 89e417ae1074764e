import type pg from 'pg';
import { expect } from 'vitest';
import { quoteIdent } from '../../src/pg/sql.js';

/** Every row's text form, sorted: what "the same data" means, byte for byte. */
export async function tableText(client: pg.Client, schema: string, table: string): Promise<string[]> {
  const { rows } = await client.query<{ t: string }>(
    `SELECT t::text AS t FROM ${quoteIdent(schema)}.${quoteIdent(table)} t`,
  );
  return rows.map((r) => r.t).sort();
}

/** Asserts that every listed table holds the same rows (as text) in both databases. */
export async function expectSameTables(
  source: pg.Client,
  target: pg.Client,
  tables: { schema: string; name: string }[],
) {
  expect(tables.length).toBeGreaterThan(0);
  for (const t of tables) {
    const [a, b] = [await tableText(source, t.schema, t.name), await tableText(target, t.schema, t.name)];
    expect(b.length, `${t.schema}.${t.name} row count`).toBe(a.length);
    expect(b, `${t.schema}.${t.name}`).toEqual(a);
  }
}
