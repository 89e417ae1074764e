import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, noStack } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';
import { addBucket, addObjects, createStorageSchema, getObject, S3_KEYS, startS3 } from '../support/s3.js';

/*
 * migrate with S3 settings moves the storage files after the data, in the same run: exported from the
 * source endpoint (checked against storage.objects), uploaded to the target's, and verified.
 */
describe('migrate --s3-endpoint --target-s3-endpoint', () => {
  it('moves the data and the files, verified; one endpoint alone is refused before connecting', async () => {
    const [source, target] = await Promise.all([startS3('mig-src'), startS3('mig-tgt')]);
    const sourceUrl = await createDatabase('mig_st_src');
    const db = await connectTo(sourceUrl);
    await createStorageSchema(db);
    await db.query(`create table public.notes (id int primary key, body text);
                    insert into public.notes values (1, 'a'), (2, 'b')`);
    await addBucket(db, source, 'avatars');
    await addObjects(db, source, [
      { bucket: 'avatars', key: 'u1/avatar.png', body: Buffer.from('png bytes'), contentType: 'image/png' },
      { bucket: 'avatars', key: 'deep/ü x/empty.txt', body: Buffer.alloc(0), contentType: 'text/plain' },
    ]);
    const targetUrl = await createDatabase('mig_st_tgt');
    // The target side's keys come from TARGET_AWS_*, the source's from AWS_*.
    const env = { ...S3_KEYS, TARGET_AWS_ACCESS_KEY_ID: 'S3RVER', TARGET_AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    const base = ['migrate', '--db-url', sourceUrl, '--target-url', targetUrl];

    const half = await cli([...base, '--s3-endpoint', source.endpoint], env);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--target-s3-endpoint: missing/);
    noStack(half.stderr);
    const noKeys = await cli(
      [...base, '--s3-endpoint', source.endpoint, '--target-s3-endpoint', target.endpoint],
      {
        ...S3_KEYS,
      },
    );
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(
      /--target-s3-access-key-id: missing \(give it, or set TARGET_AWS_ACCESS_KEY_ID\)/,
    );

    const run = await cli(
      [...base, '--s3-endpoint', source.endpoint, '--target-s3-endpoint', target.endpoint],
      env,
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/storage +done .*2 objects/);
    expect(run.stdout).toMatch(/Storage: 2 objects .* moved/);
    const moved = await getObject(target, 'avatars', 'u1/avatar.png');
    expect(moved.body.toString()).toBe('png bytes');
    expect(moved.contentType).toBe('image/png');
    expect((await getObject(target, 'avatars', 'deep/ü x/empty.txt')).body.length).toBe(0);
    const rows = await (await connectTo(targetUrl)).query('select * from public.notes order by id');
    expect(rows.rows).toEqual([
      { id: 1, body: 'a' },
      { id: 2, body: 'b' },
    ]);
  });

  it('demo with S3 settings moves the sample storage files too, verified', async () => {
    const [source, target] = await Promise.all([startS3('demo-src'), startS3('demo-tgt')]);
    const dir = join(await tempDir('demo-st'), 'out');
    const env = { ...S3_KEYS, TARGET_AWS_ACCESS_KEY_ID: 'S3RVER', TARGET_AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    const run = await cli(
      [
        'demo',
        '--readings',
        '500',
        '-o',
        dir,
        '--s3-endpoint',
        source.endpoint,
        '--target-s3-endpoint',
        target.endpoint,
      ],
      env,
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /Storage: \d+ objects \(.*\) moved from .*; verified: every key, size and content hash the same/,
    );
    // The sample's buckets under the demo's prefix, never a bucket of yours.
    const listed = await target.client.send(new ListBucketsCommand({}));
    const names = (listed.Buckets ?? []).map((b) => b.Name);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n!.startsWith('supamigrate-demo-'))).toBe(true);
  }, 180_000);
});
