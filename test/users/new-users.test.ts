import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNMATCHED_REASONS } from '../../src/format/user-map.js';
import { mapUsers, normalizeEmail } from '../../src/users/map-users.js';
import { valueAtPath } from '../../src/users/new-user-file.js';
import { readNewUsers, type NewUsersOptions } from '../../src/users/new-users.js';
import {
  auth0ExportLine,
  auth0Id,
  clerkId,
  clerkUser,
  firebaseUser,
  newUuid,
  SUPABASE_USERS as OLD,
  uuid,
} from './provider-fixtures.js';

async function file(name: string, content: unknown): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'supamigrate-new-users-')), name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}
const read = async (name: string, content: unknown, options?: NewUsersOptions) =>
  readNewUsers(await file(name, content), options);
const refusal = (name: string, content: unknown, options?: NewUsersOptions) =>
  read(name, content, options).then(
    () => 'read without complaint',
    (err: unknown) => String((err as Error).message),
  );
const matchedBy = (map: ReturnType<typeof mapUsers>) =>
  Object.fromEntries(map.mappings.map((m) => [m.oldId, `${m.matchedBy} ${m.newId}`]));
const reasons = (map: ReturnType<typeof mapUsers>) =>
  Object.fromEntries(map.unmatched.map((u) => [u.oldId, u.reason]));

describe('new users files: recognised by shape, matched by external id, then email, then phone', () => {
  it('Clerk user objects: external_id maps everyone (the anonymous user too); without it, the email', async () => {
    const users = OLD.map((u) => clerkUser(u, { externalId: u.id !== uuid(8) }));
    for (const content of [users, { data: users, totalCount: users.length }]) {
      const { users: newUsers, readAs } = await read('clerk.json', content);
      expect(readAs).toBe('Clerk user objects');
      const map = mapUsers(OLD, newUsers);
      expect(map.unmatched).toEqual([]);
      expect(matchedBy(map)).toEqual({
        ...Object.fromEntries(OLD.slice(0, 7).map((u) => [u.id, `external id ${clerkId(u)}`])),
        [uuid(8)]: `email ${clerkId(OLD[7]!)}`,
      });
    }
  });

  it('Clerk: an email Clerk says is unverified does not match; the phone then may', async () => {
    const user = clerkUser(OLD[7]!, { externalId: false }) as {
      email_addresses: { verification: unknown }[];
    };
    user.email_addresses[0]!.verification = { status: 'unverified', strategy: 'email_code' };
    const { users } = await read('clerk.json', [user]);
    expect(mapUsers(OLD, users).mappings).toEqual([
      { oldId: uuid(8), newId: clerkId(OLD[7]!), email: 'plain@example.com', matchedBy: 'phone' },
    ]);
    user.email_addresses[0]!.verification = { status: 'unverified' };
    const noPhone = { ...user, phone_numbers: [] };
    const other = clerkUser(OLD[1]!, { externalId: false });
    const map = mapUsers(OLD, (await read('clerk.json', [noPhone, other])).users);
    expect(reasons(map)[uuid(8)]).toBe(UNMATCHED_REASONS.unverified);
  });

  it("Clerk's dashboard CSV export", async () => {
    const csv = [
      'id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,password_hasher',
      'user_2aaa,Ada,,,admin@example.com,,admin@example.com,,,,,$2a$10$abcdefghijklmnopqrstuv,bcrypt',
      'user_2bbb,,,,,+15550001111,,,+15550001111,,,,',
      'user_2ccc,,,,plain@example.com,,,plain@example.com,,,,,',
    ].join('\n');
    const { users, readAs } = await read('clerk.csv', csv);
    expect(readAs).toBe("Clerk's dashboard CSV export");
    const map = mapUsers(OLD, users);
    expect(matchedBy(map)).toEqual({ [uuid(2)]: 'email user_2aaa', [uuid(7)]: 'phone user_2bbb' });
    expect(reasons(map)[uuid(8)]).toBe(UNMATCHED_REASONS.unverified);
  });

  it('Auth0 export (NDJSON): auth0|<Supabase id> by external id, other connections by email', async () => {
    const lines = OLD.filter((u) => u.email && u.id !== uuid(8)).map(auth0ExportLine);
    lines.push({ user_id: 'google-oauth2|109876543210', email: 'PLAIN@example.com', email_verified: true });
    const { users, readAs } = await read('auth0.ndjson', lines.map((l) => JSON.stringify(l)).join('\n'));
    expect(readAs).toBe('Auth0 users');
    const map = mapUsers(OLD, users);
    // 3 and 4 share an email, but each has its own external id.
    expect(map.mappings).toHaveLength(6);
    expect(matchedBy(map)[uuid(2)]).toBe(`external id ${auth0Id(OLD[1]!)}`);
    expect(matchedBy(map)[uuid(8)]).toBe('email google-oauth2|109876543210');
    expect(reasons(map)).toEqual({
      [uuid(1)]: UNMATCHED_REASONS.anonymous,
      [uuid(7)]: UNMATCHED_REASONS.none,
    });
  });

  it("Auth0's export job in CSV, and Clerk's Backend SDK users serialised (the API object under _raw)", async () => {
    const csv = [
      'user_id,email,email_verified',
      `auth0|${uuid(2)},admin@example.com,true`,
      'sms|5f1e,,false',
    ].join('\n');
    const auth0 = await read('auth0.csv', csv);
    expect(auth0.readAs).toBe('Auth0 users');
    expect(matchedBy(mapUsers(OLD, auth0.users))).toEqual({ [uuid(2)]: `external id auth0|${uuid(2)}` });
    const sdk = OLD.map((u) => ({
      id: clerkId(u),
      emailAddresses: [],
      externalId: u.id,
      _raw: clerkUser(u),
    }));
    const clerk = await read('clerk-sdk.json', sdk);
    expect(clerk.readAs).toBe('Clerk user objects');
    expect(mapUsers(OLD, clerk.users).mappings).toHaveLength(OLD.length);
  });

  it('Auth0 bulk-import JSON (what users export writes): the new ids are auth0|<user_id>', async () => {
    const bulk = OLD.filter((u) => u.email).map((u) => ({
      user_id: u.id,
      email: u.email,
      email_verified: true,
    }));
    const { users } = await read('auth0.json', bulk);
    expect(users.map((u) => u.id)).toEqual(bulk.map((b) => `auth0|${b.user_id}`));
    expect(mapUsers(OLD, users).mappings.every((m) => m.matchedBy === 'external id')).toBe(true);
  });

  it('a file in which no user has the email field is refused, in one line naming it', async () => {
    const lines = OLD.slice(1).map((u) => JSON.stringify({ user_id: `auth0|x${u.id}`, name: 'n' }));
    expect(await refusal('auth0.ndjson', lines.join('\n'))).toMatch(
      /^new users file \S+auth0\.ndjson \(Auth0 users\): no user has the field "email" \(export the users with their email, or give --provider generic --email-field\)$/,
    );
    const generic = [{ id: 'a', mail: 'x@example.com' }];
    expect(await refusal('g.json', generic)).toMatch(/: no user has the field "email"/);
    expect(await refusal('g.json', [{ id: 'a', email: 'x@y.z' }, { id: 'b' }])).toMatch(
      /: user 2 has no field "email" \(name the email field with --email-field\)$/,
    );
    expect(
      await refusal('g.json', [
        { id: 'a', email: 'x@y.z' },
        { id: 'a', email: 'y@y.z' },
      ]),
    ).toMatch(/: users 1 and 2 have the same id a$/);
    expect(await refusal('g.json', [{ email: 'x@y.z' }])).toMatch(
      /: user 1 has no "id" \(name the id field with --id-field\)$/,
    );
    expect(await refusal('a.json', [{ email: 'x@y.z', custom_password_hash: {} }])).toMatch(
      /\(Auth0 users\): \[0\]\.user_id: missing \(expected a string\): every user needs its user_id/,
    );
    expect(await refusal('c.json', [{ id: 'user_1', email_addresses: 'x' }])).toMatch(
      /\(Clerk user objects\): \[0\]\.email_addresses: expected an array/,
    );
  });

  it('zero matches is an error naming how the file was read', async () => {
    const { users, readAs } = await read('g.json', [{ id: 'n1', email: 'nobody@example.com' }]);
    expect(() => mapUsers(OLD, users, { readAs })).toThrow(
      /^no Supabase user matched any of the 1 new users by external id, email or phone \(the file was read as generic \(id id, email email, phone phone\)\): is it the right file\?/,
    );
  });

  it('Firebase auth:export, and a generic file with dotted paths', async () => {
    const fb = { users: OLD.slice(1).map(firebaseUser) };
    const { users, readAs } = await read('firebase.json', fb);
    expect(readAs).toBe('Firebase auth:export');
    const map = mapUsers(OLD, users);
    expect(matchedBy(map)[uuid(7)]).toMatch(/^phone /);
    expect(reasons(map)).toMatchObject({
      [uuid(3)]: UNMATCHED_REASONS.sharedEmail,
      [uuid(4)]: UNMATCHED_REASONS.sharedEmail,
    });
    const clerk = OLD.map((u) => clerkUser(u, { externalId: false }));
    const generic = await read('clerk.json', clerk, {
      provider: 'generic',
      fields: { email: 'email_addresses.0.email_address', phone: 'phone_numbers.0.phone_number' },
    });
    expect(generic.readAs).toBe(
      'generic (id id, email email_addresses.0.email_address, phone phone_numbers.0.phone_number)',
    );
    expect(mapUsers(OLD, generic.users).mappings.map((m) => m.oldId)).toEqual([
      uuid(2),
      uuid(5),
      uuid(7),
      uuid(8),
    ]);
  });

  it('unmatched reasons say exactly why', async () => {
    const { users } = await read('g.json', [{ id: newUuid('x'), email: 'plain@example.com' }]);
    expect(reasons(mapUsers(OLD, users))).toEqual({
      [uuid(1)]: UNMATCHED_REASONS.anonymous,
      [uuid(2)]: UNMATCHED_REASONS.none,
      [uuid(3)]: UNMATCHED_REASONS.sharedEmail,
      [uuid(4)]: UNMATCHED_REASONS.sharedEmail,
      [uuid(5)]: UNMATCHED_REASONS.banned,
      [uuid(6)]: UNMATCHED_REASONS.deleted,
      [uuid(7)]: UNMATCHED_REASONS.none,
    });
  });

  it('a soft-deleted user matches by external id only; a banned one like any other', async () => {
    const gone = OLD[5]!;
    const { users } = await read('g.json', [
      { id: 'resignup', email: gone.email },
      { id: 'banned-new', email: 'BANNED@example.com' },
    ]);
    const map = mapUsers(OLD, users);
    expect(reasons(map)[gone.id]).toBe(UNMATCHED_REASONS.deleted);
    expect(matchedBy(map)[uuid(5)]).toBe('email banned-new');
    const byExternal = mapUsers(OLD, (await read('c.json', [clerkUser(gone)])).users);
    expect(matchedBy(byExternal)[gone.id]).toBe(`external id ${clerkId(gone)}`);
  });

  it('two new users with the external id (or email, or phone) leave the user unmatched, naming them', async () => {
    const plain = OLD[7]!;
    const twin = { ...clerkUser(plain), id: 'user_twin', email_addresses: [] };
    const { users } = await read('c.json', [clerkUser(plain), twin, clerkUser(OLD[1]!)]);
    expect(reasons(mapUsers(OLD, users))[plain.id]).toBe(
      `2 new users claim this external id: ${clerkId(plain)}, user_twin`,
    );
    const generic = await read('g.json', [
      { id: 'a', email: 'plain@example.com' },
      { id: 'b', email: 'Plain@example.com ' },
      { id: 'c', email: 'admin@example.com', phone: '+1 555 000 1111' },
      { id: 'd', email: null, phone: '15550001111' },
    ]);
    expect(reasons(mapUsers(OLD, generic.users))).toMatchObject({
      [plain.id]: '2 new users have this email: a, b',
      [uuid(7)]: '2 new users have this phone: c, d',
    });
  });

  it('an Auth0 export of one user (one line) is read; an empty, truncated or broken file says what it is', async () => {
    const line = JSON.stringify(auth0ExportLine(OLD[7]!));
    for (const provider of [undefined, 'auth0' as const]) {
      const { users, readAs } = await read('one.ndjson', `${line}\n`, { provider });
      expect(readAs).toBe('Auth0 users');
      expect(users.map((u) => u.id)).toEqual([auth0Id(OLD[7]!)]);
    }
    expect(await refusal('empty.json', '')).toMatch(/^new users file \S+empty\.json is empty$/);
    expect(await refusal('none.json', '[]')).toMatch(/^new users file \S+none\.json holds no users$/);
    const pretty = JSON.stringify({ data: [clerkUser(OLD[7]!)] }, null, 2);
    expect(await refusal('cut.json', pretty.slice(0, 300))).toMatch(
      /^new users file \S+cut\.json: the JSON document is truncated: it ends at line 1\d before it is complete$/,
    );
    expect(await refusal('bad.json', '{\n  "data": [\n    {"id": x}\n  ]\n}')).toMatch(
      /^new users file \S+bad\.json: the JSON document is not valid/,
    );
  });

  it('emails compare trimmed and case-insensitively (property)', () => {
    const local = fc.stringMatching(/^[a-z0-9._+-]{1,20}$/);
    fc.assert(
      fc.property(local, fc.domain(), fc.constantFrom('', ' ', '\t'), (name, domain, pad) => {
        const email = `${name}@${domain}`;
        expect(normalizeEmail(`${pad}${email.toUpperCase()}${pad}`)).toBe(normalizeEmail(email));
        expect(normalizeEmail(normalizeEmail(email))).toBe(normalizeEmail(email));
      }),
    );
  });

  it('a dotted path finds the value placed there (property)', () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
    const step = fc.oneof(key, fc.nat({ max: 3 }));
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 5 }), fc.string(), (steps, value) => {
        let record: unknown = value;
        for (const s of [...steps].reverse()) {
          if (typeof s === 'number') {
            const arr: unknown[] = new Array<unknown>(s + 1).fill(null);
            arr[s] = record;
            record = arr;
          } else record = { [s]: record, other: 1 };
        }
        expect(valueAtPath(record, steps.join('.'))).toBe(value);
      }),
    );
  });
});
