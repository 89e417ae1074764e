import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { exportUsersForProvider, PHONE_ONLY } from '../../src/users/provider-export.js';
import type { AuthUser } from '../../src/users/auth-users.js';
import { SUPABASE_USERS as USERS, uuid } from './provider-fixtures.js';

describe('users export: what each provider gets, flagged', () => {
  it('flags banned, shared-email and phone-only users; Auth0 leaves phone-only users out, saying why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supamigrate-provider-'));
    const clerk = await exportUsersForProvider(USERS, 'clerk', join(dir, 'users.clerk.json'));
    expect(clerk).toMatchObject({
      exported: 6,
      skippedDeleted: [uuid(6)],
      skippedNoEmailOrPhone: [uuid(1)],
      skippedPhoneOnly: [],
      phoneOnly: [uuid(7)],
      banned: [uuid(5)],
      sharedEmail: [uuid(3), uuid(4)],
    });
    const auth0 = await exportUsersForProvider(USERS, 'auth0', join(dir, 'users.auth0.json'));
    expect(auth0).toMatchObject({
      exported: 5,
      skippedPhoneOnly: [uuid(7)],
      phoneOnly: [],
      banned: [uuid(5)],
    });
    expect(PHONE_ONLY.auth0).toMatch(/SMS/);
    const written = JSON.parse(await readFile(auth0.files[0]!, 'utf8')) as Record<string, unknown>[];
    expect(written.find((u) => u.user_id === uuid(5))).toMatchObject({ blocked: true });
  });

  it('writes booleans in CSV as true and false', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supamigrate-provider-'));
    const csv = await exportUsersForProvider(USERS, 'csv', join(dir, 'users.csv'));
    const rows = parse(await readFile(csv.files[0]!, 'utf8'), { columns: true }) as Record<string, string>[];
    const row = (i: number) => rows.find((r) => r.id === uuid(i))!;
    expect(row(2)).toMatchObject({
      emailConfirmed: 'true',
      phoneConfirmed: 'false',
      banned: 'false',
      isAnonymous: 'false',
    });
    expect(row(5)).toMatchObject({ banned: 'true', emailConfirmed: 'false' });
    expect(row(3)).toMatchObject({ isSsoUser: 'true' });
    expect(row(7)).toMatchObject({ email: '', phone: '+15550001111' });
  });

  it('exports emails trimmed, listing those trimmed and those that are no address even trimmed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supamigrate-provider-'));
    const odd: AuthUser[] = [...USERS, { id: uuid(9), email: '  not an email ' }];
    for (const format of ['clerk', 'auth0', 'csv'] as const) {
      const result = await exportUsersForProvider(odd, format, join(dir, `users.${format}`));
      expect(result, format).toMatchObject({ trimmedEmail: [uuid(4), uuid(9)], invalidEmail: [uuid(9)] });
      const text = await readFile(result.files[0]!, 'utf8');
      expect(text, format).toContain('SSO@example.com');
      expect(text, format).not.toMatch(/ SSO@example\.com|SSO@example\.com /);
    }
  });

  it('splits Auth0 files at 500 KB counted in bytes, with non-ASCII metadata', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supamigrate-provider-'));
    const many: AuthUser[] = Array.from({ length: 400 }, (_, i) => ({
      id: uuid(100 + i),
      email: `u${i}@example.com`,
      raw_user_meta_data: { bio: '日本語'.repeat(700) },
    }));
    const result = await exportUsersForProvider(many, 'auth0', join(dir, 'users.auth0.json'));
    expect(result.files.length).toBeGreaterThan(1);
    for (const file of result.files) expect((await stat(file)).size).toBeLessThanOrEqual(500 * 1024);
    const back = await Promise.all(
      result.files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as []),
    );
    expect(back.flat()).toHaveLength(400);
  });

  it("refuses to write over an export's own files, even with force", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supamigrate-provider-'));
    await writeFile(join(dir, 'metadata.json'), JSON.stringify({ authUsers: { file: 'auth_users.json' } }));
    await expect(
      exportUsersForProvider(USERS, 'clerk', join(dir, 'auth_users.json'), { force: true }),
    ).rejects.toThrow(
      /auth_users\.json is a file of the export in .*: the users export is not written over it/,
    );
  });
});
