import { z } from 'zod';
import { UsageError } from '../errors.js';
import { parseOrRefuse } from '../format/parse-file.js';
import type { UsersFileContent } from './new-user-file.js';

/** A user of the new auth provider: its id, and every key it can be matched by. */
export interface NewUser {
  id: string;
  /** Ids of the old system the provider keeps (Clerk `external_id`, the end of Auth0's `user_id`, …). */
  externalIds: string[];
  /** Each email, and whether the provider says it is verified (null: the file does not say). */
  emails: { address: string; verified: boolean | null }[];
  phones: string[];
}

export type NewUsersProvider = 'clerk' | 'clerk-csv' | 'auth0' | 'firebase' | 'cognito';

/*
 * The providers' own files, as zod schemas of the fields matching needs (other fields are ignored, and
 * dropped: z.object, not looseObject, so a file of 200k users is not copied whole).
 * Field names are those of the providers' documentation: Clerk's Backend API User object and dashboard
 * CSV export, Auth0's user export job (NDJSON) and bulk-import JSON, Firebase's `auth:export` JSON,
 * Cognito's `ListUsers` response.
 */

const text = z.string();
const optionalText = z.union([z.string(), z.null()]).optional();
const verification = z.object({ status: optionalText }).nullish();

const clerkUser = z.object({
  id: text.min(1),
  external_id: optionalText,
  primary_email_address_id: optionalText,
  email_addresses: z.array(z.object({ id: optionalText, email_address: text, verification })),
  phone_numbers: z
    .array(z.object({ phone_number: text, verification }))
    .nullish()
    .transform((p) => p ?? []),
});

const auth0User = z.object({
  user_id: text.min(1),
  email: optionalText,
  email_verified: z.union([z.boolean(), z.string()]).nullish(),
  phone_number: optionalText,
});

const firebaseUser = z.object({
  localId: text.min(1),
  email: optionalText,
  emailVerified: z.boolean().nullish(),
  phoneNumber: optionalText,
});

const cognitoUser = z.object({
  Username: text.min(1),
  Attributes: z.array(z.object({ Name: text, Value: optionalText })),
});

const clerkCsvHeader = ['id', 'primary_email_address'];

const present = (v: string | null | undefined): v is string => typeof v === 'string' && v.trim() !== '';
const truthy = (v: unknown) => (v === null || v === undefined ? null : v === true || v === 'true');
const split = (list: string | undefined) => (list ?? '').split(/[|,;\s]+/).filter(present);

/** The records of a file: its array, NDJSON lines or CSV rows, or the array under data/users/Users. */
export function recordsOf(content: UsersFileContent, key?: string): unknown[] {
  if (content.kind === 'ndjson') return content.records;
  if (content.kind === 'csv') return content.records;
  const value = content.value;
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') {
    for (const k of key ? [key] : ['data', 'users', 'Users']) {
      const inner = (value as Record<string, unknown>)[k];
      if (Array.isArray(inner)) return inner;
    }
  }
  throw new UsageError('expected a JSON array of users, or an object holding one');
}

/** Which provider's file this is, by its shape; null when it is none of theirs (read it as generic). */
export function detectProvider(content: UsersFileContent): NewUsersProvider | null {
  if (content.kind === 'csv') {
    if (clerkCsvHeader.every((h) => content.header.includes(h))) return 'clerk-csv';
    // Auth0's user export job in CSV format has the same field names as in JSON.
    return content.header.includes('user_id') ? 'auth0' : null;
  }
  const value = content.kind === 'json' ? content.value : null;
  if (value && !Array.isArray(value) && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (Array.isArray(obj.Users)) return 'cognito';
    if (Array.isArray(obj.users) && hasKey(obj.users[0], 'localId')) return 'firebase';
  }
  let first: unknown;
  try {
    first = recordsOf(content)[0];
  } catch {
    return null;
  }
  if (hasKey(first, 'email_addresses') || hasKey(valueOf(first, '_raw'), 'email_addresses')) return 'clerk';
  if (hasKey(first, 'localId')) return 'firebase';
  if (hasKey(first, 'Username') && hasKey(first, 'Attributes')) return 'cognito';
  if (hasKey(first, 'user_id') || hasKey(first, 'custom_password_hash')) return 'auth0';
  return null;
}

const hasKey = (record: unknown, key: string) =>
  record !== null && typeof record === 'object' && Object.hasOwn(record, key);
const valueOf = (record: unknown, key: string): unknown =>
  hasKey(record, key) ? (record as Record<string, unknown>)[key] : undefined;

/** Refuses a file in which no user has the email field: matching by email would silently do nothing. */
export function requireEmailField(
  records: readonly unknown[],
  field: string,
  label: string,
  has: (record: unknown) => boolean = (r) => hasKey(r, field),
): void {
  if (records.length > 0 && !records.some(has)) {
    throw new UsageError(
      `${label}: no user has the field "${field}" (export the users with their email, or give --provider generic --email-field)`,
    );
  }
}

/**
 * The users of a provider's file. Every record must have the provider's id field (and Clerk's
 * `email_addresses`); a file in which no user has an email field is refused.
 */
export function providerUsers(
  content: UsersFileContent,
  provider: NewUsersProvider,
  label: string,
): NewUser[] {
  const named = `${label} (${PROVIDER_NAMES[provider]})`;
  let records: unknown[];
  try {
    records = recordsOf(
      content,
      provider === 'firebase' ? 'users' : provider === 'cognito' ? 'Users' : undefined,
    );
  } catch (err) {
    throw new UsageError(`${named}: ${(err as Error).message}`);
  }
  switch (provider) {
    case 'clerk':
      // Users of Clerk's Backend SDK, serialised: camelCase fields, the API's own object under _raw.
      records = records.map((r) => (hasKey(valueOf(r, '_raw'), 'email_addresses') ? valueOf(r, '_raw') : r));
      return parseOrRefuse(z.array(clerkUser), records, named).map((u) => ({
        id: u.id,
        externalIds: present(u.external_id) ? [u.external_id] : [],
        emails: u.email_addresses.map((e) => ({
          address: e.email_address,
          verified: e.verification ? e.verification.status === 'verified' : null,
        })),
        phones: u.phone_numbers
          .filter((p) => !p.verification || p.verification.status === 'verified')
          .map((p) => p.phone_number),
      }));
    case 'clerk-csv':
      return (content.kind === 'csv' ? content.records : []).map((r) => {
        const verified = split(r.verified_email_addresses);
        const unverified = split(r.unverified_email_addresses);
        const all = [...new Set([...split(r.primary_email_address), ...verified, ...unverified])];
        return {
          id: r.id!,
          externalIds: present(r.external_id) ? [r.external_id] : [],
          emails: all.map((address) => ({
            address,
            verified: verified.includes(address) ? true : unverified.includes(address) ? false : null,
          })),
          phones: [...new Set([...split(r.primary_phone_number), ...split(r.verified_phone_numbers)])],
        };
      });
    case 'auth0': {
      requireEmailField(records, 'email', named);
      return parseOrRefuse(
        z.array(auth0User),
        records,
        named,
        'every user needs its user_id (a bulk-import file without user_id cannot say which ids Auth0 gave: map an Auth0 user export instead)',
      ).map((u) => {
        // Auth0 prefixes the id it was given on import with the connection's strategy: auth0|<id>.
        const id = u.user_id.includes('|') ? u.user_id : `auth0|${u.user_id}`;
        return {
          id,
          externalIds: [id.slice(id.lastIndexOf('|') + 1)],
          emails: present(u.email) ? [{ address: u.email, verified: truthy(u.email_verified) }] : [],
          phones: present(u.phone_number) ? [u.phone_number] : [],
        };
      });
    }
    case 'firebase':
      requireEmailField(records, 'email', named);
      return parseOrRefuse(z.array(firebaseUser), records, named).map((u) => ({
        id: u.localId,
        // Users imported with their Supabase id as uid keep it.
        externalIds: [u.localId],
        emails: present(u.email) ? [{ address: u.email, verified: truthy(u.emailVerified) }] : [],
        phones: present(u.phoneNumber) ? [u.phoneNumber] : [],
      }));
    case 'cognito': {
      const users = parseOrRefuse(z.array(cognitoUser), records, named).map((u) => ({
        username: u.Username,
        attrs: new Map(u.Attributes.map((a) => [a.Name, a.Value ?? null])),
      }));
      requireEmailField(users, 'email', named, (u) => (u as (typeof users)[number]).attrs.has('email'));
      return users.map(({ username, attrs }) => {
        const email = attrs.get('email');
        const phone = attrs.get('phone_number');
        return {
          // `sub` is the id tokens carry; the username may be the Supabase id it was imported with.
          id: attrs.get('sub') ?? username,
          externalIds: [username],
          emails: present(email) ? [{ address: email, verified: truthy(attrs.get('email_verified')) }] : [],
          phones: present(phone) ? [phone] : [],
        };
      });
    }
  }
}

export const PROVIDER_NAMES: Record<NewUsersProvider, string> = {
  clerk: 'Clerk user objects',
  'clerk-csv': "Clerk's dashboard CSV export",
  auth0: 'Auth0 users',
  firebase: 'Firebase auth:export',
  cognito: 'Cognito ListUsers',
};
