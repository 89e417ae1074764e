import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ManifestTable } from '../../src/format/manifest.js';
import { findUserColumns } from '../../src/format/user-columns.js';
import { scanUserIdColumns } from '../../src/format/user-id-scan.js';

/** A uuid-shaped id from a name, so the files are the same on every run. */
const uuid = (name: string) =>
  createHash('md5')
    .update(name)
    .digest('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

const uuidColumn = (name: string) => ({
  name,
  type: 'uuid',
  encoding: 'text' as const,
  nullable: false,
  generated: null,
  identity: null,
  hasDefault: false,
});

const fk = (columns: string[], schema: string, table: string, refColumns: string[]) => ({
  name: `${table}_${columns.join('_')}_fkey`,
  columns,
  references: { schema, table, columns: refColumns },
  deferrable: false,
});

/** A table entry as metadata.json has it, for the fields the scan reads. */
function table(name: string, file: string, rowCount: number, extra: Partial<ManifestTable>): ManifestTable {
  return {
    snapshot: null,
    schema: 'basejump',
    name,
    file,
    state: 'complete',
    rowCount,
    method: 'batch',
    bytes: 0,
    sha256: '0'.repeat(64),
    seconds: 0,
    kind: 'table',
    columns: [],
    primaryKey: [],
    foreignKeys: [],
    ownedSequences: [],
    rowLevelSecurity: false,
    ...extra,
  } as unknown as ManifestTable;
}

const users = Array.from({ length: 100 }, (_, i) => uuid(`user${i}`));
const userIds = new Set(users);

/** 1,500 team accounts, then one personal account a user (id = owner): the personal ones come last. */
function accountRows() {
  const teams = Array.from({ length: 1500 }, (_, i) => ({ id: uuid(`team${i}`), owner: users[i % 100] }));
  return [...teams, ...users.map((u) => ({ id: u, owner: u }))];
}

const jsonFile = (rows: object[]) => `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;

const accounts = (file: string) =>
  table('accounts', file, 1600, {
    columns: [uuidColumn('id'), uuidColumn('owner')],
    primaryKey: ['id'],
    foreignKeys: [fk(['owner'], 'auth', 'users', ['id'])],
  });

describe('users scan: the sample and the foreign keys', () => {
  it('samples rows spread over the file: personal accounts after 1,500 team accounts are found', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scan-'));
    await writeFile(join(dir, 'basejump.accounts.json'), jsonFile(accountRows()));
    const scan = await scanUserIdColumns(dir, 'json', [accounts('basejump.accounts.json')], userIds);
    const id = scan.proposed.find((c) => c.column === 'id');
    expect(id?.foundBy).toBe('values');
    expect(id?.sampled).toBe(1000);
    expect(id?.sameAsOwner).toBeGreaterThan(0);
  });

  it('reads a gzip-compressed export the same way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scan-'));
    await writeFile(join(dir, 'basejump.accounts.json.gz'), gzipSync(jsonFile(accountRows())));
    const scan = await scanUserIdColumns(dir, 'json', [accounts('basejump.accounts.json.gz')], userIds);
    expect(scan.userColumns).toBe('basejump.accounts.id');
    expect(scan.proposed[0]!.sampled).toBe(1000);
  });

  it('proposes the column a proposed column references, even with no user id in its sample', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scan-'));
    // The sampled accounts are teams only; account_user.account_id is mostly user ids (personal accounts).
    await writeFile(
      join(dir, 'a.ndjson'),
      accountRows()
        .slice(0, 10)
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    await writeFile(
      join(dir, 'au.ndjson'),
      users.map((u) => JSON.stringify({ account_id: u, user_id: u })).join('\n'),
    );
    const accountUser = table('account_user', 'au.ndjson', 100, {
      columns: [uuidColumn('account_id'), uuidColumn('user_id')],
      foreignKeys: [
        fk(['account_id'], 'basejump', 'accounts', ['id']),
        fk(['user_id'], 'auth', 'users', ['id']),
      ],
    });
    const scan = await scanUserIdColumns(dir, 'ndjson', [accounts('a.ndjson'), accountUser], userIds);
    expect(scan.userColumns.split(',').sort()).toEqual([
      'basejump.account_user.account_id',
      'basejump.accounts.id',
    ]);
    expect(scan.proposed.find((c) => c.column === 'id')?.foundBy).toEqual({
      referencedBy: 'basejump.account_user.account_id',
    });
  });

  it('never proposes a generated column (the target computes it), and --user-columns refuses one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scan-'));
    // storage.objects.path_tokens: generated from the name, whose first folder is the owner's id.
    await writeFile(
      join(dir, 'o.ndjson'),
      users
        .map((u) => JSON.stringify({ name: `${u}/avatar.png`, path_tokens: [u, 'avatar.png'] }))
        .join('\n'),
    );
    const objects = table('objects', 'o.ndjson', 100, {
      columns: [
        { ...uuidColumn('name'), type: 'text' },
        {
          ...uuidColumn('path_tokens'),
          type: 'text[]',
          encoding: 'array' as const,
          elementEncoding: 'text',
          generated: 'stored',
        },
      ],
    } as unknown as Partial<ManifestTable>);
    const scan = await scanUserIdColumns(dir, 'ndjson', [objects], userIds);
    expect(scan.proposed.map((c) => c.column)).toEqual([]);
    expect(() => findUserColumns([objects], ['basejump.objects.path_tokens'])).toThrow(
      /--user-columns basejump\.objects\.path_tokens: a generated column/,
    );
  });
});
