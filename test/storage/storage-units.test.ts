import { describe, expect, it } from 'vitest';
import { objectFileName, objectLabel, type StorageManifest } from '../../src/format/storage-manifest.js';
import { SettingsProblems } from '../../src/settings.js';
import { plainMd5 } from '../../src/storage/hash-file.js';
import { parseS3Settings } from '../../src/storage/s3.js';
import { planTarget } from '../../src/storage/target-plan.js';

const manifest = (keys: [string, string][]): StorageManifest => ({
  formatVersion: 1,
  tool: 'test',
  endpoint: 'http://127.0.0.1:1',
  exportedAt: '2026-01-01T00:00:00Z',
  complete: true,
  selectedBuckets: null,
  buckets: [...new Set(keys.map(([b]) => b))].map((id) => ({
    id,
    name: id,
    public: false,
    fileSizeLimit: null,
    allowedMimeTypes: null,
    objectCount: 0,
    bytes: 0,
  })),
  objects: keys.map(([bucket, key]) => ({
    bucket,
    key,
    size: 1,
    state: 'complete' as const,
    sha256: 'a'.repeat(64),
    md5: null,
    eTag: null,
    contentType: null,
    cacheControl: null,
    owner: null,
    ownerId: null,
    metadata: null,
    userMetadata: null,
    file: objectFileName(bucket, key),
  })),
});

describe('storage rules', () => {
  it('names files by a hash of bucket and key, never by the key', () => {
    for (const key of ['../../etc/passwd', 'a', 'a/b', 'A', 'naïve ☕/x', '/abs']) {
      expect(objectFileName('b', key)).toMatch(/^objects\/([0-9a-f]{2})\/\1[0-9a-f]{62}$/);
    }
    expect(objectFileName('b', 'a')).not.toBe(objectFileName('b', 'A'));
    expect(objectFileName('ab', 'c')).not.toBe(objectFileName('a', 'bc'));
    expect(objectLabel('b', 'line\nbreak "q"')).toBe('b/line\\nbreak \\"q\\"');
  });

  it('takes an eTag as an MD5 only when it is a plain one', () => {
    expect(plainMd5('"5d41402abc4b2a76b9719d911017c592"')).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(plainMd5('5D41402ABC4B2A76B9719D911017C592')).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(plainMd5('"5d41402abc4b2a76b9719d911017c592-3"')).toBeNull();
    expect(plainMd5(null)).toBeNull();
  });

  it('checks the S3 options, every problem at once, naming no secret', () => {
    const check = new SettingsProblems();
    parseS3Settings({ endpoint: 'ftp://user:pw@host' }, check, {});
    expect(check.problems).toEqual([
      '--s3-endpoint: expected an http:// or https:// URL (got "ftp:")',
      '--s3-endpoint: put no credentials in the URL; use --s3-access-key-id/--s3-secret-access-key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      '--s3-access-key-id: missing (give it, or set AWS_ACCESS_KEY_ID)',
      '--s3-secret-access-key: missing (give it, or set AWS_SECRET_ACCESS_KEY)',
    ]);
    const ok = new SettingsProblems();
    const settings = parseS3Settings({ endpoint: 'https://x.supabase.co/storage/v1/s3/' }, ok, {
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(ok.problems).toEqual([]);
    expect(settings).toMatchObject({ endpoint: 'https://x.supabase.co/storage/v1/s3', region: 'us-east-1' });
  });

  it('refuses two objects landing on one target key', async () => {
    const m = manifest([
      ['one', 'same.txt'],
      ['two', 'same.txt'],
    ]);
    await expect(planTarget(m, new Map([['one', 'two']]), {})).rejects.toThrow(
      /two\/same\.txt would receive both one\/same\.txt and two\/same\.txt/,
    );
    await expect(planTarget(m, new Map([['nope', 'x']]), {})).rejects.toThrow(
      /--bucket-map: nope not in the storage export \(it has: one, two\)/,
    );
  });
});
