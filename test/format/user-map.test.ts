import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { readUserMap, writeUserMap, type UserMap } from '../../src/format/user-map.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'supamigrate-user-map-'));
const map = (): UserMap => ({
  mappings: [
    { oldId: 'o1', newId: 'n1', email: 'a@example.com', matchedBy: 'email' },
    { oldId: 'o2', newId: 'n2', email: null, matchedBy: 'phone' },
  ],
  unmatched: [{ oldId: 'o3', email: null, phone: null, reason: 'no email or phone (anonymous user)' }],
});

async function read(content: unknown): Promise<unknown> {
  const path = join(await tempDir(), 'user-map.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return readUserMap(path).catch((err: unknown) => err);
}

describe('user-map.json', () => {
  it('round-trips, written atomically with mode 0600 over an existing 0644 file', async () => {
    const path = join(await tempDir(), 'user-map.json');
    await writeFile(path, '{}');
    await chmod(path, 0o644);
    await expect(writeUserMap(path, map())).rejects.toThrow(/already exists: not replaced \(give --force/);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    await writeUserMap(path, map(), { force: true });
    expect(await readUserMap(path)).toEqual(map());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toMatch(/^\{\n {2}"mappings"/);
  });

  it('reads a hand-written map: no email, matchedBy or unmatched; extra fields ignored', async () => {
    expect(
      await read({ mappings: [{ oldId: 'o1', newId: 'n1', note: 'by hand' }], source: 'clerk' }),
    ).toEqual({
      mappings: [{ oldId: 'o1', newId: 'n1', email: null }],
      unmatched: [],
    });
  });

  it('accepts users matched by external id, and the same mapping twice', async () => {
    const m = { mappings: [{ oldId: 'o1', newId: 'n1', email: null, matchedBy: 'external id' }] };
    expect(await read(m)).toEqual({ ...m, unmatched: [] });
    expect(await read({ mappings: [...m.mappings, ...m.mappings] })).not.toBeInstanceOf(Error);
  });

  it.each<[string, unknown, RegExp]>([
    ['no mappings', { users: [] }, /: mappings: missing \(expected an array\)$/],
    [
      'a numeric old id',
      { mappings: [{ oldId: 1, newId: 'n' }] },
      /: mappings\[0\]\.oldId: expected a string \(got 1\)$/,
    ],
    [
      'an empty new id',
      { mappings: [{ oldId: 'o', newId: '' }] },
      /: mappings\[0\]\.newId: expected a user id \(got ""\)$/,
    ],
    [
      'an unknown match',
      { mappings: [{ oldId: 'o', newId: 'n', matchedBy: 'fax' }] },
      /: mappings\[0\]\.matchedBy: expected one of email, phone, external id \(got "fax"\)$/,
    ],
    [
      'an old id mapped twice',
      {
        mappings: [
          { oldId: 'o', newId: 'n1' },
          { oldId: 'p', newId: 'n2' },
          { oldId: 'o', newId: 'n3' },
        ],
      },
      /: mappings\[2\]\.oldId: old id o is mapped twice \(n1, n3\)$/,
    ],
    [
      'one new id for two old ids (a map edited by hand)',
      {
        mappings: [
          { oldId: 'o', newId: 'n1' },
          { oldId: 'p', newId: 'n2' },
          { oldId: 'q', newId: 'n1' },
        ],
      },
      /: mappings\[2\]\.newId: new id n1 is given to two old ids \(o, q\)$/,
    ],
    ['damaged JSON', '{"mappings": [', /^user map \S+ is not valid JSON: /],
  ])('refuses %s, naming the file and the field', async (_what, content, message) => {
    const err = await read(content);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^user map \S+user-map\.json/);
    expect((err as Error).message).toMatch(message);
  });

  it("is never written over an export's own files, even with force", async () => {
    const dir = await tempDir();
    const manifest = {
      tables: [{ file: 'public.a.json' }, { file: null, parts: [{ file: 'public.b.json.gz' }] }],
      authUsers: { file: 'auth_users.json' },
      authIdentities: null,
    };
    await writeFile(join(dir, 'metadata.json'), JSON.stringify(manifest));
    for (const name of ['auth_users.json', 'Public.A.json', 'public.b.json.gz', 'metadata.json']) {
      await writeFile(join(dir, name), 'theirs');
      await expect(writeUserMap(join(dir, name), map(), { force: true })).rejects.toThrow(
        new RegExp(
          `^\\S+${name.replace(/\./g, '\\.')} is a file of the export in \\S+ \\(listed in its metadata\\.json\\): the user map is not written over it; give another --out$`,
        ),
      );
      expect(await readFile(join(dir, name), 'utf8')).toBe('theirs');
    }
    await writeUserMap(join(dir, 'user-map.json'), map());
  });

  it('a missing map says how to make one', async () => {
    await expect(readUserMap(join(await tempDir(), 'nope.json'))).rejects.toThrow(
      /^user map \S+nope\.json not found \(create it with supamigrate users map\)$/,
    );
  });
});
