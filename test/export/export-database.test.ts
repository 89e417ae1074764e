import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { readManifest, type ExportManifest } from '../../src/format/manifest.js';
import { encodeTable } from '../../src/codec/encode-column.js';
import { CopyBinaryToRows } from '../../src/export/copy-binary.js';
import { columnsQuery, exportQuery } from '../../src/codec/row-sql.js';
import { columnForms } from '../../src/codec/text-to-json.js';
import { CopyTextToRows } from '../../src/export/copy-text-rows.js';
import { readCatalog } from '../../src/catalog/read-catalog.js';
import { openSharedSnapshot } from '../../src/pg/snapshot.js';
import { connectTo, createFixtureDatabase, tempDir } from '../support/db.js';

const key = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;

/** The seed plan's LARGE_TABLES, given as --large-tables. */
const SEED_LARGE = ['sensor_readings', 'event_logs', 'alerts'];

describe('exportDatabase on the Supabase-shaped fixture', () => {
  let url: string;
  let dir: string;
  let manifest: ExportManifest;

  beforeAll(async () => {
    url = await createFixtureDatabase('export');
    dir = await tempDir('export');
    const result = await exportDatabase({ dbUrl: url, outputDir: dir, jobs: 2, largeTables: SEED_LARGE });
    expect(result.failures).toEqual([]);
    manifest = await readManifest(dir);
  });

  it('exports exactly the public tables, in foreign-key order, with exact counts', async () => {
    const client = await connectTo(url);
    const expected = (
      await client.query<{ name: string }>(
        `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r','p') and not c.relispartition`,
      )
    ).rows.map((r) => r.name);
    expect(manifest.tables.map((t) => t.name).sort()).toEqual(expected.sort());
    const position = new Map(manifest.tables.map((t, i) => [key(t), i]));
    for (const [i, t] of manifest.tables.entries()) {
      for (const fk of t.foreignKeys) {
        const ref = position.get(`${fk.references.schema}.${fk.references.table}`);
        const broken = manifest.brokenForeignKeys.some((e) => e.table === t.name && e.foreignKey === fk.name);
        if (ref !== undefined && ref !== i && !broken)
          expect(ref, `${t.name} → ${fk.references.table}`).toBeLessThan(i);
      }
      const count = await client.query<{ n: string }>(
        `select count(*) as n from public.${client.escapeIdentifier(t.name)}`,
      );
      expect(t.rowCount, t.name).toBe(Number(count.rows[0]!.n));
      expect(t.state).toBe('complete');
    }
    expect(manifest.brokenForeignKeys.length).toBeGreaterThan(0);
    expect(manifest.completedAt).not.toBeNull();
  });

  it('follows the seed rule for the method', () => {
    for (const t of manifest.tables) {
      const large = SEED_LARGE.includes(t.name);
      expect(t.method, t.name).toBe(large || t.rowCount > 10_000 ? 'stream' : 'batch');
    }
  });

  it('writes files that parse as arrays of rowCount rows, with the bytes and sha256 of metadata.json', async () => {
    for (const t of manifest.tables) {
      const bytes = await readFile(join(dir, t.file!));
      expect(bytes.length).toBe(t.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(t.sha256);
      const rows = JSON.parse(bytes.toString('utf8')) as unknown[];
      expect(Array.isArray(rows)).toBe(true);
      expect(rows).toHaveLength(t.rowCount);
      // Keys in column order; json and jsonb columns leave the key out for SQL NULL.
      for (const row of rows.slice(0, 100)) {
        const keys = Object.keys(row as object);
        expect(keys).toEqual(t.columns.map((c) => c.name).filter((n) => keys.includes(n)));
        const missing = t.columns.filter((c) => !keys.includes(c.name));
        expect(missing.every((c) => c.encoding === 'json' || c.encoding === 'jsonb')).toBe(true);
      }
    }
  });

  it('exports the auth users apart, owner-readable only', async () => {
    expect(manifest.authUsers).toMatchObject({ file: 'auth_users.json', rowCount: 40, state: 'complete' });
    expect(manifest.authIdentities).toMatchObject({
      file: 'auth_identities.json',
      rowCount: 39,
      state: 'complete',
    });
    const users = JSON.parse(await readFile(join(dir, 'auth_users.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
    expect(users).toHaveLength(40);
    expect(Object.keys(users[0]!)).toEqual(
      expect.arrayContaining([
        'id',
        'email',
        'phone',
        'encrypted_password',
        'raw_user_meta_data',
        'is_anonymous',
        'banned_until',
        'deleted_at',
      ]),
    );
    expect(users.some((u) => u.email === 'Mixed.Case@Example.COM')).toBe(true);
    for (const file of await readdir(dir)) {
      expect(((await stat(join(dir, file))).mode & 0o777).toString(8), file).toBe('600');
    }
    expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('700');
  });

  it('records columns, keys and foreign keys into auth.users', () => {
    const devices = manifest.tables.find((t) => t.name === 'devices')!;
    expect(
      devices.foreignKeys.some((f) => f.references.schema === 'auth' && f.references.table === 'users'),
    ).toBe(true);
    expect(devices.columns.find((c) => c.name === 'id')).toMatchObject({
      identity: 'always',
      nullable: false,
    });
    const recorded = new URL(manifest.source.url);
    expect(recorded.password === '' || recorded.password === '***').toBe(true);
    if (new URL(url).password) expect(JSON.stringify(manifest)).not.toContain(new URL(url).password);
  });

  it('refuses to overwrite an export without --force, and writes identical files with --force', async () => {
    await expect(exportDatabase({ dbUrl: url, outputDir: dir })).rejects.toThrow(/already holds an export/);
    const again = await tempDir('again');
    await exportDatabase({ dbUrl: url, outputDir: again, jobs: 1, streamingThreshold: 0 });
    const second = await readManifest(again);
    expect(second.tables.map((t) => [t.name, t.sha256])).toEqual(
      manifest.tables.map((t) => [t.name, t.sha256]),
    );
  });

  it('applies --table, --exclude-table, --skip-large and --skip-auth, and reports unknown names together', async () => {
    const out = await tempDir('select');
    const result = await exportDatabase({
      dbUrl: url,
      outputDir: out,
      tables: ['public.devices', 'alerts', 'sensor_readings'],
      largeTables: ['sensor_readings', 'event_logs', 'alerts'],
      skipLarge: true,
      skipAuth: true,
    });
    expect(result.tables.map((t) => t.name)).toEqual(['devices']);
    expect((await readdir(out)).sort()).toEqual(['metadata.json', 'public.devices.json']);
    const dry = await exportDatabase({
      dbUrl: url,
      outputDir: out,
      excludeTables: ['event_logs'],
      dryRun: true,
    });
    expect(dry.tables.map((t) => t.name)).not.toContain('event_logs');
    expect(dry.tables).toHaveLength(22);
    const error = await exportDatabase({
      dbUrl: url,
      outputDir: out,
      tables: ['nope', 'public.Devices'],
      dryRun: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).problems).toHaveLength(2);
    expect(String(error)).toMatch(/did you mean public\.devices/);
    await expect(
      exportDatabase({
        dbUrl: url,
        outputDir: out,
        tables: ['telemetry_daily_2024_01', 'device_overview'],
        dryRun: true,
      }),
    ).rejects.toThrow(
      /telemetry_daily_2024_01 is a partition of public\.telemetry_daily \(its rows are exported with it\).*device_overview is a view/,
    );
    await expect(
      exportDatabase({ dbUrl: url, outputDir: out, schemas: ['nosuch'], dryRun: true }),
    ).rejects.toThrow(/schema "nosuch" does not exist/);
    await expect(
      exportDatabase({ dbUrl: url, outputDir: out, skipLarge: true, dryRun: true }),
    ).rejects.toThrow(/--skip-large needs --large-tables/);
    // No database-specific default: a table called alerts is an ordinary table, streamed only by its size.
    const plain = await exportDatabase({ dbUrl: url, outputDir: out, tables: ['alerts'], dryRun: true });
    expect(plain.tables[0]!.method).toBe(plain.tables[0]!.rowCount > 10_000 ? 'stream' : 'batch');
  });

  it('metadata.json that cannot be rewritten mid-run: the export fails naming it, and never looks complete', async () => {
    const out = await tempDir('unrecordable');
    const run = exportDatabase({
      dbUrl: url,
      outputDir: out,
      skipAuth: true,
      jobs: 2,
      onEvent: (event) => {
        // Once metadata.json is first written, its temporary name is taken by a directory: no rewrite works.
        if (event.type === 'manifest') mkdirSync(join(out, '.metadata.json.partial'));
      },
    });
    const result = await run;
    expect(result.failures).toEqual([
      {
        table: 'metadata.json',
        error: expect.stringMatching(/cannot write .*metadata\.json.*not recorded as complete/),
      },
    ]);
    const left = await readManifest(out);
    expect(left.completedAt).toBeNull();
    expect(left.tables.every((t) => t.state === 'pending')).toBe(true);
    // --resume, once it can write again, exports it all.
    rmSync(join(out, '.metadata.json.partial'), { recursive: true });
    const resumed = await exportDatabase({
      dbUrl: url,
      outputDir: out,
      skipAuth: true,
      jobs: 2,
      resume: true,
    });
    expect(resumed.failures).toEqual([]);
    expect((await readManifest(out)).completedAt).not.toBeNull();
  });

  it('writes ndjson: one row per line', async () => {
    const out = await tempDir('ndjson');
    const result = await exportDatabase({
      dbUrl: url,
      outputDir: out,
      format: 'ndjson',
      tables: ['sensors', 'event_logs'],
      skipAuth: true,
    });
    for (const t of result.manifest!.tables) {
      const lines = (await readFile(join(out, t.file!), 'utf8')).split('\n').filter(Boolean);
      expect(t.file).toMatch(/\.ndjson$/);
      expect(lines).toHaveLength(t.rowCount);
      for (const line of lines.slice(0, 50)) expect(typeof JSON.parse(line)).toBe('object');
    }
  });

  it('reads every table in one snapshot while the application keeps writing', async () => {
    const writer = await connectTo(url);
    const snapshot = await openSharedSnapshot(url);
    try {
      expect(snapshot.id).toMatch(/^[0-9A-F]+-[0-9A-F]+-\d+$/);
      const before = (await snapshot.coordinator.query('select count(*)::int as n from public.sensors'))
        .rows[0].n as number;
      await writer.query(
        `delete from public.audit_log where id in (select id from public.audit_log limit 3)`,
      );
      const worker = await snapshot.openWorker();
      const seen = (await worker.query('select count(*)::int as n from public.audit_log')).rows[0]
        .n as number;
      const now = (await writer.query('select count(*)::int as n from public.audit_log')).rows[0].n as number;
      expect(seen).toBe(now + 3);
      expect((await worker.query('select count(*)::int as n from public.sensors')).rows[0].n).toBe(before);
      await worker.end();
    } finally {
      await snapshot.close();
    }
  });

  it('joins a row split over many chunks once: time linear in its size, however large', async () => {
    const client = await connectTo(url);
    const big = 'x'.repeat(20 << 20);
    const copy = client.query(
      copyStreams.to(`COPY (SELECT to_json($$${big}$$::text)::text) TO STDOUT (FORMAT binary)`),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of copy) chunks.push(chunk as Buffer);
    const whole = Buffer.concat(chunks);
    // Fed in 64 KiB pieces, as a network delivers it.
    const pieces = Array.from({ length: Math.ceil(whole.length / 65536) }, (_, i) =>
      whole.subarray(i * 65536, (i + 1) * 65536),
    );
    const rows = new CopyBinaryToRows('ndjson');
    const out: Buffer[] = [];
    for await (const b of Readable.from(pieces).pipe(rows)) out.push(b as Buffer);
    expect(rows.rowCount).toBe(1);
    expect(Buffer.concat(out).length).toBe(big.length + 3); // the quotes and the line break
    expect(rows.joinedBytes).toBeLessThanOrEqual(2 * whole.length);
  });

  it('parses COPY binary output split at every possible byte', async () => {
    const client = await connectTo(url);
    const [table] = (await readCatalog(client, ['public']))
      .filter((t) => t.name === 'sites')
      .map(encodeTable);
    const chunks: Buffer[] = [];
    const copy = client.query(copyStreams.to(`COPY (${exportQuery(table!)}) TO STDOUT (FORMAT binary)`));
    for await (const chunk of copy) chunks.push(chunk as Buffer);
    const whole = Buffer.concat(chunks);
    const collect = async (parts: Buffer[]) => {
      const out: Buffer[] = [];
      for await (const b of Readable.from(parts).pipe(new CopyBinaryToRows('json'))) out.push(b as Buffer);
      return Buffer.concat(out).toString('utf8');
    };
    const expected = await collect([whole]);
    expect(JSON.parse(expected)).toHaveLength(6);
    const bytes = [...whole].map((b) => Buffer.from([b]));
    expect(await collect(bytes)).toBe(expected);
    await expect(collect([whole.subarray(0, whole.length - 3)])).rejects.toThrow(/ended before its last row/);
  });

  it('builds the same rows from COPY text split at every possible byte, and refuses a cut or malformed row', async () => {
    const client = await connectTo(url);
    // Its own schema, dropped at the end: the other tests export the fixture's schemas.
    await client.query(`create schema split_test; create table split_test.split_text as
      select 1 as id, E'tab\\there\\nline "q" \\\\ é🎉' as t, '{"a \\\\", NULL, "", b}'::text[] as a,
             '{"k": [1, "\\\\n"]}'::jsonb as j, timestamptz '2025-01-23 16:51:17.5+00' as ts
      union all select 2, null, '{}', null, 'infinity'`);
    const [table] = (await readCatalog(client, ['split_test']))
      .filter((t) => t.name === 'split_text')
      .map((t) => ({ info: encodeTable(t), forms: columnForms(t.columns) }));
    const { info, forms } = table!;
    const chunks: Buffer[] = [];
    const copy = client.query(copyStreams.to(`COPY (${columnsQuery(info, forms)}) TO STDOUT`));
    for await (const chunk of copy) chunks.push(chunk as Buffer);
    const whole = Buffer.concat(chunks);
    const collect = async (parts: Buffer[]) => {
      const out: Buffer[] = [];
      for await (const b of Readable.from(parts).pipe(new CopyTextToRows('ndjson', info.columns, forms))) {
        out.push(b as Buffer);
      }
      return Buffer.concat(out).toString('utf8');
    };
    const expected = await collect([whole]);
    const { rows } = await client.query<[string]>({ text: exportQuery(info), rowMode: 'array' });
    expect(expected).toBe(rows.map(([json]) => `${json}\n`).join(''));
    for (let at = 1; at < whole.length; at++) {
      expect(await collect([whole.subarray(0, at), whole.subarray(at)])).toBe(expected);
    }
    expect(await collect([...whole].map((b) => Buffer.from([b])))).toBe(expected);
    await expect(collect([whole.subarray(0, whole.length - 3)])).rejects.toThrow(/middle of a row/);
    const extraField = Buffer.from(whole.toString('latin1').replace('\n', '\textra\n'), 'latin1');
    await expect(collect([extraField])).rejects.toThrow(/more fields than/);
    await client.query('drop schema split_test cascade');
    await client.end();
  });
});
