import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { MANIFEST_FILE, readManifest, writeManifest } from '../../src/format/manifest.js';
import { fieldPath } from '../../src/format/parse-file.js';
import { validManifest } from './fixtures.js';

type Json = Record<string, unknown>;

const tempDir = () => mkdtemp(join(tmpdir(), 'supamigrate-manifest-'));

/** Writes `value` as metadata.json and reads it back: the manifest, or the error readManifest threw. */
async function readBack(value: unknown): Promise<unknown> {
  const dir = await tempDir();
  await writeFile(join(dir, MANIFEST_FILE), typeof value === 'string' ? value : JSON.stringify(value));
  return readManifest(dir).catch((err: unknown) => err);
}

/** A valid manifest changed by `edit` (a plain JSON object, so any change can be made). */
function edited(edit: (m: Json & { tables: Json[] }) => void): Json {
  const m = structuredClone(validManifest()) as unknown as Json & { tables: Json[] };
  edit(m);
  return m;
}

const column = (m: { tables: Json[] }, t: number, c: number) => (m.tables[t]!.columns as Json[])[c]!;
const part = (m: { tables: Json[] }, t: number, p: number) => (m.tables[t]!.parts as Json[])[p]!;

async function expectRefused(value: unknown, message: RegExp): Promise<void> {
  const err = await readBack(value);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toMatch(/\n/);
}

describe('metadata.json', () => {
  it('round-trips: write, read, the same manifest, mode 0600', async () => {
    const dir = await tempDir();
    const manifest = validManifest();
    await writeManifest(dir, manifest);
    expect(await readManifest(dir)).toEqual(manifest);
    expect((await stat(join(dir, MANIFEST_FILE))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, MANIFEST_FILE), 'utf8')).toMatch(/^\{\n {2}"formatVersion": 1,[^]*\}\n$/);
  });

  it('reads a manifest of an older run: no options, no per-table snapshot, exportedAt or lastValue', async () => {
    const old = edited((m) => {
      m.options = {};
      for (const t of m.tables) {
        delete t.snapshot;
        delete t.exportedAt;
      }
      delete (m.tables[0]!.ownedSequences as Json[])[0]!.lastValue;
    });
    expect(await readBack(old)).toEqual(old);
  });

  it.each<[string, (m: Json & { tables: Json[] }) => void, RegExp]>([
    [
      'a wrong field type',
      (m) => (m.tables[0]!.rowCount = '60'),
      /tables\[0\]\.rowCount: expected a number \(got "60"\)$/,
    ],
    [
      'a missing columns',
      (m) => delete m.tables[1]!.columns,
      /tables\[1\]\.columns: missing \(expected an array\)$/,
    ],
    [
      'an unknown encoding',
      (m) => (column(m, 0, 3).encoding = 'decimal'),
      /tables\[0\]\.columns\[3\]\.encoding: expected one of number, bigint, numeric, .*, text, array \(got "decimal"\)$/,
    ],
    [
      'an element encoding "array"',
      (m) => (column(m, 0, 1).elementEncoding = 'array'),
      /tables\[0\]\.columns\[1\]\.elementEncoding: expected one of number, .*, text \(got "array"\)$/,
    ],
    [
      'an array without element encoding',
      (m) => delete column(m, 0, 1).elementEncoding,
      /tables\[0\]\.columns\[1\]\.elementEncoding: missing \(an array column needs it\)$/,
    ],
    [
      'a negative rowCount',
      (m) => (m.tables[0]!.rowCount = -1),
      /tables\[0\]\.rowCount: expected a number >= 0 \(got -1\)$/,
    ],
    [
      'a fractional rowCount',
      (m) => (part(m, 1, 0).rowCount = 1.5),
      /tables\[1\]\.parts\[0\]\.rowCount: expected an integer or null \(got 1\.5\)$/,
    ],
    [
      'a duplicate table',
      (m) => (m.tables[1]!.name = 'devices'),
      /tables\[1\]\.name: a second entry for public\.devices \(also tables\[0\]\)$/,
    ],
    [
      'a file used twice',
      (m) => ((m.authUsers as Json).file = 'public.devices.json'),
      /authUsers\.file: "public\.devices\.json" is also the file of tables\[0\]$/,
    ],
    [
      'a file used twice, in another case',
      (m) => (part(m, 1, 1).file = 'PUBLIC.devices.json'),
      /tables\[1\]\.parts\[1\]\.file: .* is also the file of tables\[0\]$/,
    ],
    [
      'parts whose files repeat',
      (m) => (part(m, 1, 1).file = 'public.readings.part1.json'),
      /tables\[1\]\.parts\[1\]\.file: .* is also the file of tables\[1\]\.parts\[0\]$/,
    ],
    [
      'a split table with a file',
      (m) => (m.tables[1]!.file = 'public.readings.json'),
      /tables\[1\]\.file: expected null \(the table is split into parts\)$/,
    ],
    [
      'a table without file or parts',
      (m) => (m.tables[0]!.file = null),
      /tables\[0\]\.file: expected a file name \(the table has no parts\)$/,
    ],
    [
      'a duplicate column',
      (m) => (column(m, 0, 1).name = 'id'),
      /tables\[0\]\.columns\[1\]\.name: duplicate column "id" \(also columns\[0\]\)$/,
    ],
    ['an unknown field', (m) => (m.tables[0]!.colour = 'red'), /tables\[0\]\.colour: unknown field$/],
    [
      'options of the wrong type',
      (m) => ((m.options as Json).jobs = 'two'),
      /options\.jobs: expected a number \(got "two"\)$/,
    ],
    ['an unknown option', (m) => ((m.options as Json).turbo = true), /options\.turbo: unknown field$/],
    [
      'a bad sha256',
      (m) => (m.tables[0]!.sha256 = 'abc'),
      /tables\[0\]\.sha256: expected a sha256: 64 lowercase hex digits \(got "abc"\)$/,
    ],
    [
      'blocks that are not a pair',
      (m) => (part(m, 1, 0).blocks = [0]),
      /tables\[1\]\.parts\[0\]\.blocks: expected at least 2 items \(got an array\)$/,
    ],
    [
      'an auth file of the wrong shape',
      (m) => (m.authUsers = []),
      /authUsers: expected an object \(got an array\)$/,
    ],
    ['tables not an array', (m) => ((m as Json).tables = {}), /tables: expected an array \(got an object\)$/],
  ])('refuses %s, naming the file and the field', async (_what, edit, message) => {
    await expectRefused(edited(edit), new RegExp(`^\\S*metadata\\.json: ${message.source}`));
  });

  it.each([
    '../outside.json',
    '../../etc/passwd',
    '/etc/passwd',
    'sub/public.devices.json',
    'a\\b.json',
    '..',
    '.',
    '.public.devices.json.partial',
    '',
    'a\0b.json',
  ])('refuses the file name %j in every file field', async (name) => {
    const places: [string, (m: Json & { tables: Json[] }) => void][] = [
      ['tables[0].file', (m) => (m.tables[0]!.file = name)],
      ['tables[1].parts[1].file', (m) => (part(m, 1, 1).file = name)],
      ['authUsers.file', (m) => ((m.authUsers as Json).file = name)],
      ['authIdentities.file', (m) => (m.authIdentities = { ...(m.authUsers as Json), file: name })],
    ];
    for (const [path, edit] of places) {
      await expectRefused(edited(edit), new RegExp(`metadata\\.json: ${path.replace(/[[\].]/g, '\\$&')}: `));
    }
  });

  it('another format version has its own message', async () => {
    await expectRefused(
      edited((m) => (m.formatVersion = 2)),
      /metadata\.json is not a supamigrate metadata\.json of format version 1 \(it is version 2: written by a newer supamigrate, upgrade to read it\)$/,
    );
    await expectRefused(
      { hello: 'world' },
      /metadata\.json is not a supamigrate metadata\.json of format version 1$/,
    );
    await expectRefused('[1, 2]', /is not a supamigrate metadata\.json of format version 1$/);
  });

  it('a missing or damaged file is named', async () => {
    await expect(readManifest(await tempDir())).rejects.toThrow(
      /metadata\.json not found: not an export directory/,
    );
    await expectRefused(
      '{"formatVersion": 1,',
      /metadata\.json is not valid JSON \(.*\): the export is damaged$/,
    );
  });
});

describe('metadata.json, corrupted at random', () => {
  /** Every location of the valid manifest: [path to the parent, key]. */
  function locations(value: unknown, path: (string | number)[] = []): (string | number)[][] {
    if (value === null || typeof value !== 'object') return [];
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    return entries.flatMap(([k, v]) => [[...path, k], ...locations(v, [...path, k])]);
  }
  const paths = locations(validManifest()).filter((p) => p[0] !== 'formatVersion');
  const at = (m: unknown, path: (string | number)[]) =>
    path.slice(0, -1).reduce<Json>((o, k) => (o as Record<string | number, Json>)[k]!, m as Json);
  const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  // Keys whose absence an older manifest is allowed (and `parts`/`elementEncoding`, checked by rule).
  const optional = new Set([
    'snapshot',
    'exportedAt',
    'error',
    'lastValue',
    'elementDelimiter',
    'parts',
    'elementEncoding',
  ]);

  async function outcome(m: unknown): Promise<unknown> {
    const err = await readBack(m);
    if (err instanceof Error && !(err instanceof UsageError)) throw err; // never a raw JavaScript error
    return err;
  }
  const refusedAt = (err: unknown, path: (string | number)[]) => {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(`metadata.json: ${fieldPath(path)}`);
    expect((err as Error).message).not.toMatch(/\n/);
  };

  it('a deleted key is refused with a field path (unless the key may be absent)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths.filter((p) => typeof p.at(-1) === 'string')),
        async (path) => {
          const m = structuredClone(validManifest()) as unknown;
          delete at(m, path)[path.at(-1) as string];
          const err = await outcome(m);
          const key = path.at(-1) as string;
          if ((path[0] === 'options' && path.length === 2) || (optional.has(key) && path.length > 1)) return;
          expect(err).toBeInstanceOf(UsageError);
          expect((err as Error).message).toMatch(/metadata\.json: [\w.[\]]+: /);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a value of another JSON type is refused, naming its path', async () => {
    const others = fc.constantFrom<unknown>('text', 7, -1, 2.5, true, [], {}, [1, 'x'], { a: 1 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), others, async (path, replacement) => {
        const m = structuredClone(validManifest()) as unknown;
        const parent = at(m, path) as Record<string | number, unknown>;
        const before = parent[path.at(-1)!];
        fc.pre(before !== null && jsonType(before) !== jsonType(replacement));
        parent[path.at(-1)!] = replacement;
        refusedAt(await outcome(m), path);
      }),
      { numRuns: 300 },
    );
  });

  it('null or a path-traversal name in any file field is refused, never a raw error', async () => {
    const fileFields = paths.filter((p) => p.at(-1) === 'file');
    const names = fc.oneof(
      fc.constantFrom('../x.json', '/tmp/x.json', '..\\x.json', '.x.partial', '', 'a/../b.json'),
      fc.string().map((s) => `../${s}`),
      fc.string().map((s) => `${s}/${s}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fileFields), names, async (path, name) => {
        const m = structuredClone(validManifest()) as unknown;
        (at(m, path) as Json)[path.at(-1) as string] = name;
        refusedAt(await outcome(m), path);
      }),
      { numRuns: 200 },
    );
    for (const path of paths) {
      const m = structuredClone(validManifest()) as unknown;
      (at(m, path) as Record<string | number, unknown>)[path.at(-1)!] = null;
      await outcome(m); // refused or accepted (nullable), but never a TypeError
    }
  });
});
