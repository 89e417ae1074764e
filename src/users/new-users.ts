import { UsageError } from '../errors.js';
import { hasPath, readUsersFile, valueAtPath, type UsersFileContent } from './new-user-file.js';
import {
  detectProvider,
  PROVIDER_NAMES,
  providerUsers,
  recordsOf,
  requireEmailField,
  type NewUser,
  type NewUsersProvider,
} from './provider-files.js';

export type { NewUser, NewUsersProvider };

export const NEW_USERS_PROVIDERS = ['clerk', 'auth0', 'firebase', 'cognito', 'generic'] as const;
export type NewUsersProviderOption = (typeof NEW_USERS_PROVIDERS)[number];

/** Field names (dotted paths into nested fields) of a generic file; unset ones take the defaults. */
export interface NewUserFields {
  id?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  externalId?: string | undefined;
}

export interface NewUsersOptions {
  /** Forces how the file is read; by default its shape says (a generic file otherwise). */
  provider?: NewUsersProviderOption | undefined;
  fields?: NewUserFields;
}

export interface NewUsersFile {
  users: NewUser[];
  /** How the file was read: a provider's name, or "generic (id, email, phone)". */
  readAs: string;
}

/**
 * Reads the new provider's users. The file is recognised by its shape (Clerk user objects or dashboard
 * CSV, Auth0 NDJSON export or bulk-import JSON, Firebase `auth:export`, Cognito `ListUsers`), or read as
 * generic JSON/NDJSON/CSV with the field names given (`id`, `email`, `phone` by default; dotted paths such
 * as `email_addresses.0.email_address` reach nested fields). Giving a field name reads the file as generic.
 * Every user needs an id, and no id may appear twice; a generic file's every record needs the email field
 * (and the phone field when it is named); a UsageError names the file and the record otherwise.
 */
export async function readNewUsers(path: string, options: NewUsersOptions = {}): Promise<NewUsersFile> {
  const content = await readUsersFile(path);
  const fieldsGiven = Object.values(options.fields ?? {}).some((f) => f !== undefined);
  const label = `new users file ${path}`;
  let provider: NewUsersProvider | null;
  if (options.provider === 'generic' || (options.provider === undefined && fieldsGiven)) provider = null;
  else if (options.provider === undefined) provider = detectProvider(content);
  else if (options.provider === 'clerk' && content.kind === 'csv') provider = 'clerk-csv';
  else provider = options.provider;
  const result = provider
    ? { users: providerUsers(content, provider, label), readAs: PROVIDER_NAMES[provider] }
    : genericUsers(content, options.fields ?? {}, label);
  if (result.users.length === 0) throw new UsageError(`${label} holds no users`);
  refuseDuplicateIds(result.users, label);
  return result;
}

function genericUsers(content: UsersFileContent, given: NewUserFields, label: string): NewUsersFile {
  const fields = { id: given.id ?? 'id', email: given.email ?? 'email', phone: given.phone ?? 'phone' };
  let records: unknown[];
  try {
    records = recordsOf(content);
  } catch (err) {
    throw new UsageError(
      `${label}: ${(err as Error).message} (or NDJSON, or CSV with a header row); give --provider if it is a provider's export`,
    );
  }
  requireEmailField(records, fields.email, label, (r) => hasPath(r, fields.email));
  const text = (v: unknown) =>
    v === undefined || v === null || String(v).trim() === '' ? null : String(v).trim();
  const users = records.map((record, i) => {
    const where = `${label}: user ${i + 1}`;
    const id = text(valueAtPath(record, fields.id));
    if (id === null)
      throw new UsageError(`${where} has no "${fields.id}" (name the id field with --id-field)`);
    if (!hasPath(record, fields.email))
      throw new UsageError(
        `${where} has no field "${fields.email}" (name the email field with --email-field)`,
      );
    if (given.phone !== undefined && !hasPath(record, fields.phone))
      throw new UsageError(`${where} has no field "${fields.phone}" (--phone-field)`);
    const email = text(valueAtPath(record, fields.email));
    const phone = text(valueAtPath(record, fields.phone));
    const external = given.externalId ? text(valueAtPath(record, given.externalId)) : null;
    return {
      id,
      externalIds: external ? [external] : [],
      emails: email ? [{ address: email, verified: null }] : [],
      phones: phone ? [phone] : [],
    };
  });
  const named = [`id ${fields.id}`, `email ${fields.email}`, `phone ${fields.phone}`];
  if (given.externalId) named.push(`external id ${given.externalId}`);
  return { users, readAs: `generic (${named.join(', ')})` };
}

function refuseDuplicateIds(users: readonly NewUser[], label: string): void {
  const seen = new Map<string, number>();
  users.forEach((u, i) => {
    if (u.id.trim() === '') throw new UsageError(`${label}: user ${i + 1} has an empty id`);
    const before = seen.get(u.id);
    if (before !== undefined)
      throw new UsageError(`${label}: users ${before + 1} and ${i + 1} have the same id ${u.id}`);
    seen.set(u.id, i);
  });
}
