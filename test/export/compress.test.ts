import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampleSchema } from '../../src/demo/fixtures.js';
import { parseCompression } from '../../src/format/compression.js';
import { checkExportFiles } from '../../src/format/file-integrity.js';
import type { ExportManifest } from '../../src/format/manifest.js';
import { forEachFileRow } from '../../src/format/row-reader.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, createFixtureDatabase, tempDir } from '../support/db.js';

const EXPORT = ['--split-rows', '2000', '--jobs', '2', '--large-tables', 'sensor_readings'];

describe('export --compress gzip', () => {
  let sourceUrl: string;
  let plain: string;
  let packed: string;

  beforeAll(async () => {
    sourceUrl = await createFixtureDatabase('gz_src');
    const base = await tempDir('gz');
    plain = join(base, 'plain');
    packed = join(base, 'packed');
    const a = await cli(['export', '--db-url', sourceUrl, '-o', plain, ...EXPORT]);
    expect(a.code, a.stderr).toBe(0);
    const b = await cli(['export', '--db-url', sourceUrl, '-o', packed, '--compress', 'gzip:1', ...EXPORT]);
    expect(b.code, b.stderr).toBe(0);
  });

  it('writes every data file as .gz holding exactly the uncompressed export, sha256 over the stored bytes', async () => {
    const manifest = JSON.parse(await readFile(join(packed, 'metadata.json'), 'utf8')) as ExportManifest;
    expect(manifest.options.compress).toBe('gzip:1');
    const entries = [
      ...manifest.tables.flatMap((t) =>
        t.parts ? t.parts : [t as { file: string; sha256: string | null; bytes: number | null }],
      ),
      manifest.authUsers!,
      manifest.authIdentities!,
    ];
    expect(entries.some((e) => /\.part\d+\.json\.gz$/.test(e.file!))).toBe(true);
    const data = (await readdir(packed)).filter((f) => f !== 'metadata.json').sort();
    expect(data).toEqual(entries.map((e) => e.file!).sort());
    for (const entry of entries) {
      const stored = await readFile(join(packed, entry.file!));
      expect(entry.file!.endsWith('.json.gz'), entry.file!).toBe(true);
      expect(entry.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
      expect(entry.bytes).toBe(stored.length);
      const original = await readFile(join(plain, entry.file!.replace(/\.gz$/, '')));
      expect(gunzipSync(stored).equals(original), entry.file!).toBe(true);
      expect((await stat(join(packed, entry.file!))).mode & 0o777).toBe(0o600);
    }
  });

  it('import, verify and users read the compressed export', async () => {
    const targetUrl = await createDatabase('gz_tgt');
    await createSampleSchema(targetUrl);
    // The new provider's users, as on Supabase: ids only, enough for the foreign keys into auth.users.
    const ids = (await (await connectTo(sourceUrl)).query<{ id: string }>('select id from auth.users')).rows;
    await (
      await connectTo(targetUrl)
    ).query('insert into auth.users (id) select unnest($1::uuid[])', [ids.map((r) => r.id)]);
    const run = await cli(['import', '-i', packed, '--target-url', targetUrl, '--jobs', '2']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const check = await cli(['verify', '-i', packed, '--db-url', sourceUrl, '--target-url', targetUrl]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const users = await cli([
      'users',
      'export',
      '-i',
      packed,
      '--format',
      'clerk',
      '--out',
      join(packed, '..', 'u.json'),
    ]);
    expect(users.code, users.stderr).toBe(0);
  });

  it('--resume keeps the compression; another one is refused, naming it', async () => {
    const other = await cli([
      'export',
      '--db-url',
      sourceUrl,
      '-o',
      packed,
      '--resume',
      '--compress',
      'none',
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/other choices than its first run: compress "none" \(it used "gzip:1"\)/);
    const same = await cli([
      'export',
      '--db-url',
      sourceUrl,
      '-o',
      packed,
      '--resume',
      '--compress',
      'gzip:1',
    ]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout + same.stderr).toMatch(/nothing to resume/);
  });

  it('a damaged gzip file is named; bad --compress values are refused', async () => {
    const dir = await tempDir('gz_bad');
    const file = join(dir, 't.json.gz');
    const good = gzipSync(Buffer.from('[\n{"a":1},\n{"a":2}\n]\n'));
    await writeFile(file, good);
    const rows: string[] = [];
    await forEachFileRow(
      file,
      'json',
      (buf, start, end) => void rows.push(buf.subarray(start, end).toString()),
    );
    expect(rows).toEqual(['{"a":1}', '{"a":2}']);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 6]! ^= 0xff; // the CRC
    await writeFile(file, damaged);
    await expect(forEachFileRow(file, 'json', () => undefined)).rejects.toThrow(
      /t\.json\.gz: not a valid gzip file/,
    );
    for (const bad of ['zstd', 'gzip:0', 'gzip:10', 'none:3', '']) {
      expect(parseCompression(bad), bad).toHaveProperty('problem');
    }
    expect(parseCompression('GZIP')).toEqual({ method: 'gzip', level: 6 });
    const run = await cli(['export', '--db-url', sourceUrl, '-o', join(dir, 'x'), '--compress', 'lz4']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--compress: expected none, gzip or gzip:<1-9> \(got "lz4"\)/);
  });
});

describe('symbolic links in an export directory', () => {
  it('are never followed: pre-flight and readers refuse them, naming the file', async () => {
    const dir = await tempDir('symlink');
    const outside = join(dir, 'outside.json');
    await writeFile(outside, '[\n{"a":1}\n]\n');
    const inside = join(dir, 'export');
    await mkdir(inside);
    await symlink(outside, join(inside, 't.json'));
    await expect(forEachFileRow(join(inside, 't.json'), 'json', () => undefined)).rejects.toThrow(
      /t\.json is a symbolic link: an export's files are read only as the plain files export wrote/,
    );
    const bytes = (await readFile(outside)).length;
    const sha256 = createHash('sha256')
      .update(await readFile(outside))
      .digest('hex');
    expect(await checkExportFiles(inside, [{ label: 'public.t', file: 't.json', bytes, sha256 }])).toEqual([
      `t.json (public.t) in ${inside} is a symbolic link: an export's files are read only as the plain files export wrote`,
    ]);
  });
});
