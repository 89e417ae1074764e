import { UsageError } from '../errors.js';
import {
  severalNewUsers,
  UNMATCHED_REASONS,
  type MatchedBy,
  type UnmatchedReason,
  type UserMap,
} from '../format/user-map.js';
import type { AuthUser } from './auth-users.js';
import type { NewUser } from './new-users.js';

/** Emails compare trimmed and case-insensitively. */
export const normalizeEmail = (email: string | null | undefined): string | null =>
  email && email.trim() !== '' ? email.trim().toLowerCase() : null;

/** Phones compare by their digits (Supabase stores them without "+"; providers often with). */
export const normalizePhone = (phone: string | null | undefined): string | null => {
  const digits = phone?.replace(/\D/g, '') ?? '';
  return digits === '' ? null : digits;
};

const REASONS = UNMATCHED_REASONS;

function indexBy(users: readonly NewUser[], keys: (u: NewUser) => (string | null)[]) {
  const map = new Map<string, NewUser[]>();
  for (const u of users) {
    for (const k of new Set(keys(u))) {
      if (!k) continue;
      const list = map.get(k);
      if (list) list.push(u);
      else map.set(k, [u]);
    }
  }
  return map;
}

function countBy(users: readonly AuthUser[], key: (u: AuthUser) => string | null) {
  const counts = new Map<string, number>();
  for (const u of users) {
    const k = key(u);
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/**
 * Matches Supabase users to the new provider's users, in this order: the external id the provider keeps
 * (the Supabase id `users export` gave it: Clerk `external_id`, Auth0 `auth0|<id>`), then the email where
 * the provider does not say it is unverified (trimmed, case-insensitive), then the phone (by its digits).
 * A key counts only when exactly one new user has it, no other Supabase user shares it, and that new user
 * is not already mapped; each mapping says how it matched, each unmatched user why. Several new users
 * with the user's external id leave it unmatched (naming them), not matched by email. A soft-deleted
 * Supabase user matches by external id only (a new account with its email is someone signing up again);
 * banned users match like the others (`users export` exports them). A map that matches nobody is a
 * UsageError (the wrong file, or the wrong fields).
 */
export function mapUsers(
  oldUsers: readonly AuthUser[],
  newUsers: readonly NewUser[],
  options: { readAs?: string } = {},
): UserMap {
  const byExternal = indexBy(newUsers, (u) => u.externalIds);
  const lookups = {
    email: {
      index: indexBy(newUsers, (u) => u.emails.map((e) => normalizeEmail(e.address))),
      key: (u: AuthUser) => normalizeEmail(u.email),
      shared: REASONS.sharedEmail,
    },
    phone: {
      index: indexBy(newUsers, (u) => u.phones.map(normalizePhone)),
      key: (u: AuthUser) => normalizePhone(u.phone),
      shared: REASONS.sharedPhone,
    },
  };
  const claimed = new Map<string, string>();
  const matched = new Map<string, { newId: string; by: MatchedBy }>();
  const reasons = new Map<string, UnmatchedReason>();
  const claim = (old: AuthUser, u: NewUser, by: MatchedBy) => {
    claimed.set(u.id, old.id);
    matched.set(old.id, { newId: u.id, by });
  };

  // Set by the external id: an ambiguity there is not settled by the email.
  const ambiguous = new Map<string, UnmatchedReason>();
  for (const old of oldUsers) {
    const found = byExternal.get(old.id) ?? [];
    if (found.length > 1)
      ambiguous.set(
        old.id,
        severalNewUsers(
          'external id',
          found.map((u) => u.id),
        ),
      );
    else if (found.length === 1 && !claimed.has(found[0]!.id)) claim(old, found[0]!, 'external id');
  }
  const live = oldUsers.filter((u) => !u.deleted_at);
  for (const by of ['email', 'phone'] as const) {
    const { index, key, shared } = lookups[by];
    const counts = countBy(live, key);
    for (const old of live.filter((u) => !matched.has(u.id) && !ambiguous.has(u.id))) {
      const k = key(old);
      if (!k) continue;
      const note = (reason: UnmatchedReason) => {
        if (!reasons.has(old.id)) reasons.set(old.id, reason);
      };
      if ((counts.get(k) ?? 0) > 1) {
        note(shared);
        continue;
      }
      let candidates = index.get(k) ?? [];
      if (by === 'email') {
        const verified = candidates.filter((u) =>
          u.emails.some((e) => normalizeEmail(e.address) === k && e.verified !== false),
        );
        if (candidates.length > 0 && verified.length === 0) note(REASONS.unverified);
        candidates = verified;
      }
      if (candidates.length > 1)
        note(
          severalNewUsers(
            by,
            candidates.map((u) => u.id),
          ),
        );
      else if (candidates.length === 1 && claimed.has(candidates[0]!.id)) note(REASONS.taken);
      else if (candidates.length === 1) claim(old, candidates[0]!, by);
    }
  }

  const map: UserMap = { mappings: [], unmatched: [] };
  for (const old of oldUsers) {
    const m = matched.get(old.id);
    if (m) {
      map.mappings.push({ oldId: old.id, newId: m.newId, email: old.email ?? null, matchedBy: m.by });
      continue;
    }
    map.unmatched.push({
      oldId: old.id,
      email: old.email ?? null,
      phone: old.phone ?? null,
      reason: ambiguous.get(old.id) ?? unmatchedReason(old, reasons.get(old.id)),
    });
  }
  if (map.mappings.length === 0 && oldUsers.length > 0) {
    throw new UsageError(
      `no Supabase user matched any of the ${newUsers.length} new users by external id, email or phone${options.readAs ? ` (the file was read as ${options.readAs})` : ''}: is it the right file? Give --provider, or the field names (--id-field, --email-field, --phone-field)`,
    );
  }
  return map;
}

/** The most telling reason: what Supabase says of the user first, then what the lookups found. */
function unmatchedReason(user: AuthUser, found: UnmatchedReason | undefined): UnmatchedReason {
  if (user.deleted_at) return REASONS.deleted;
  if (!normalizeEmail(user.email) && !normalizePhone(user.phone))
    return user.is_anonymous ? REASONS.anonymous : REASONS.noKey;
  if (found) return found;
  if (isBanned(user)) return REASONS.banned;
  return REASONS.none;
}

/** Banned now: banned_until in the future (or infinity). */
export const isBanned = (u: AuthUser): boolean =>
  Boolean(u.banned_until && (u.banned_until === 'infinity' || u.banned_until > new Date().toISOString()));
