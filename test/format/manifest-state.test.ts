import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../src/format/manifest-schema.js';
import {
  inOneSnapshot,
  isComplete,
  markFailed,
  markFileComplete,
  markPartComplete,
  markTableComplete,
  newFileEntry,
  newTableEntry,
  partTotals,
  reopenTable,
  resetPart,
} from '../../src/format/manifest-state.js';
import { validManifest } from './fixtures.js';

const description = () => {
  const { schema, name, kind, columns, primaryKey, foreignKeys, ownedSequences, rowLevelSecurity } =
    validManifest().tables[0]!;
  // What export passes: a catalog table, with fields the manifest does not keep.
  return {
    oid: 1234,
    estimatedRows: -1,
    schema,
    name,
    kind,
    columns,
    primaryKey,
    foreignKeys,
    ownedSequences,
    rowLevelSecurity,
  };
};
const written = (rowCount: number, c: string) => ({
  rowCount,
  bytes: rowCount * 10,
  sha256: c.repeat(64),
  seconds: 0.12345,
});

/** The manifest with `tables` and `authUsers` as given still passes the schema. */
function expectValid(tables = validManifest().tables, authUsers = validManifest().authUsers) {
  expect(manifestSchema.safeParse({ ...validManifest(), tables, authUsers }).error).toBeUndefined();
}

describe('manifest state transitions', () => {
  it('a new table is pending, with its file and the catalog fields the manifest keeps, in the usual key order', () => {
    const entry = newTableEntry(description(), {
      file: 'public.devices.json',
      rowCount: 60,
      method: 'batch',
      snapshot: 's1',
    });
    expect(entry).toEqual({
      ...validManifest().tables[0],
      snapshot: 's1',
      state: 'pending',
      bytes: null,
      sha256: null,
      seconds: null,
      exportedAt: undefined,
    });
    expect(Object.keys(entry).slice(0, 5)).toEqual(['snapshot', 'schema', 'name', 'file', 'state']);
    expect(entry).not.toHaveProperty('oid');
    expectValid([entry]);
  });

  it('a split table has no file and a pending part per range', () => {
    const entry = newTableEntry(description(), {
      file: 'public.devices.json',
      parts: [
        { file: 'p1.json', blocks: [0, 10] },
        { file: 'p2.json', blocks: [10, null] },
      ],
      rowCount: 60,
      method: 'stream',
      snapshot: 's1',
    });
    expect(entry.file).toBeNull();
    expect(entry.parts).toEqual([
      {
        file: 'p1.json',
        blocks: [0, 10],
        state: 'pending',
        rowCount: null,
        bytes: null,
        sha256: null,
        seconds: null,
        snapshot: 's1',
      },
      {
        file: 'p2.json',
        blocks: [10, null],
        state: 'pending',
        rowCount: null,
        bytes: null,
        sha256: null,
        seconds: null,
        snapshot: 's1',
      },
    ]);
    expectValid([entry]);

    markPartComplete(entry.parts![0]!, written(25, 'a'), 's1');
    expect(entry.parts![0]).toMatchObject({
      state: 'complete',
      rowCount: 25,
      bytes: 250,
      seconds: 0.123,
      snapshot: 's1',
    });
    expect(isComplete(entry)).toBe(false);
    markPartComplete(entry.parts![1]!, written(35, 'b'), 's2');
    expect(partTotals(entry)).toEqual({ rowCount: 60, bytes: 600 });
    expect(inOneSnapshot(entry)).toBe(false);
    markTableComplete(entry, { ...partTotals(entry), seconds: 1.23456 }, new Date('2026-01-02T03:04:05Z'));
    expect(entry).toMatchObject({
      state: 'complete',
      rowCount: 60,
      bytes: 600,
      sha256: null,
      seconds: 1.235,
      exportedAt: '2026-01-02T03:04:05.000Z',
    });
    expect(isComplete(entry)).toBe(true);
    expectValid([entry]);
  });

  it('a one-file table completes with its file’s sha256', () => {
    const entry = newTableEntry(description(), {
      file: 'public.devices.json',
      rowCount: 60,
      method: 'batch',
      snapshot: null,
    });
    expect(inOneSnapshot(entry)).toBe(true);
    const w = written(60, 'c');
    markTableComplete(entry, w);
    expect(entry).toMatchObject({
      state: 'complete',
      rowCount: 60,
      bytes: 600,
      sha256: w.sha256,
      seconds: 0.123,
    });
    expect(Date.parse(entry.exportedAt!)).not.toBeNaN();
    expectValid([entry]);
  });

  it('the first failure is kept and reported once', () => {
    const entry = newTableEntry(description(), {
      file: 'public.devices.json',
      rowCount: 60,
      method: 'batch',
      snapshot: null,
    });
    expect(markFailed(entry, 'connection lost')).toBe(true);
    expect(markFailed(entry, 'not exported: no connection')).toBe(false);
    expect(entry).toMatchObject({ state: 'failed', error: 'connection lost' });
    expect(isComplete(entry)).toBe(false);
    expectValid([entry]);
  });

  it('export --resume: a part is reset, its table reopened', () => {
    const entry = validManifest().tables[1]!;
    const failed = entry.parts![1]!;
    resetPart(failed);
    expect(failed).toEqual({
      file: failed.file,
      blocks: failed.blocks,
      state: 'pending',
      rowCount: null,
      bytes: null,
      sha256: null,
      seconds: null,
      snapshot: null,
    });
    expect(failed).not.toHaveProperty('error');
    reopenTable(entry);
    expect(entry.state).toBe('pending');
    expect(entry).not.toHaveProperty('error');
    expect(entry.parts![0]!.state).toBe('complete');
    expectValid([entry]);
  });

  it('an auth file goes from pending to complete or failed', () => {
    const users = newFileEntry('auth_users.json', validManifest().authUsers!.columns);
    expect(users).toMatchObject({ state: 'pending', rowCount: 0, bytes: null, sha256: null });
    expect(isComplete(users)).toBe(false);
    expect(isComplete(null)).toBe(false);
    users.rowCount = 40;
    markFileComplete(users, { bytes: 400, sha256: 'd'.repeat(64) });
    expect(users).toMatchObject({ state: 'complete', rowCount: 40, bytes: 400 });
    expect(isComplete(users)).toBe(true);
    expectValid(undefined, users);
    const identities = newFileEntry('auth_identities.json', []);
    markFailed(identities, 'permission denied');
    expect(identities).toMatchObject({ state: 'failed', error: 'permission denied' });
  });
});
