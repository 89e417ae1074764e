import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  IMPORT_STATE_FILE,
  readImportState,
  stateKey,
  writeImportState,
  type ImportState,
} from '../../src/format/import-state.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'supamigrate-state-'));
const state = (): ImportState => ({
  target: 'postgres@localhost:5432/target',
  export: '2026-11-24T01:18:02.512Z',
  tables: {
    [stateKey({ schema: 'public', name: 'devices' })]: { rows: 60, loadedAt: '2026-11-24T02:00:00.000Z' },
  },
});

async function withFile(content: string): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, IMPORT_STATE_FILE), content);
  return dir;
}

describe('import-state.json', () => {
  it('round-trips, mode 0600', async () => {
    const dir = await tempDir();
    await writeImportState(dir, state());
    expect(await readImportState(dir, state().target, state().export)).toEqual(state());
    expect((await stat(join(dir, IMPORT_STATE_FILE))).mode & 0o777).toBe(0o600);
  });

  it('none, or one of another target or export, is not this import’s: null', async () => {
    expect(await readImportState(await tempDir(), 'x', 'y')).toBeNull();
    const dir = await tempDir();
    await writeImportState(dir, state());
    expect(await readImportState(dir, 'postgres@elsewhere:5432/target', state().export)).toBeNull();
    expect(await readImportState(dir, state().target, '2027-01-01T00:00:00.000Z')).toBeNull();
  });

  it.each<[string, string, RegExp]>([
    [
      'damaged JSON',
      '{"target":',
      /import-state\.json is not valid JSON \(.*\): remove it to import every table again$/,
    ],
    [
      'a missing field',
      JSON.stringify({ ...state(), tables: undefined }),
      /import-state\.json: tables: missing \(expected an object\): remove it/,
    ],
    [
      'a wrong row count',
      JSON.stringify({ ...state(), tables: { '["public","a"]': { rows: -3, loadedAt: 'x' } } }),
      /import-state\.json: tables\["\[\\"public\\",\\"a\\"\]"\]\.rows: expected a number >= 0 \(got -3\)/,
    ],
    ['not an object', '[]', /import-state\.json: \(the whole file\): expected an object \(got an array\)/],
  ])('refuses %s with a UsageError naming the file and field', async (_what, content, message) => {
    const err = await readImportState(await withFile(content), state().target, state().export).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });
});
