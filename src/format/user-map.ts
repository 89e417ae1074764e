import { z } from 'zod';
import { refuseToOverwrite, writeJsonAtomically } from './atomic-write.js';
import { refuseExportFiles } from './export-own-files.js';
import { parseOrRefuse, readJsonFile } from './parse-file.js';

/*
 * user-map.json: what `users map` writes and `import --user-map` and `verify --user-map` read. Unlike
 * metadata.json it is an exchange file (people edit it, other tools may write it), so unknown fields are
 * ignored and only what import and verify rely on is required: a string oldId and a non-empty newId each,
 * no old id mapped to two new ones, and no new id given to two old ones.
 */

/** How the users were matched: by the external id the provider keeps, by email, or by phone. */
export const MATCHED_BY = ['email', 'phone', 'external id'] as const;
export type MatchedBy = (typeof MATCHED_BY)[number];

/** Why a Supabase user has no new id (unmatched.reason); maps written elsewhere may say anything. */
export const UNMATCHED_REASONS = {
  deleted: 'soft-deleted in Supabase (users export leaves them out)',
  anonymous: 'anonymous user (no email or phone)',
  noKey: 'no email or phone',
  banned: 'banned in Supabase, and not found at the new provider',
  sharedEmail: 'email shared with another Supabase user',
  sharedPhone: 'phone shared with another Supabase user',
  unverified: 'email not verified at the new provider',
  taken: 'the new user with this email or phone is mapped to another Supabase user',
  none: 'no new user with this external id, email or phone',
} as const;
/** Why: several new users hold the key that should have matched, named (at most 3 of them). */
export const severalNewUsers = (key: 'external id' | 'email' | 'phone', ids: readonly string[]): string =>
  `${ids.length} new users ${key === 'external id' ? 'claim' : 'have'} this ${key}: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}`;
export type UnmatchedReason =
  (typeof UNMATCHED_REASONS)[keyof typeof UNMATCHED_REASONS] | ReturnType<typeof severalNewUsers>;

const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

const mappingSchema = z.object({
  oldId: z.string(),
  newId: z.string().refine((id) => id !== '', 'expected a user id (got "")'),
  email: orNull(z.string()).default(null),
  /** Absent in maps written by hand. */
  matchedBy: z.enum(MATCHED_BY).optional(),
});

const unmatchedSchema = z.object({
  oldId: z.string(),
  email: orNull(z.string()).default(null),
  phone: orNull(z.string()).default(null),
  // Any text: a reason a newer supamigrate adds must not make the map unreadable (it is only shown).
  reason: z.string(),
});

const userMapSchema = z
  .object({ mappings: z.array(mappingSchema), unmatched: z.array(unmatchedSchema).default([]) })
  .superRefine((map, ctx) => {
    const seen = new Map<string, string>();
    // Two users on one new id would merge their data (and break every unique key on the user id).
    const owner = new Map<string, string>();
    map.mappings.forEach((m, i) => {
      const before = seen.get(m.oldId);
      if (before !== undefined && before !== m.newId) {
        const message = `old id ${m.oldId} is mapped twice (${before}, ${m.newId})`;
        ctx.addIssue({ code: 'custom', path: ['mappings', i, 'oldId'], message });
      }
      seen.set(m.oldId, m.newId);
      const other = owner.get(m.newId);
      if (other !== undefined && other !== m.oldId) {
        const message = `new id ${m.newId} is given to two old ids (${other}, ${m.oldId})`;
        ctx.addIssue({ code: 'custom', path: ['mappings', i, 'newId'], message });
      }
      owner.set(m.newId, m.oldId);
    });
  });

export type UserMapping = z.infer<typeof mappingSchema>;
export type UnmatchedUser = z.infer<typeof unmatchedSchema>;
export type UserMap = z.infer<typeof userMapSchema>;

/**
 * Writes the map under a temporary name then renames it (mode 0600: it holds emails). An existing file
 * is replaced only with `force` (a UsageError otherwise), and a file of an export never.
 */
export async function writeUserMap(
  path: string,
  map: UserMap,
  options: { force?: boolean } = {},
): Promise<void> {
  await refuseExportFiles([path], 'user map');
  await refuseToOverwrite([path], options.force ?? false);
  await writeJsonAtomically(path, map);
}

/** Reads a user map, checking its shape; every problem is a UsageError naming the file and the field. */
export async function readUserMap(path: string): Promise<UserMap> {
  const json = await readJsonFile(path, {
    notFound: `user map ${path} not found (create it with supamigrate users map)`,
    invalidJson: (reason) => `user map ${path} is not valid JSON: ${reason}`,
  });
  return parseOrRefuse(userMapSchema, json, `user map ${path}`);
}
