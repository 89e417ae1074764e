import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStorageManifest } from '../../src/format/storage-manifest.js';
import { cli } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';
import { addBucket, addObjects, createStorageSchema, S3_KEYS, startS3, type TestS3 } from '../support/s3.js';

const BIN = new URL('../../bin/supamigrate.js', import.meta.url).pathname;
const OBJECTS = 400;

/** Every file under `dir` with its sha256, temporary files included (none may be left). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  for (const e of entries.filter((e) => e.isFile())) {
    const path = join(e.parentPath, e.name);
    if (e.name === 'manifest.json') continue;
    files[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return files;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('storage export killed with SIGKILL, then --resume', () => {
  let dbUrl: string;
  let source: TestS3;

  beforeAll(async () => {
    source = await startS3('kill');
    dbUrl = await createDatabase('storage_kill');
    const db = await connectTo(dbUrl);
    await createStorageSchema(db);
    await addBucket(db, source, 'uploads');
    await addObjects(
      db,
      source,
      Array.from({ length: OBJECTS }, (_, i) => ({
        bucket: 'uploads',
        key: `user-${i % 7}/file ${i}.bin`,
        body: Buffer.alloc(8000 + i, i % 251),
      })),
    );
  });

  it('ends identical to an uninterrupted export, keeping the files the first run finished', async () => {
    const base = await tempDir('st-kill');
    const args = (dir: string) => [
      'storage',
      'export',
      '--db-url',
      dbUrl,
      '--s3-endpoint',
      source.endpoint,
      '-o',
      dir,
      '--jobs',
      '2',
    ];
    const whole = await cli(args(join(base, 'whole')), S3_KEYS);
    expect(whole.code, whole.stderr).toBe(0);

    const dir = join(base, 'killed');
    const child = spawn('node', [BIN, ...args(dir)], {
      stdio: 'ignore',
      env: { ...process.env, ...S3_KEYS, CI: 'true' },
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let finished = false;
    void exited.then(() => (finished = true));
    // Killed once the manifest records some objects complete, and before the end (bounded wait).
    for (let i = 0; i < 600 && !finished; i++) {
      const manifest = await readStorageManifest(dir, { optional: true }).catch(() => null);
      if (manifest && manifest.objects.some((o) => o.state === 'complete')) break;
      await sleep(20);
    }
    child.kill('SIGKILL');
    await exited;
    const before = (await readStorageManifest(dir))!;
    expect(before.complete).toBe(false);

    const resumed = await cli([...args(dir), '--resume', '--json'], S3_KEYS);
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout) as { kept: number; complete: boolean };
    expect(result.complete).toBe(true);
    expect(result.kept).toBeGreaterThan(0);
    expect(result.kept).toBe(before.objects.filter((o) => o.state === 'complete').length);

    const a = (await readStorageManifest(join(base, 'whole')))!;
    const b = (await readStorageManifest(dir))!;
    expect(b.objects).toEqual(a.objects);
    expect(b.buckets).toEqual(a.buckets);
    expect(await snapshot(dir)).toEqual(await snapshot(join(base, 'whole')));
  });
});
