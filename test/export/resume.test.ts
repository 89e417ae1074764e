import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { readManifest, type ExportManifest } from '../../src/format/manifest.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

const SCHEMA = `
  create table small (id int primary key, note text);
  insert into small select i, 'n' || i from generate_series(1, 50) i;
  create table big (id int primary key, v text);
  insert into big select i, repeat('v', 200) from generate_series(1, 6000) i;
  analyze;`;

/** Makes the export in `dir` look interrupted: not complete, `edit` applied to its manifest. */
async function interrupt(dir: string, edit: (m: ExportManifest) => void = () => undefined) {
  const manifest = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as ExportManifest;
  manifest.completedAt = null;
  delete manifest.integrity;
  edit(manifest);
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(manifest, null, 2));
}

describe('export --resume', () => {
  let sourceUrl: string;

  beforeAll(async () => {
    sourceUrl = await createDatabase('resume_src');
    await (await connectTo(sourceUrl)).query(SCHEMA);
  });

  const exportTo = async (label: string) => {
    const dir = join(await tempDir(label), 'out');
    const result = await exportDatabase({
      dbUrl: sourceUrl,
      outputDir: dir,
      jobs: 3,
      splitRows: 1000,
      streamingThreshold: 1000,
      skipAuth: true,
    });
    expect(result.failures).toEqual([]);
    return dir;
  };

  it('refuses another source database, even one with the same name and tables on the same server', async () => {
    const dir = await exportTo('resume_other');
    await interrupt(dir, (m) => {
      m.tables[0]!.state = 'pending';
    });
    const before = await readFile(join(dir, 'metadata.json'), 'utf8');
    const otherUrl = await createDatabase('resume_other');
    await (await connectTo(otherUrl)).query(SCHEMA);
    const run = await cli(['export', '--db-url', otherUrl, '-o', dir, '--resume']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /cannot resume: the export in .* is of database "sm_resume_src_\w+" \(oid \d+\)( of system \d+)?, not of database "sm_resume_other_\w+" \(oid \d+\)/,
    );
    expect(await readFile(join(dir, 'metadata.json'), 'utf8')).toBe(before);
    // The same database under another URL spelling is the same source.
    const same = await exportDatabase({
      dbUrl: sourceUrl.replace('127.0.0.1', 'localhost'),
      outputDir: dir,
      resume: true,
    });
    expect(same.failures).toEqual([]);
    const manifest = await readManifest(dir);
    expect(manifest.source.databaseOid).toBeGreaterThan(0);
  });

  it('refuses other options than the run it finishes (library)', async () => {
    const dir = await exportTo('resume_opts');
    await interrupt(dir);
    await expect(
      exportDatabase({ dbUrl: sourceUrl, outputDir: dir, resume: true, format: 'ndjson' }),
    ).rejects.toThrow(
      /cannot resume the export in .* with other choices than its first run: format "ndjson" \(it used "json"\)/,
    );
    await expect(
      exportDatabase({ dbUrl: sourceUrl, outputDir: dir, resume: true, tables: ['small'] }),
    ).rejects.toThrow(/tables \["small"\] \(it used \[\]\)/);
    // The CLI: a differing choice is refused naming it; the first run's choices repeated are fine.
    const other = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--resume', '--format', 'ndjson']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/other choices than its first run: format "ndjson" \(it used "json"\)/);
    const same = await cli([
      'export',
      '--db-url',
      sourceUrl,
      '-o',
      dir,
      '--resume',
      '--format',
      'json',
      '--skip-auth',
    ]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toMatch(/resumed/);
  });

  it('reads every part of a split table again when one part must be', async () => {
    const dir = await exportTo('resume_parts');
    const first = await readManifest(dir);
    const big = first.tables.find((t) => t.name === 'big')!;
    expect(big.parts!.length).toBeGreaterThan(1);
    const lost = big.parts![1]!;
    await rm(join(dir, lost.file));
    await interrupt(dir, (m) => {
      const entry = m.tables.find((t) => t.name === 'big')!;
      entry.state = 'pending';
      Object.assign(entry.parts![1]!, {
        state: 'pending',
        rowCount: null,
        bytes: null,
        sha256: null,
        seconds: null,
      });
    });
    const resumed = await exportDatabase({
      dbUrl: sourceUrl,
      outputDir: dir,
      resume: true,
      jobs: 3,
      splitRows: 1000,
    });
    expect(resumed.failures).toEqual([]);
    const manifest = await readManifest(dir);
    const entry = manifest.tables.find((t) => t.name === 'big')!;
    expect(manifest.snapshot).not.toBe(first.snapshot);
    expect(entry.state).toBe('complete');
    expect(entry.rowCount).toBe(6000);
    expect(entry.snapshot).toBe(manifest.snapshot);
    for (const part of entry.parts!) expect(part.snapshot, part.file).toBe(manifest.snapshot);
    // The small table was kept, in its own snapshot.
    expect(manifest.tables.find((t) => t.name === 'small')!.snapshot).toBe(first.snapshot);
    // No file of the first run is left that the manifest does not name.
    const named = new Set(manifest.tables.flatMap((t) => (t.parts ? t.parts.map((p) => p.file) : [t.file!])));
    expect((await readdir(dir)).filter((f) => f !== 'metadata.json' && !named.has(f))).toEqual([]);
  });

  it('says "nothing to resume" for a complete export, exit 0, changing nothing', async () => {
    const dir = await exportTo('resume_done');
    const before = await readFile(join(dir, 'metadata.json'), 'utf8');
    const run = await cli(['export', '--db-url', sourceUrl, '-o', dir, '--resume']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toMatch(/^nothing to resume: the export in .*out is complete \(completed /);
    expect(await readFile(join(dir, 'metadata.json'), 'utf8')).toBe(before);
  });
});
