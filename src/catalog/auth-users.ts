/**
 * The auth.users columns a user mapping and a new auth provider need, and the ones `supamigrate schema`
 * keeps in the target's minimal auth.users. Supabase versions differ (is_anonymous arrived in 2024), so
 * the export takes those of them the source has.
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

/** How `supamigrate schema` marks the auth.users it creates, so that import loads the export's users into it. */
export const MINIMAL_AUTH_USERS_COMMENT =
  'supamigrate: the users of the source auth.users (supamigrate import loads them from auth_users.json)';
