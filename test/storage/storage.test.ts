import { PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStorageManifest } from '../../src/format/storage-manifest.js';
import { cli, noStack } from '../support/cli.js';
import { FaultProxy } from '../support/proxy.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';
import {
  addBucket,
  addObjects,
  createStorageSchema,
  getObject,
  objectExists,
  S3_KEYS,
  sha256,
  startS3,
  type FixtureObject,
  type TestS3,
} from '../support/s3.js';

const OLD_USER = '6f1c2a9e-0b7d-4c4e-9a0e-3d2b1c0a9f11';
const NEW_USER = 'user_2abcNEWprovider';

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe('storage export → import → verify against real S3-protocol servers', () => {
  let db: pg.Client;
  let dbUrl: string;
  let source: TestS3;
  let target: TestS3;
  let objects: FixtureObject[];
  const env = S3_KEYS;
  let exported: string | null = null;
  /** A complete export of the avatars bucket, made once. */
  const exportedDir = async () => {
    if (exported) return exported;
    const dir = await tempDir('st-small');
    const run = await cli(
      [
        'storage',
        'export',
        '--db-url',
        dbUrl,
        '--s3-endpoint',
        source.endpoint,
        '-o',
        dir,
        '--bucket',
        'avatars',
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    return (exported = dir);
  };

  beforeAll(async () => {
    [source, target] = await Promise.all([startS3('src'), startS3('tgt')]);
    dbUrl = await createDatabase('storage');
    db = await connectTo(dbUrl);
    await createStorageSchema(db);
    await addBucket(db, source, 'avatars', {
      public: true,
      fileSizeLimit: 5_000_000,
      mimeTypes: ['image/png'],
    });
    await addBucket(db, source, 'documents');
    const big = randomBytes(25 * 1024 * 1024);
    objects = [
      {
        bucket: 'avatars',
        key: `${OLD_USER}/avatar.png`,
        body: randomBytes(3000),
        contentType: 'image/png',
        owner: OLD_USER,
      },
      {
        bucket: 'avatars',
        key: 'nested/deep/down/here.txt',
        body: Buffer.from('deep'),
        contentType: 'text/plain',
      },
      {
        bucket: 'documents',
        key: 'with space/naïve café ☕ 日本.txt',
        body: Buffer.from('unicode ✓'),
        contentType: 'text/plain; charset=utf-8',
        cacheControl: 'no-cache',
      },
      // Not a `..` segment: s3rver itself would store it outside its directory (real S3 keeps it a name).
      { bucket: 'documents', key: '..hidden/...dots../x..', body: Buffer.from('not a way out') },
      { bucket: 'documents', key: 'a', body: Buffer.from('a file named like a folder') },
      { bucket: 'documents', key: 'a/b', body: Buffer.from('inside it') },
      { bucket: 'documents', key: 'empty.bin', body: Buffer.alloc(0) },
      { bucket: 'documents', key: 'big/25mb.bin', body: big, contentType: 'application/x-big' },
    ];
    await addObjects(db, source, objects);
  });

  it('exports every object with its bytes, hashes and settings, confined to the directory', async () => {
    const out = await tempDir('st-export');
    const run = await cli(
      ['storage', 'export', '--db-url', dbUrl, '--s3-endpoint', source.endpoint, '-o', out, '--jobs', '3'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Exported 8 objects/);
    const manifest = (await readStorageManifest(out))!;
    expect(manifest.complete).toBe(true);
    expect(manifest.buckets.find((b) => b.id === 'avatars')).toMatchObject({
      public: true,
      fileSizeLimit: 5_000_000,
      allowedMimeTypes: ['image/png'],
      objectCount: 2,
    });
    for (const o of objects) {
      const entry = manifest.objects.find((e) => e.bucket === o.bucket && e.key === o.key)!;
      expect(entry, o.key).toMatchObject({ state: 'complete', size: o.body.length, sha256: sha256(o.body) });
      expect(entry.contentType).toBe(o.contentType ?? 'application/octet-stream');
      const path = join(out, 'storage', entry.file);
      expect(sha256(await readFile(path)), o.key).toBe(sha256(o.body));
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    }
    expect(manifest.objects.find((e) => e.key.startsWith(OLD_USER))!.ownerId).toBe(OLD_USER);
    // Nothing but the manifest and hash-named files, nothing outside.
    const files = await filesUnder(out);
    expect(
      files
        .filter((f) => f !== join('storage', 'manifest.json'))
        .every((f) => /^storage\/objects\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f)),
    ).toBe(true);
    expect(files).toHaveLength(objects.length + 1);

    // Import into another server, then verify: identical bytes, content type and cache control.
    const imported = await cli(['storage', 'import', '-i', out, '--s3-endpoint', target.endpoint], env);
    expect(imported.code, imported.stderr + imported.stdout).toBe(0);
    expect(imported.stdout).toMatch(/created bucket avatars/);
    expect(imported.stdout).toMatch(
      /bucket avatars is public \(anyone may read its objects\), file size limit 5000000 bytes, allowed MIME types image\/png/,
    );
    for (const o of objects) {
      const got = await getObject(target, o.bucket, o.key);
      expect(sha256(got.body), o.key).toBe(sha256(o.body));
      expect(got.contentType, o.key).toBe(o.contentType ?? 'application/octet-stream');
      expect(got.cacheControl, o.key).toBe(o.cacheControl ?? 'max-age=3600');
      expect(got.metadata?.sha256).toBe(sha256(o.body));
    }
    const verified = await cli(
      ['storage', 'verify', '-i', out, '--s3-endpoint', target.endpoint, '--db-url', dbUrl],
      env,
    );
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/Storage matches: 8 objects/);
    // Without MD5s to compare eTags with (as after a multipart upload), the sha256 import recorded is used.
    const noMd5 = await tempDir('st-nomd5');
    await mkdir(join(noMd5, 'storage'));
    const full = (await readStorageManifest(out))!;
    await writeFile(
      join(noMd5, 'storage', 'manifest.json'),
      JSON.stringify({ ...full, objects: full.objects.map((o) => ({ ...o, md5: null })) }),
    );
    const bySha = await cli(
      ['storage', 'verify', '-i', noMd5, '--s3-endpoint', target.endpoint, '--json'],
      env,
    );
    expect(bySha.code, bySha.stdout + bySha.stderr).toBe(0);
    expect(JSON.parse(bySha.stdout)).toMatchObject({ ok: true, objects: 8, downloaded: 0 });

    // A row added at the source since the export, and one removed: named against the source.
    await db.query(
      `insert into storage.objects (bucket_id, name, metadata) values ('documents', 'late/arrival.txt', '{"size": 3}')`,
    );
    await db.query(
      `update storage.objects set name = 'a-renamed' where bucket_id = 'documents' and name = 'a'`,
    );
    // And one whose content changed at the source with its size kept: its eTag (a plain MD5) says so.
    const edited = await db.query<{ bucket_id: string; name: string; metadata: unknown }>(
      `select bucket_id, name, metadata from storage.objects
        where metadata->>'eTag' ~ '^"[0-9a-f]{32}"$' and name <> 'a-renamed' order by name limit 1`,
    );
    const row = edited.rows[0]!;
    await db.query(
      `update storage.objects set metadata = jsonb_set(metadata, '{eTag}', '"${'0'.repeat(32)}"')
        where bucket_id = $1 and name = $2`,
      [row.bucket_id, row.name],
    );
    const stale = await cli(
      ['storage', 'verify', '-i', out, '--s3-endpoint', target.endpoint, '--db-url', dbUrl],
      env,
    );
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(
      /✗ not exported: documents\/late\/arrival\.txt: in storage\.objects at the source, not in the export/,
    );
    expect(stale.stdout).toMatch(/✗ not exported: documents\/a-renamed/);
    expect(stale.stdout).toMatch(
      /✗ not in the source: documents\/a: exported, no longer in storage\.objects/,
    );
    expect(stale.stdout).toContain(
      `✗ different: ${row.bucket_id}/${row.name}: storage.objects says MD5 ${'0'.repeat(32)}, the exported bytes have`,
    );
    await db.query(`update storage.objects set metadata = $3 where bucket_id = $1 and name = $2`, [
      row.bucket_id,
      row.name,
      row.metadata,
    ]);
    await db.query(`delete from storage.objects where name = 'late/arrival.txt'`);
    await db.query(
      `update storage.objects set name = 'a' where bucket_id = 'documents' and name = 'a-renamed'`,
    );

    // --resume skips what is there already.
    const again = await cli(
      ['storage', 'import', '-i', out, '--s3-endpoint', target.endpoint, '--resume', '--json'],
      env,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: 8, complete: true });

    // Tamper with the target: one object changed (same size), one removed, one added.
    const changed = objects[1]!;
    await target.client.send(
      new PutObjectCommand({ Bucket: changed.bucket, Key: changed.key, Body: Buffer.from('DEEP') }),
    );
    await target.client.send(new DeleteObjectCommand({ Bucket: 'documents', Key: 'empty.bin' }));
    await target.client.send(
      new PutObjectCommand({ Bucket: 'documents', Key: 'stray.txt', Body: Buffer.from('x') }),
    );
    const differs = await cli(['storage', 'verify', '-i', out, '--s3-endpoint', target.endpoint], env);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(/✗ different: avatars\/nested\/deep\/down\/here\.txt: content differs/);
    expect(differs.stdout).toMatch(/✗ missing: documents\/empty\.bin/);
    expect(differs.stdout).toMatch(/✗ extra: documents\/stray\.txt/);
    expect(differs.stdout).toMatch(/3 problems/);
    // --download hashes every object: the same three.
    const deep = await cli(
      ['storage', 'verify', '-i', out, '--s3-endpoint', target.endpoint, '--download', '--json'],
      env,
    );
    expect(deep.code).toBe(1);
    expect(
      JSON.parse(deep.stdout)
        .problems.map((p: { kind: string }) => p.kind)
        .sort(),
    ).toEqual(['different', 'extra', 'missing']);

    // User folders renamed on import, and verify with the same map agrees.
    const map = join(await tempDir('st-map'), 'user-map.json');
    await writeFile(map, JSON.stringify({ mappings: [{ oldId: OLD_USER, newId: NEW_USER }], unmatched: [] }));
    const renamed = await cli(
      [
        'storage',
        'import',
        '-i',
        out,
        '--s3-endpoint',
        target.endpoint,
        '--bucket-map',
        'avatars=avatars-new',
        '--bucket-map',
        'documents=documents-new',
        '--user-map',
        map,
        '--rename-user-folders',
      ],
      env,
    );
    expect(renamed.code, renamed.stderr + renamed.stdout).toBe(0);
    expect(renamed.stdout).toContain(
      `renamed avatars-new/${OLD_USER}/avatar.png → avatars-new/${NEW_USER}/avatar.png`,
    );
    expect(renamed.stdout).toMatch(/owners mapped to new ids: 1 object$/m);
    expect(await objectExists(target, 'avatars-new', `${NEW_USER}/avatar.png`)).toBe(true);
    expect(await objectExists(target, 'avatars-new', `${OLD_USER}/avatar.png`)).toBe(false);
    const mappedVerify = await cli(
      [
        'storage',
        'verify',
        '-i',
        out,
        '--s3-endpoint',
        target.endpoint,
        '--bucket-map',
        'avatars=avatars-new',
        '--bucket-map',
        'documents=documents-new',
        '--user-map',
        map,
        '--rename-user-folders',
      ],
      env,
    );
    expect(mappedVerify.code, mappedVerify.stdout + mappedVerify.stderr).toBe(0);
  });

  it('--resume with another --bucket selection is refused, the export left as it was', async () => {
    const dir = await exportedDir();
    const before = await filesUnder(dir);
    const other = await cli(
      [
        'storage',
        'export',
        '--db-url',
        dbUrl,
        '--s3-endpoint',
        source.endpoint,
        '-o',
        dir,
        '--bucket',
        'documents',
        '--resume',
      ],
      env,
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /--resume: the storage export in .* was of avatars, not documents: give the same --bucket options, or --force to start over/,
    );
    expect(await filesUnder(dir)).toEqual(before);
  });

  it('names an object missing at the source and bytes that do not match the row, and exits 1', async () => {
    const url = await createDatabase('storage_bad');
    const bad = await connectTo(url);
    await createStorageSchema(bad);
    await addBucket(bad, null, 'avatars');
    await addObjects(bad, source, [
      { bucket: 'avatars', key: 'ghost/not-there.png', body: Buffer.from('never uploaded'), rowOnly: true },
      { bucket: 'avatars', key: 'nested/deep/down/here.txt', body: Buffer.from('deep'), rowSize: 10 },
    ]);
    const out = await tempDir('st-bad');
    const run = await cli(
      ['storage', 'export', '--db-url', url, '--s3-endpoint', source.endpoint, '-o', out],
      env,
    );
    expect(run.code).toBe(1);
    noStack(run.stderr);
    const said = run.stdout + run.stderr;
    expect(said).toMatch(
      /avatars\/ghost\/not-there\.png: listed in storage\.objects but missing at the source S3 endpoint \(NoSuchKey\)/,
    );
    expect(said).toMatch(/avatars\/nested\/deep\/down\/here\.txt: storage\.objects says 10 bytes, S3 sent 4/);
    const manifest = (await readStorageManifest(out))!;
    expect(manifest.complete).toBe(false);
    expect(await filesUnder(out)).toEqual([join('storage', 'manifest.json')]);
    const refused = await cli(['storage', 'import', '-i', out, '--s3-endpoint', target.endpoint], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not complete: finish it with supamigrate storage export --resume/);
  });

  it('downloads again an object whose connection broke off mid-body', async () => {
    const proxy = await FaultProxy.start(source.endpoint);
    const endpoint = `http://127.0.0.1:${proxy.port}`;
    proxy.cutAfter(5_000_000);
    const out = await tempDir('st-cut');
    const run = await cli(
      [
        'storage',
        'export',
        '--db-url',
        dbUrl,
        '--s3-endpoint',
        endpoint,
        '-o',
        out,
        '--bucket',
        'documents',
        '--jobs',
        '1',
      ],
      env,
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(proxy.log.join('\n')).toMatch(/cut/);
    const manifest = (await readStorageManifest(out))!;
    const big = objects.find((o) => o.key === 'big/25mb.bin')!;
    expect(manifest.objects.find((o) => o.key === big.key)!.sha256).toBe(sha256(big.body));
  });

  it('refuses wrong credentials, unknown and missing buckets in one line, never printing the secret', async () => {
    const out = await tempDir('st-cred');
    const secret = 'very-secret-value-123';
    const wrong = await cli(
      [
        'storage',
        'export',
        '--db-url',
        dbUrl,
        '--s3-endpoint',
        source.endpoint,
        '-o',
        out,
        '--s3-access-key-id',
        'WRONG',
        '--s3-secret-access-key',
        secret,
      ],
      {},
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused the credentials \(InvalidAccessKeyId\)/);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stdout + wrong.stderr).not.toContain(secret);

    const unknown = await cli(
      [
        'storage',
        'export',
        '--db-url',
        dbUrl,
        '--s3-endpoint',
        source.endpoint,
        '-o',
        await tempDir('st-unk'),
        '--bucket',
        'nope',
      ],
      env,
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--bucket: "nope" not in storage\.buckets \(it has: avatars, documents\)/);

    const url = await createDatabase('storage_nobucket');
    const c = await connectTo(url);
    await createStorageSchema(c);
    await addBucket(c, null, 'vanished');
    await c.query(
      `insert into storage.objects (bucket_id, name, metadata) values ('vanished', 'x/y.txt', '{"size": 1}')`,
    );
    const missing = await cli(
      ['storage', 'export', '--db-url', url, '--s3-endpoint', source.endpoint, '-o', await tempDir('st-nob')],
      env,
    );
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toMatch(
      /vanished: the bucket does not exist at http:\/\/127\.0\.0\.1:\d+ \(NoSuchBucket\), and storage\.objects lists 1 object in it \(vanished\/x\/y\.txt\)/,
    );

    // A file that cannot be written (a file where the objects' folder goes): each object named, exit 1.
    const blocked = await tempDir('st-blocked');
    await mkdir(join(blocked, 'storage'));
    await writeFile(join(blocked, 'storage', 'objects'), 'in the way');
    const unwritable = await cli(
      [
        'storage',
        'export',
        '--db-url',
        dbUrl,
        '--s3-endpoint',
        source.endpoint,
        '-o',
        blocked,
        '--bucket',
        'avatars',
      ],
      env,
    );
    expect(unwritable.code).toBe(1);
    expect(unwritable.stdout).toMatch(
      /✗ avatars\/nested\/deep\/down\/here\.txt: cannot write .*storage\/objects\//,
    );
    noStack(unwritable.stderr);

    // A manifest naming a file outside its directory is refused before anything is read or uploaded.
    const hostile = await tempDir('st-hostile');
    await mkdir(join(hostile, 'storage'));
    const good = (await readStorageManifest(await exportedDir()))!;
    const evil = {
      ...good,
      objects: good.objects.map((o, i) => (i === 0 ? { ...o, file: '../../../../etc/hostname' } : o)),
    };
    await writeFile(join(hostile, 'storage', 'manifest.json'), JSON.stringify(evil));
    const refused = await cli(['storage', 'import', '-i', hostile, '--s3-endpoint', target.endpoint], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/objects\[0\]\.file: expected objects\/<2 hex>\/<64 hex>/);

    const none = await cli(['storage', 'export', '-o', out], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/4 problems/);
    expect(none.stderr).toMatch(/no database given/);
    expect(none.stderr).toMatch(/--s3-endpoint/);
  });
});
