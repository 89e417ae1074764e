import { createHash } from 'node:crypto';
import type { AuthUser } from '../../src/users/auth-users.js';

/*
 * Provider files of our own making, shaped as the providers' documentation describes them (Clerk's
 * Backend API User object, Auth0's user export job output, Firebase's auth:export, Cognito's ListUsers).
 * Only the fields are theirs; the values are generated here.
 */

const hex = (seed: string, n: number) => createHash('sha256').update(seed).digest('hex').slice(0, n);
export const clerkId = (u: AuthUser) => `user_2${hex(`clerk${u.id}`, 26)}`;
export const auth0Id = (u: AuthUser) => `auth0|${u.id}`;
export const newUuid = (seed: string) => {
  const h = hex(`new${seed}`, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`;
};
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : 1716883200000);

/** A Clerk Backend API User object, as GET /v1/users lists it, for a user our `users export` created. */
export function clerkUser(u: AuthUser, options: { externalId?: boolean } = {}): Record<string, unknown> {
  const emailId = `idn_${hex(`email${u.id}`, 27)}`;
  const phoneId = `idn_${hex(`phone${u.id}`, 27)}`;
  const at = ms(u.created_at);
  return {
    id: clerkId(u),
    object: 'user',
    username: null,
    first_name: null,
    last_name: null,
    image_url: 'https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9',
    has_image: false,
    primary_email_address_id: u.email ? emailId : null,
    primary_phone_number_id: u.phone ? phoneId : null,
    primary_web3_wallet_id: null,
    password_enabled: Boolean(u.encrypted_password),
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    email_addresses: u.email
      ? [
          {
            id: emailId,
            object: 'email_address',
            email_address: u.email,
            reserved: false,
            verification: { status: 'verified', strategy: 'admin', attempts: null, expire_at: null },
            linked_to: [],
            created_at: at,
            updated_at: at,
          },
        ]
      : [],
    phone_numbers: u.phone
      ? [
          {
            id: phoneId,
            object: 'phone_number',
            phone_number: `+${u.phone}`,
            reserved_for_second_factor: false,
            default_second_factor: false,
            verification: { status: 'verified', strategy: 'admin', attempts: null, expire_at: null },
            linked_to: [],
            backup_codes: null,
          },
        ]
      : [],
    web3_wallets: [],
    passkeys: [],
    external_accounts: [],
    saml_accounts: [],
    public_metadata: {},
    private_metadata: {},
    unsafe_metadata: {},
    external_id: options.externalId === false ? null : u.id,
    last_sign_in_at: null,
    banned: false,
    locked: false,
    lockout_expires_in_seconds: null,
    verification_attempts_remaining: 100,
    created_at: at,
    updated_at: at,
    delete_self_enabled: true,
    create_organization_enabled: true,
    last_active_at: null,
  };
}

/** A line of Auth0's user export job (format json: one object a line), for a user our bulk import created. */
export function auth0ExportLine(u: AuthUser): Record<string, unknown> {
  return {
    user_id: auth0Id(u),
    email: u.email ?? undefined,
    email_verified: Boolean(u.email_confirmed_at),
    created_at: u.created_at ?? '2024-05-28T08:00:00.000Z',
    updated_at: u.created_at ?? '2024-05-28T08:00:00.000Z',
    logins_count: 0,
    identities: [{ connection: 'Username-Password-Authentication', provider: 'auth0', isSocial: false }],
  };
}

/** A user of Firebase's `firebase auth:export --format=json`. */
export function firebaseUser(u: AuthUser): Record<string, unknown> {
  return {
    localId: hex(`fb${u.id}`, 28),
    ...(u.email ? { email: u.email, emailVerified: Boolean(u.email_confirmed_at) } : {}),
    ...(u.phone ? { phoneNumber: `+${u.phone}` } : {}),
    displayName: 'Someone',
    providerUserInfo: [],
    disabled: false,
    createdAt: String(ms(u.created_at)),
    lastSignedInAt: String(ms(u.created_at)),
  };
}

/** Test user ids: 00000000-0000-4000-8000-00000000000<i>. */
export const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
/**
 * Supabase users of every kind matching and users export treat apart: anonymous, confirmed, two sharing an
 * email (an SSO and a password account), banned, soft-deleted, phone-only, email and phone.
 */
export const SUPABASE_USERS: AuthUser[] = [
  { id: uuid(1), email: null, phone: null, is_anonymous: true },
  { id: uuid(2), email: 'Admin@Example.com', email_confirmed_at: '2024-01-01T00:00:00Z' },
  { id: uuid(3), email: 'sso@example.com', is_sso_user: true },
  { id: uuid(4), email: ' SSO@example.com ' },
  { id: uuid(5), email: 'banned@example.com', banned_until: 'infinity' },
  { id: uuid(6), email: 'gone@example.com', deleted_at: '2024-02-01T00:00:00Z' },
  { id: uuid(7), email: null, phone: '15550001111' },
  { id: uuid(8), email: 'plain@example.com', phone: '15550002222' },
];
