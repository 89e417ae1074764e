import type { TableInfo } from '../catalog/types.js';

/**
 * The auth.users columns a user mapping and a new auth provider need. Supabase versions differ (is_anonymous
 * arrived in 2024), so the export takes those of them the source has.
 */
export const AUTH_USER_COLUMNS: readonly string[] = [
  'id',
  'email',
  'phone',
  'encrypted_password',
  'email_confirmed_at',
  'phone_confirmed_at',
  'confirmed_at',
  'raw_user_meta_data',
  'raw_app_meta_data',
  'created_at',
  'updated_at',
  'last_sign_in_at',
  'is_anonymous',
  'is_sso_user',
  'banned_until',
  'deleted_at',
];

export const AUTH_USERS_FILE = 'auth_users';
export const AUTH_IDENTITIES_FILE = 'auth_identities';

/** auth.users reduced to AUTH_USER_COLUMNS, in that order. */
export function authUsersTable(users: TableInfo): TableInfo {
  const columns = AUTH_USER_COLUMNS.flatMap((name) => users.columns.filter((c) => c.name === name));
  return { ...users, columns };
}
