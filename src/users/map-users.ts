import type { AuthUser } from './auth-users.js';
import type { NewUser } from './new-users.js';
import type { UnmatchedReason, UserMap, UserMapping } from '../format/user-map.js';

/** Emails compare trimmed and case-insensitively. */
export const normalizeEmail = (email: string | null | undefined): string | null =>
  email && email.trim() !== '' ? email.trim().toLowerCase() : null;

/** Phones compare by their digits (Supabase stores them without "+"; providers often with). */
export const normalizePhone = (phone: string | null | undefined): string | null => {
  const digits = phone?.replace(/\D/g, '') ?? '';
  return digits === '' ? null : digits;
};

/**
 * Matches Supabase users to the new provider's users: by email first, then by phone where both sides
 * have one. A user matches only when exactly one new user has that key and no other Supabase user
 * claims it; everyone else is unmatched, with the reason.
 */
export function mapUsers(oldUsers: readonly AuthUser[], newUsers: readonly NewUser[]): UserMap {
  const index = (key: (u: NewUser) => string | null) => {
    const map = new Map<string, NewUser[]>();
    for (const u of newUsers) {
      const k = key(u);
      if (k) map.set(k, [...(map.get(k) ?? []), u]);
    }
    return map;
  };
  const byEmail = index((u) => normalizeEmail(u.email));
  const byPhone = index((u) => normalizePhone(u.phone));
  const claims = new Map<string, number>();
  const candidates = oldUsers.map((user) => {
    const email = normalizeEmail(user.email);
    const phone = normalizePhone(user.phone);
    const found: { users: NewUser[]; by: 'email' | 'phone' }[] = [];
    if (email && byEmail.has(email)) found.push({ users: byEmail.get(email)!, by: 'email' });
    if (phone && byPhone.has(phone)) found.push({ users: byPhone.get(phone)!, by: 'phone' });
    const first = found[0];
    if (first?.users.length === 1) claims.set(first.users[0]!.id, (claims.get(first.users[0]!.id) ?? 0) + 1);
    return { user: user, email, phone, first };
  });

  const mappings: UserMapping[] = [];
  const unmatched: UserMap['unmatched'] = [];
  for (const { user, email, phone, first } of candidates) {
    let reason: UnmatchedReason | null = null;
    if (!email && !phone) reason = 'no email or phone (anonymous user)';
    else if (!first) reason = 'no new user with this email or phone';
    else if (first.users.length > 1) reason = 'several new users with this email or phone';
    else if ((claims.get(first.users[0]!.id) ?? 0) > 1)
      reason = 'several Supabase users with this email or phone';
    if (reason || !first) {
      unmatched.push({
        oldId: user.id,
        email: user.email ?? null,
        phone: user.phone ?? null,
        reason: reason!,
      });
    } else {
      mappings.push({
        oldId: user.id,
        newId: first.users[0]!.id,
        email: user.email ?? null,
        matchedBy: first.by,
      });
    }
  }
  return { mappings, unmatched };
}
