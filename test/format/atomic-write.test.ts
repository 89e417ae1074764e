import { chmod, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { writeJsonAtomically } from '../../src/format/atomic-write.js';
import { exportPath, fileNameProblem } from '../../src/format/export-path.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'supamigrate-atomic-'));
const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('writeJsonAtomically', () => {
  it('writes indented JSON with a final newline, mode 0600, and leaves no temporary file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.json');
    await writeJsonAtomically(path, { a: [1, 2], b: null });
    expect(await readFile(path, 'utf8')).toBe('{\n  "a": [\n    1,\n    2\n  ],\n  "b": null\n}\n');
    expect(await mode(path)).toBe(0o600);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('over an existing 0644 file (and a stale 0644 temporary file) leaves 0600', async () => {
    const dir = await tempDir();
    const path = join(dir, 'user-map.json');
    await writeFile(path, 'old', { mode: 0o644 });
    await chmod(path, 0o644);
    await writeFile(join(dir, '.user-map.json.partial'), 'stale', { mode: 0o644 });
    await chmod(join(dir, '.user-map.json.partial'), 0o644);
    await writeJsonAtomically(path, { mappings: [] });
    expect(await mode(path)).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ mappings: [] });
    expect(await readdir(dir)).toEqual(['user-map.json']);
  });

  it('a failed write leaves the old file as it was and no temporary file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'metadata.json');
    await writeFile(path, 'old');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(writeJsonAtomically(path, cyclic)).rejects.toThrow(TypeError);
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['metadata.json']);
  });
});

describe('export paths', () => {
  it('joins a plain name to the directory', () => {
    expect(exportPath('out', 'public.devices.json')).toBe(join('out', 'public.devices.json'));
    expect(exportPath('/x/out', 'a..b.json')).toBe('/x/out/a..b.json');
  });

  it.each(['../x.json', '../../etc/passwd', '/etc/passwd', 'sub/../../x.json', '..', '.', '', 'a\0b'])(
    'refuses %j, which is not inside the directory',
    (file) => {
      expect(() => exportPath('/x/out', file)).toThrow(UsageError);
      expect(() => exportPath('/x/out', file)).toThrow(/is not a file inside the export directory \/x\/out$/);
    },
  );

  it('returns the location it checked', () => {
    expect(exportPath('/x/out', resolve('/x/out/a.json'))).toBe('/x/out/a.json');
    expect(() => exportPath('/x/out', '/x/other/a.json')).toThrow(UsageError);
  });

  it.each([
    ['public.devices.json', null],
    ['public.%C3%A9t%C3%A9~2.ndjson', null],
    ['', /expected a file name/],
    ['a/b.json', /not a path/],
    ['a\\b.json', /not a path/],
    ['..', /cannot start with "\."/],
    ['.metadata.json.partial', /cannot start with "\."/],
    ['a\0b', /NUL/],
  ])('the file name rule: %j', (name, problem) => {
    if (problem === null) expect(fileNameProblem(name)).toBeNull();
    else expect(fileNameProblem(name)).toMatch(problem);
  });
});
