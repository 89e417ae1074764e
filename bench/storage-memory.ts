/**
 * `npm run build && node --import tsx bench/storage-memory.ts`: peak memory (RSS) of `storage export`,
 * `storage import` and `storage verify --download` moving one large object, beside the same commands moving
 * one small object: memory must stay flat whatever the object's size.
 *
 * Environment: BENCH_DATABASE_URL (or TEST_DATABASE_URL; default postgresql://postgres@127.0.0.1:5432/postgres)
 * names a server on which the database `supamigrate_bench_storage` is (re)created and dropped at the end;
 * BENCH_STORAGE_MB (default 1024) is the large object's size. An s3rver (from npm) runs on 127.0.0.1 with
 * its objects in a temporary directory. Peak RSS is read with GNU time (`/usr/bin/time -f %M`). Not a test:
 * it prints figures, it asserts nothing.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { s3rverClient, spawnS3rver } from '../test/support/s3rver.js';

const run = promisify(execFile);
const MB = Number(process.env.BENCH_STORAGE_MB ?? 1024);
const baseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';
const DB = 'supamigrate_bench_storage';
const dbUrl = Object.assign(new URL(baseUrl), { pathname: `/${DB}` }).toString();
const BIN = fileURLToPath(new URL('../bin/supamigrate.js', import.meta.url));
const KEYS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** A file of `mb` megabytes of random bytes (a 1 MB block, each copy with its number), and its MD5. */
async function makeFile(path: string, mb: number): Promise<string> {
  const block = randomBytes(1 << 20);
  const md5 = createHash('md5');
  const out = createWriteStream(path);
  for (let i = 0; i < mb; i++) {
    block.writeUInt32LE(i, 0);
    md5.update(block);
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return md5.digest('hex');
}

/** Peak RSS in MB of one supamigrate command. */
async function peakRss(args: string[]): Promise<number> {
  const { stderr } = await run('/usr/bin/time', ['-f', 'RSS %M', 'node', BIN, '-q', ...args], {
    env: { ...process.env, ...KEYS },
    maxBuffer: 64 << 20,
  });
  return Number(/RSS (\d+)/.exec(stderr)![1]) / 1024;
}

const dir = await mkdtemp(join(tmpdir(), 'supamigrate-bench-storage-'));
const admin = new pg.Client({ connectionString: baseUrl });
const { child: server, endpoint } = await spawnS3rver(join(dir, 's3'));
try {
  const s3 = s3rverClient(endpoint);
  await admin.connect();
  await admin.query(`drop database if exists ${DB}`);
  await admin.query(`create database ${DB}`);
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  await db.query(await readFile(new URL('../test/fixtures/storage-schema.sql', import.meta.url), 'utf8'));
  for (const [bucket, mb] of [
    ['small', 0],
    ['large', MB],
  ] as const) {
    const file = join(dir, `${bucket}.bin`);
    const md5 = mb > 0 ? await makeFile(file, mb) : null;
    const body = mb > 0 ? createReadStream(file) : Buffer.from('a small object');
    const size = mb > 0 ? mb << 20 : 14;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'object.bin', Body: body, ContentLength: size }),
    );
    await db.query('insert into storage.buckets (id, name) values ($1, $1)', [bucket]);
    await db.query(`insert into storage.objects (bucket_id, name, metadata) values ($1, 'object.bin', $2)`, [
      bucket,
      { size, ...(md5 ? { eTag: `"${md5}"` } : {}) },
    ]);
    await rm(file, { force: true });
  }
  await db.end();
  s3.destroy();

  console.log(`peak RSS (MB), one object per bucket; large: ${MB} MB`);
  for (const bucket of ['small', 'large']) {
    const exportDir = join(dir, `export-${bucket}`);
    const s3Args = ['--s3-endpoint', endpoint];
    const map = ['--bucket-map', `${bucket}=${bucket}-copy`];
    const started = performance.now();
    const exported = await peakRss([
      'storage',
      'export',
      '--db-url',
      dbUrl,
      ...s3Args,
      '-o',
      exportDir,
      '--bucket',
      bucket,
    ]);
    const imported = await peakRss(['storage', 'import', '-i', exportDir, ...s3Args, ...map]);
    const verified = await peakRss(['storage', 'verify', '-i', exportDir, ...s3Args, ...map, '--download']);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${bucket.padEnd(6)} export ${exported.toFixed(0)}, import ${imported.toFixed(0)}, verify --download ${verified.toFixed(0)} (${seconds.toFixed(1)} s)`,
    );
  }
} finally {
  server.kill();
  await admin.query(`drop database if exists ${DB} with (force)`).catch(() => undefined);
  await admin.end().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
