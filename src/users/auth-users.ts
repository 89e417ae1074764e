import { readAuthUserRows } from '../format/auth-users-file.js';

/** A Supabase auth user as exported in auth_users.json (columns the source did not have are undefined). */
export interface AuthUser {
  id: string;
  email?: string | null;
  phone?: string | null;
  encrypted_password?: string | null;
  email_confirmed_at?: string | null;
  phone_confirmed_at?: string | null;
  raw_user_meta_data?: Record<string, unknown> | null;
  raw_app_meta_data?: Record<string, unknown> | null;
  created_at?: string | null;
  updated_at?: string | null;
  last_sign_in_at?: string | null;
  is_anonymous?: boolean | null;
  is_sso_user?: boolean | null;
  banned_until?: string | null;
  deleted_at?: string | null;
}

/**
 * Reads the auth users of an export, after checking the file against metadata.json. A missing file
 * (export with --skip-auth, or no auth schema) is a UsageError that says so.
 */
export async function readAuthUsers(inputDir: string): Promise<AuthUser[]> {
  return (await readAuthUserRows(inputDir)) as unknown as AuthUser[];
}
