import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { VALUE_ENCODINGS } from '../../src/codec/encodings.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { manifestSchema, type ExportManifest } from '../../src/format/manifest-schema.js';
import { readManifest } from '../../src/format/manifest.js';
import { verify } from '../../src/verify/verify.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

const SCHEMA = `
  create table parent (id int primary key, name text, born date);
  create table child (id bigint primary key, parent_id int references parent, score numeric, tags text[]);
  create table notes (body text, at timestamptz);`;
const ROWS = `
  insert into parent select i, 'p' || i, date '2020-01-01' + i from generate_series(1, 20) i;
  insert into child select i, 1 + i % 20, i / 3.0, array['a', 'b'] from generate_series(1, 40) i;
  insert into notes select 'n' || i, now() from generate_series(1, 5) i;`;

type Mutation =
  | { kind: 'remove'; table: number }
  | { kind: 'duplicate'; table: number }
  | { kind: 'encoding'; table: number; column: number; encoding: number }
  | { kind: 'rowCount'; table: number; delta: number };

function mutate(manifest: ExportManifest, m: Mutation): { manifest: ExportManifest; what: string } | null {
  const copy = structuredClone(manifest);
  const table = copy.tables[m.table % copy.tables.length]!;
  const name = `${table.schema}.${table.name}`;
  switch (m.kind) {
    case 'remove':
      copy.tables.splice(copy.tables.indexOf(table), 1);
      return { manifest: copy, what: name };
    case 'duplicate':
      copy.tables.push(structuredClone(table));
      return { manifest: copy, what: name };
    case 'encoding': {
      const scalars = table.columns.filter((c) => c.encoding !== 'array');
      const column = scalars[m.column % scalars.length];
      const encodings = VALUE_ENCODINGS.filter((e) => e !== 'array' && e !== column?.encoding);
      if (!column) return null;
      column.encoding = encodings[m.encoding % encodings.length]!;
      return { manifest: copy, what: name };
    }
    case 'rowCount':
      table.rowCount += m.delta;
      return table.rowCount >= 0 ? { manifest: copy, what: name } : null;
  }
}

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('remove' as const), table: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), table: fc.nat() }),
  fc.record({
    kind: fc.constant('encoding' as const),
    table: fc.nat(),
    column: fc.nat(),
    encoding: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('rowCount' as const),
    table: fc.nat(),
    delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
  }),
);

describe('metadata.json integrity', () => {
  let sourceUrl: string;
  let targetUrl: string;
  let dir: string;
  let manifest: ExportManifest;

  beforeAll(async () => {
    sourceUrl = await createDatabase('integrity_src');
    await (await connectTo(sourceUrl)).query(SCHEMA + ROWS);
    targetUrl = await createDatabase('integrity_tgt');
    await (await connectTo(targetUrl)).query(SCHEMA);
    dir = join(await tempDir('integrity'), 'out');
    const result = await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true, jobs: 2 });
    expect(result.failures).toEqual([]);
    manifest = await readManifest(dir);
    expect(manifest.integrity?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses, before writing anything, a manifest with an entry removed, duplicated, re-encoded or recounted', async () => {
    const target = await connectTo(targetUrl);
    const copy = join(await tempDir('integrity_copy'), 'out');
    await cp(dir, copy, { recursive: true });
    const files = (await readdir(copy)).sort();
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(mutations, async (m) => {
        const changed = mutate(manifest, m);
        if (!changed) return;
        // Still a valid manifest as far as its shape goes (a duplicate is refused by the schema already).
        if (m.kind !== 'duplicate') expect(manifestSchema.safeParse(changed.manifest).success).toBe(true);
        await writeFile(join(copy, 'metadata.json'), JSON.stringify(changed.manifest, null, 2));
        const expected =
          m.kind === 'duplicate'
            ? new RegExp(`a second entry for ${changed.what.replace('.', '\\.')}`)
            : new RegExp(`metadata\\.json: the table ${changed.what.replace('.', '\\.')} entry`);
        await expect(importDatabase({ targetUrl, inputDir: copy })).rejects.toThrow(expected);
        await expect(verify({ inputDir: copy, dbUrl: sourceUrl })).rejects.toThrow(expected);
        tried++;
      }),
      { numRuns: 40 },
    );
    expect(tried).toBeGreaterThan(20);
    // Nothing written: no row in the target, no file in the directory but the export's.
    const { rows } = await target.query<{ n: string }>(
      'select (select count(*) from parent) + (select count(*) from child) + (select count(*) from notes) as n',
    );
    expect(rows[0]!.n).toBe('0');
    expect((await readdir(copy)).sort()).toEqual(files);
  });

  it('reads a complete manifest written before the integrity record, with a note in verify and import', async () => {
    const old = join(await tempDir('integrity_old'), 'out');
    await cp(dir, old, { recursive: true });
    const json = JSON.parse(await readFile(join(old, 'metadata.json'), 'utf8')) as ExportManifest;
    delete json.integrity;
    // Removed from a manifest of a version that always writes it: refused.
    await writeFile(join(old, 'metadata.json'), JSON.stringify(json, null, 2));
    await expect(verify({ inputDir: old, dbUrl: sourceUrl })).rejects.toThrow(
      /its integrity record was removed \(supamigrate 0\.2\.0 writes one in every complete export\)/,
    );
    json.tool.version = '0.1.0';
    await writeFile(join(old, 'metadata.json'), JSON.stringify(json, null, 2));
    const report = await verify({ inputDir: old, dbUrl: sourceUrl });
    expect(report.ok).toBe(true);
    expect(report.notes.join('\n')).toMatch(
      /has no integrity record \(written by supamigrate 0\.1\.0, before it had one\)/,
    );
    const targetUrl = await createDatabase('integrity_old_tgt');
    await (await connectTo(targetUrl)).query(SCHEMA);
    const dry = await importDatabase({ inputDir: old, targetUrl, dryRun: true });
    expect(dry.notes.join('\n')).toMatch(
      /has no integrity record \(written by supamigrate 0\.1\.0, before it had one\)/,
    );
    // Marked unfinished (completedAt taken out, as a run that stopped leaves it): said in both.
    json.tool.version = '0.2.0';
    json.completedAt = null;
    await writeFile(join(old, 'metadata.json'), JSON.stringify(json, null, 2));
    const unfinished = /the export did not finish \(no completedAt, so no integrity record\)/;
    expect((await importDatabase({ inputDir: old, targetUrl, dryRun: true })).notes.join('\n')).toMatch(
      unfinished,
    );
    expect((await verify({ inputDir: old, dbUrl: sourceUrl })).notes.join('\n')).toMatch(unfinished);
  });

  it('verify names a source table of the exported schemas that the export does not hold', async () => {
    const source = await connectTo(sourceUrl);
    await source.query(
      'create table added_later (id int primary key); create schema other; create table other.t (id int)',
    );
    try {
      const report = await verify({ inputDir: dir, dbUrl: sourceUrl });
      expect(report.ok).toBe(false);
      expect(report.missingFromExport).toEqual(['public.added_later']);
      // A --table selection recorded in options: tables it did not name are not missing.
      const partial = join(await tempDir('integrity_partial'), 'out');
      const result = await exportDatabase({
        dbUrl: sourceUrl,
        outputDir: partial,
        skipAuth: true,
        tables: ['parent'],
      });
      expect(result.failures).toEqual([]);
      expect((await verify({ inputDir: partial, dbUrl: sourceUrl })).ok).toBe(true);
      // verify --table checks only what it is asked.
      expect((await verify({ inputDir: dir, dbUrl: sourceUrl, tables: ['parent'] })).ok).toBe(true);
    } finally {
      await source.query('drop table added_later; drop schema other cascade');
    }
  });
});
