import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { checkExportFiles } from '../format/file-integrity.js';
import { readManifest } from '../format/manifest.js';

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
  const manifest = await readManifest(inputDir);
  const entry = manifest.authUsers;
  if (!entry || entry.state !== 'complete') {
    throw new UsageError(
      `${inputDir} has no complete auth users export (was it exported with --skip-auth, or from a database without auth.users?)`,
    );
  }
  const problems = await checkExportFiles(inputDir, [{ label: 'auth.users', ...entry }]);
  if (problems.length > 0) throw new UsageError(problems);
  const text = await readFile(join(inputDir, entry.file), 'utf8');
  const rows =
    manifest.format === 'ndjson'
      ? text
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as AuthUser)
      : (JSON.parse(text) as AuthUser[]);
  return rows;
}
