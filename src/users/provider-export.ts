import { stringify } from 'csv-stringify/sync';
import { refuseToOverwrite, writeTextAtomically } from '../format/atomic-write.js';
import { refuseExportFiles } from '../format/export-own-files.js';
import type { AuthUser } from './auth-users.js';
import { isBanned, normalizeEmail, normalizePhone } from './map-users.js';

export type ProviderFormat = 'clerk' | 'auth0' | 'csv' | 'json';
export const PROVIDER_FORMATS: readonly ProviderFormat[] = ['clerk', 'auth0', 'csv', 'json'];

/** Auth0's bulk import takes files of at most 500 KB. */
const AUTH0_FILE_LIMIT = 500 * 1024;

/** app_metadata keys Auth0's bulk import refuses. */
const AUTH0_RESERVED_APP_METADATA = [
  '__tenant',
  '_id',
  'blocked',
  'clientID',
  'created_at',
  'email_verified',
  'email',
  'globalClientID',
  'global_client_id',
  'identities',
  'lastIP',
  'lastLogin',
  'loginsCount',
  'metadata',
  'multifactor_last_modified',
  'multifactor',
  'updated_at',
  'user_id',
];

export interface ProviderExportResult {
  files: string[];
  exported: number;
  /** Exported without a password: they sign in by link, code or OAuth, or reset their password. */
  withoutPassword: string[];
  /** Not exported: neither email nor phone (anonymous users, and the like). */
  skippedNoEmailOrPhone: string[];
  /** Not exported, Auth0 only: phone but no email (a database connection needs an email; see PHONE_ONLY). */
  skippedPhoneOnly: string[];
  /** Not exported: soft-deleted in Supabase (deleted_at set). */
  skippedDeleted: string[];
  /** Exported, but the provider cannot carry this: Clerk marks every imported email verified. */
  unconfirmedEmail: string[];
  /** Exported, banned in Supabase now: Auth0 gets `blocked: true`; Clerk's import cannot, ban them after. */
  banned: string[];
  /** Exported, phone but no email: Clerk takes them if phone sign-in is enabled; csv/json carry them. */
  phoneOnly: string[];
  /** Exported, but sharing an email (trimmed, case-insensitive) with another exported user: the provider refuses the second. */
  sharedEmail: string[];
  /** Exported with their email trimmed: Supabase had spaces around it. */
  trimmedEmail: string[];
  /** Exported, but the email (trimmed) is not an address (one @, text either side, no space): the provider refuses it. */
  invalidEmail: string[];
}

/** Roughly what providers take: one @, something either side, a dot in the domain, no spaces. */
const looksLikeEmail = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);

/** What each provider can do with a user who has a phone and no email. */
export const PHONE_ONLY: Record<ProviderFormat, string> = {
  clerk: 'exported with their phone number: enable phone sign-in in Clerk, or Clerk refuses them',
  auth0:
    'not exported: an Auth0 database connection needs an email; create them in an SMS (passwordless) connection',
  csv: 'exported with their phone number',
  json: 'exported with their phone number',
};

const isBcrypt = (hash: string | null | undefined): hash is string =>
  typeof hash === 'string' && /^\$2[abxy]?\$\d\d\$/.test(hash);
const e164 = (phone: string | null | undefined) => {
  const digits = normalizePhone(phone);
  return digits ? `+${digits}` : undefined;
};
const names = (u: AuthUser) => {
  const meta = u.raw_user_meta_data ?? {};
  const pick = (...keys: string[]) =>
    keys.map((k) => meta[k]).find((v): v is string => typeof v === 'string' && v !== '');
  return {
    first: pick('first_name', 'given_name'),
    last: pick('last_name', 'family_name'),
    full: pick('full_name', 'name'),
  };
};

/**
 * Clerk's createUser parameters (Backend SDK), one object per user: the Supabase id as externalId, the
 * bcrypt hash as passwordDigest with passwordHasher "bcrypt", user metadata as unsafeMetadata and app
 * metadata as publicMetadata.
 */
function clerkUser(u: AuthUser): Record<string, unknown> {
  const n = names(u);
  return {
    externalId: u.id,
    ...(u.email ? { emailAddress: [u.email] } : {}),
    ...(e164(u.phone) ? { phoneNumber: [e164(u.phone)] } : {}),
    ...(n.first ? { firstName: n.first } : {}),
    ...(n.last ? { lastName: n.last } : {}),
    ...(isBcrypt(u.encrypted_password)
      ? { passwordDigest: u.encrypted_password, passwordHasher: 'bcrypt' }
      : { skipPasswordRequirement: true }),
    publicMetadata: u.raw_app_meta_data ?? {},
    unsafeMetadata: u.raw_user_meta_data ?? {},
    ...(u.created_at ? { createdAt: u.created_at } : {}),
  };
}

/** Auth0 bulk import user: custom_password_hash with algorithm bcrypt, the Supabase id as user_id. */
function auth0User(u: AuthUser): Record<string, unknown> {
  const n = names(u);
  const appMetadata = Object.fromEntries(
    Object.entries(u.raw_app_meta_data ?? {}).filter(([k]) => !AUTH0_RESERVED_APP_METADATA.includes(k)),
  );
  return {
    user_id: u.id,
    email: u.email,
    email_verified: Boolean(u.email_confirmed_at),
    ...(e164(u.phone) ? { phone_number: e164(u.phone), phone_verified: Boolean(u.phone_confirmed_at) } : {}),
    ...(n.first ? { given_name: n.first } : {}),
    ...(n.last ? { family_name: n.last } : {}),
    ...(n.full ? { name: n.full } : {}),
    ...(isBcrypt(u.encrypted_password)
      ? { custom_password_hash: { algorithm: 'bcrypt', hash: { value: u.encrypted_password } } }
      : {}),
    ...(isBanned(u) ? { blocked: true } : {}),
    user_metadata: u.raw_user_meta_data ?? {},
    app_metadata: appMetadata,
  };
}

/** The plain form (json and csv): every field a provider could need, named for what it is. */
function plainUser(u: AuthUser): Record<string, unknown> {
  return {
    id: u.id,
    email: u.email ?? null,
    emailConfirmed: Boolean(u.email_confirmed_at),
    emailConfirmedAt: u.email_confirmed_at ?? null,
    phone: e164(u.phone) ?? null,
    phoneConfirmed: Boolean(u.phone_confirmed_at),
    passwordHash: isBcrypt(u.encrypted_password) ? u.encrypted_password : null,
    passwordHasher: isBcrypt(u.encrypted_password) ? 'bcrypt' : null,
    createdAt: u.created_at ?? null,
    lastSignInAt: u.last_sign_in_at ?? null,
    bannedUntil: u.banned_until ?? null,
    banned: isBanned(u),
    isAnonymous: Boolean(u.is_anonymous),
    isSsoUser: Boolean(u.is_sso_user),
    userMetadata: u.raw_user_meta_data ?? null,
    appMetadata: u.raw_app_meta_data ?? null,
  };
}

/**
 * Writes the auth users in the format a new provider imports (mode 0600: they hold password hashes).
 * Soft-deleted users and users with neither email nor phone are left out and listed, as are phone-only
 * users for Auth0; banned users, phone-only users and users sharing an email are exported and listed.
 * A file that exists is replaced only with `force` (a UsageError naming it otherwise, nothing written).
 */
export async function exportUsersForProvider(
  users: readonly AuthUser[],
  format: ProviderFormat,
  out: string,
  options: { force?: boolean } = {},
): Promise<ProviderExportResult> {
  const result: ProviderExportResult = {
    files: [],
    exported: 0,
    withoutPassword: [],
    skippedNoEmailOrPhone: [],
    skippedPhoneOnly: [],
    skippedDeleted: [],
    unconfirmedEmail: [],
    banned: [],
    phoneOnly: [],
    sharedEmail: [],
    trimmedEmail: [],
    invalidEmail: [],
  };
  const chosen: AuthUser[] = [];
  const wasTrimmed = new Set<string>();
  for (const given of users) {
    // Emails go out trimmed: a provider would refuse " ada@example.com" or keep the spaces.
    const trimmed = given.email?.trim() || null;
    const u = trimmed === (given.email ?? null) ? given : { ...given, email: trimmed };
    if (trimmed && u !== given) wasTrimmed.add(u.id);
    const email = normalizeEmail(u.email);
    const phone = normalizePhone(u.phone);
    if (u.deleted_at) result.skippedDeleted.push(u.id);
    else if (!email && !phone) result.skippedNoEmailOrPhone.push(u.id);
    else if (!email && format === 'auth0') result.skippedPhoneOnly.push(u.id);
    else chosen.push(u);
  }
  const emails = new Map<string, number>();
  for (const email of chosen.map((u) => normalizeEmail(u.email)))
    if (email) emails.set(email, (emails.get(email) ?? 0) + 1);
  for (const u of chosen) {
    if (!isBcrypt(u.encrypted_password)) result.withoutPassword.push(u.id);
    if (format === 'clerk' && u.email && !u.email_confirmed_at) result.unconfirmedEmail.push(u.id);
    if (isBanned(u)) result.banned.push(u.id);
    if (!normalizeEmail(u.email)) result.phoneOnly.push(u.id);
    if ((emails.get(normalizeEmail(u.email) ?? '') ?? 0) > 1) result.sharedEmail.push(u.id);
    if (wasTrimmed.has(u.id)) result.trimmedEmail.push(u.id);
    if (u.email && !looksLikeEmail(u.email)) result.invalidEmail.push(u.id);
  }
  result.exported = chosen.length;
  // Every file is built first, so that none is written when one of them may not be replaced.
  const files: [path: string, text: string][] = [];
  const write = (path: string, text: string) => void files.push([path, text]);
  if (format === 'clerk') write(out, `${JSON.stringify(chosen.map(clerkUser), null, 2)}\n`);
  else if (format === 'json') write(out, `${JSON.stringify(chosen.map(plainUser), null, 2)}\n`);
  else if (format === 'csv') {
    const rows = chosen.map(plainUser).map((r) => ({
      ...r,
      userMetadata: JSON.stringify(r.userMetadata),
      appMetadata: JSON.stringify(r.appMetadata),
    }));
    // Booleans as true/false (csv-stringify writes false as an empty field by default).
    const cast = { boolean: (v: boolean) => (v ? 'true' : 'false') };
    write(out, stringify(rows, { header: true, columns: Object.keys(plainUser({ id: '' })), cast }));
  } else {
    // Auth0 takes files of at most 500 KB: more users go to out-2.json, out-3.json, …
    const chunks: string[][] = [[]];
    let size = 2;
    for (const user of chosen.map(auth0User)) {
      const text = JSON.stringify(user);
      // In bytes, as the limit is (UTF-16 units undercount non-ASCII metadata).
      const bytes = Buffer.byteLength(text);
      if (size + bytes + 2 > AUTH0_FILE_LIMIT && chunks.at(-1)!.length > 0) {
        chunks.push([]);
        size = 2;
      }
      chunks.at(-1)!.push(text);
      size += bytes + 2;
    }
    for (const [i, chunk] of chunks.entries()) {
      const path = i === 0 ? out : out.replace(/(\.json)?$/, `-${i + 1}.json`);
      write(path, `[\n${chunk.join(',\n')}\n]\n`);
    }
  }
  await refuseExportFiles(
    files.map(([path]) => path),
    'users export',
  );
  await refuseToOverwrite(
    files.map(([path]) => path),
    options.force ?? false,
  );
  // Mode 0600 on every file, also one that existed with another mode (they hold password hashes).
  for (const [path, text] of files) {
    await writeTextAtomically(path, text);
    result.files.push(path);
  }
  return result;
}
