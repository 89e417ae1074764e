import { join } from 'node:path';
import { RowFormatError, UsageError } from '../errors.js';
import { checkExportFiles } from '../format/file-integrity.js';
import { readManifest } from '../format/manifest.js';
import { forEachFileRow } from '../format/row-reader.js';

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
  // Streamed through the one row reader (the file's layout is checked as import's and verify's is);
  // each row is a small object, so JSON.parse is fine for it.
  const path = join(inputDir, entry.file);
  const users: AuthUser[] = [];
  await forEachFileRow(path, manifest.format, (buf, start, end, row) => {
    try {
      users.push(JSON.parse(buf.toString('utf8', start, end)) as AuthUser);
    } catch (err) {
      throw new RowFormatError(`${path}: row ${row}: ${(err as Error).message}`, row);
    }
  });
  return users;
}
