import { beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { readCatalog } from '../../src/catalog/read-catalog.js';
import { encodeTable, type EncodedTable } from '../../src/codec/encode-column.js';
import { connectTo, createFixtureDatabase } from '../support/db.js';

describe('readCatalog on the Supabase-shaped fixture', () => {
  let client: pg.Client;
  let tables: EncodedTable[];
  const get = (name: string) => tables.find((t) => t.name === name)!;
  const column = (table: string, name: string) => get(table).columns.find((c) => c.name === name)!;

  beforeAll(async () => {
    client = await connectTo(await createFixtureDatabase('catalog'));
    // The codec decides each column's encoding from the value type the catalog read.
    tables = (await readCatalog(client, ['public'])).map(encodeTable);
  });

  it('lists the 23 application tables, partitions through their parent, no views', () => {
    expect(tables).toHaveLength(23);
    expect(tables.every((t) => t.schema === 'public')).toBe(true);
    expect(get('telemetry_daily').kind).toBe('partitioned');
    expect(tables.some((t) => t.name.startsWith('telemetry_daily_'))).toBe(false);
    expect(tables.some((t) => t.name === 'device_overview')).toBe(false);
  });

  it('reads primary keys, foreign keys into auth.users, and tables without a key', () => {
    expect(get('device_firmware').primaryKey.length).toBeGreaterThan(1);
    expect(get('device_status_history').primaryKey).toEqual([]);
    const owner = get('devices').foreignKeys.find((f) => f.references.schema === 'auth');
    expect(owner).toMatchObject({
      columns: ['owner_id'],
      references: { schema: 'auth', table: 'users', columns: ['id'] },
    });
    const selfRef = get('locations').foreignKeys.find((f) => f.references.table === 'locations');
    expect(selfRef?.columns).toEqual(['parent_id']);
  });

  it('reads generated and identity columns and owned sequences', () => {
    expect(column('devices', 'id').identity).toBe('always');
    expect(column('alert_rules', 'id').identity).toBe('by default');
    expect(column('alerts', 'duration').generated).toBe('stored');
    expect(get('devices').ownedSequences.map((s) => s.column)).toContain('id');
    expect(get('sensor_readings').ownedSequences.map((s) => s.column)).toContain('id');
  });

  it('resolves domains, enums, arrays and composites to their encodings', async () => {
    const encodings = new Map(tables.flatMap((t) => t.columns.map((c) => [`${t.name}.${c.name}`, c])));
    const byType = (type: RegExp) => [...encodings.values()].filter((c) => type.test(c.type));
    expect(byType(/^percentage$|\.percentage$/).every((c) => c.encoding === 'numeric')).toBe(true);
    expect(byType(/^numeric\(14,6\)$/).every((c) => c.encoding === 'numeric')).toBe(true);
    expect(byType(/^bigint$/).every((c) => c.encoding === 'bigint')).toBe(true);
    expect(byType(/^timestamp with time zone$/).every((c) => c.encoding === 'timestamptz')).toBe(true);
    expect(byType(/^text\[\]$/).every((c) => c.encoding === 'array' && c.elementEncoding === 'text')).toBe(
      true,
    );
    expect(byType(/^double precision\[\]$/).every((c) => c.elementEncoding === 'float')).toBe(true);
    expect(byType(/^money$/).every((c) => c.encoding === 'money')).toBe(true);
    expect(byType(/^json$/).every((c) => c.encoding === 'json')).toBe(true);
    const enums = (
      await client.query<{ t: string }>(`select typname as t from pg_type where typtype = 'e'`)
    ).rows.map((r) => r.t);
    const enumColumns = [...encodings.values()].filter((c) => enums.some((e) => c.type.endsWith(e)));
    expect(enumColumns.length).toBeGreaterThan(0);
    expect(enumColumns.every((c) => c.encoding === 'text')).toBe(true);
  });

  it('sees managed schemas only when asked', async () => {
    const auth = await readCatalog(client, ['auth']);
    const users = auth.find((t) => t.name === 'users')!;
    expect(users.columns).toHaveLength(35);
    expect(users.columns.find((c) => c.name === 'confirmed_at')?.generated).toBe('stored');
  });
});
