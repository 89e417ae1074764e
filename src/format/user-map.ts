import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

export interface UserMapping {
  oldId: string;
  newId: string;
  email: string | null;
  /** How the users were matched: by email, or by phone where the email did not match. */
  matchedBy: 'email' | 'phone';
}

export type UnmatchedReason =
  | 'no email or phone (anonymous user)'
  | 'no new user with this email or phone'
  | 'several new users with this email or phone'
  | 'several Supabase users with this email or phone';

export interface UnmatchedUser {
  oldId: string;
  email: string | null;
  phone: string | null;
  reason: UnmatchedReason;
}

/** user-map.json: what `users map` writes and `import --user-map` and `verify --user-map` read. */
export interface UserMap {
  mappings: UserMapping[];
  unmatched: UnmatchedUser[];
}

export async function writeUserMap(path: string, map: UserMap): Promise<void> {
  await writeFile(path, `${JSON.stringify(map, null, 2)}\n`, { mode: 0o600 });
}

/** Reads a user map, checking its shape; every problem is a UsageError naming the file. */
export async function readUserMap(path: string): Promise<UserMap> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `user map ${path} not found (create it with supamigrate users map)`
        : `user map ${path} is not valid JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const map = parsed as Partial<UserMap>;
  if (!map || !Array.isArray(map.mappings)) throw new UsageError(`user map ${path} has no "mappings" array`);
  const seen = new Map<string, string>();
  for (const [i, m] of map.mappings.entries()) {
    if (typeof m?.oldId !== 'string' || typeof m?.newId !== 'string' || m.newId === '') {
      throw new UsageError(`user map ${path}: mappings[${i}] needs string oldId and newId`);
    }
    const before = seen.get(m.oldId);
    if (before !== undefined && before !== m.newId) {
      throw new UsageError(`user map ${path}: old id ${m.oldId} is mapped twice (${before}, ${m.newId})`);
    }
    seen.set(m.oldId, m.newId);
  }
  return { mappings: map.mappings, unmatched: Array.isArray(map.unmatched) ? map.unmatched : [] };
}
