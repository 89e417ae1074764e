import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { exportDatabase } from '../../src/export/export-database.js';
import { readManifest } from '../../src/format/manifest.js';
import { importDatabase } from '../../src/import/import-database.js';
import { verify } from '../../src/verify/verify.js';
import { expectSameTables } from '../support/compare.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

describe('large tables split into parallel ranges', () => {
  it('exports parts in one snapshot, imports them in parallel, byte-exact, and verifies', async () => {
    const sourceUrl = await createFixtureDatabase('split_src');
    const dir = await tempDir('split');
    const exported = await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, jobs: 3, splitRows: 5000 });
    expect(exported.failures).toEqual([]);
    const manifest = await readManifest(dir);
    const readings = manifest.tables.find((t) => t.name === 'sensor_readings')!;
    expect(readings.file).toBeNull();
    expect(readings.parts).toHaveLength(3);
    expect(readings.parts!.map((p) => p.blocks[0])).toEqual([
      0,
      readings.parts![1]!.blocks[0],
      readings.parts![2]!.blocks[0],
    ]);
    expect(readings.parts!.at(-1)!.blocks[1]).toBeNull();
    let rows = 0;
    for (const part of readings.parts!) {
      expect(part.file).toMatch(/^public\.sensor_readings\.part0[1-3]\.json$/);
      const parsed = JSON.parse(await readFile(join(dir, part.file), 'utf8')) as unknown[];
      expect(parsed).toHaveLength(part.rowCount!);
      rows += parsed.length;
    }
    expect(rows).toBe(readings.rowCount);
    // Partitioned tables are read through their parent, in one piece.
    expect(manifest.tables.find((t) => t.name === 'telemetry_daily')!.parts).toBeUndefined();

    const targetUrl = await createDatabase('split_tgt');
    await createSampleSchema(targetUrl);
    const imported = await importDatabase({ targetUrl, inputDir: dir, jobs: 3 });
    expect(imported.failures).toEqual([]);
    expect(imported.loaded.find((l) => l.name === 'sensor_readings')!.rows).toBe(readings.rowCount);
    await expectSameTables(await connectTo(sourceUrl), await connectTo(targetUrl), manifest.tables);
    const report = await verify({ inputDir: dir, dbUrl: sourceUrl, targetUrl });
    expect(report.ok).toBe(true);
  });
});
