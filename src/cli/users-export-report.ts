import { PHONE_ONLY, type ProviderExportResult, type ProviderFormat } from '../users/provider-export.js';

const some = (ids: readonly string[]) =>
  `${ids.length}: ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`;

/** What `users export` wrote, and every user the provider will treat differently from Supabase. */
export function printExportResult(result: ProviderExportResult, format: ProviderFormat, total: number): void {
  const lines = [
    `Exported ${result.exported} of ${total} users for ${format} to ${result.files.join(', ')} (mode 0600).`,
    `  with a bcrypt password hash: ${result.exported - result.withoutPassword.length}`,
    `  without a password (they sign in by link, code or OAuth, or reset it): ${result.withoutPassword.length}`,
  ];
  const flag = (ids: readonly string[], text: string) => {
    if (ids.length > 0) lines.push(`${text} ${some(ids)}`);
  };
  flag(result.skippedDeleted, 'Not exported, soft-deleted in Supabase:');
  flag(result.skippedNoEmailOrPhone, 'Not exported, neither email nor phone (anonymous users):');
  // Auth0 leaves them out (skippedPhoneOnly), the others export them (phoneOnly): one list is empty.
  flag([...result.skippedPhoneOnly, ...result.phoneOnly], `Phone only (no email), ${PHONE_ONLY[format]}:`);
  flag(
    result.banned,
    format === 'auth0'
      ? 'Banned in Supabase, exported with blocked: true:'
      : format === 'clerk'
        ? "Banned in Supabase: Clerk's import cannot carry a ban; ban them in Clerk after the import:"
        : 'Banned in Supabase (banned: true):',
  );
  flag(
    result.sharedEmail,
    'Sharing an email with another user (e.g. an SSO and a password account): the provider refuses the second; merge them first:',
  );
  flag(result.trimmedEmail, 'Email exported trimmed (Supabase had spaces around it):');
  flag(
    result.invalidEmail,
    'Email not an address even trimmed (one @, text either side, no space): the provider refuses it; correct it first:',
  );
  flag(
    result.unconfirmedEmail,
    'Note: Clerk marks imported emails as verified; these had not confirmed theirs:',
  );
  for (const line of lines) console.log(line);
}
