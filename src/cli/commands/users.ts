import type { Command } from 'commander';
import { readAuthUsers } from '../../users/auth-users.js';
import { mapUsers } from '../../users/map-users.js';
import { readNewUsers } from '../../users/new-users.js';
import {
  exportUsersForProvider,
  PROVIDER_FORMATS,
  type ProviderFormat,
} from '../../users/provider-export.js';
import { writeUserMap } from '../../format/user-map.js';
import { SettingsProblems } from '../../settings.js';
import { action } from '../run.js';

interface MapFlags {
  inputDir: string;
  newUsers?: string;
  out: string;
  idField: string;
  emailField: string;
  phoneField: string;
  json?: boolean;
  force?: boolean;
}

interface ExportFlags {
  inputDir: string;
  format?: string;
  out?: string;
  json?: boolean;
  force?: boolean;
}

export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description('map Supabase auth users to a new auth provider, and export them for it');

  users
    .command('map')
    .description(
      "match the export's auth users to the new provider's users by email (then phone); write user-map.json",
    )
    .option('-i, --input-dir <path>', 'the export directory (holds auth_users.json)', './migration-data')
    .option('--new-users <file>', "the new provider's users: a JSON array of objects, or CSV with a header")
    .option('--out <file>', 'where to write the map', './user-map.json')
    .option('--id-field <name>', "the new users' id field", 'id')
    .option('--email-field <name>', "the new users' email field", 'email')
    .option('--phone-field <name>', "the new users' phone field", 'phone')
    .option('--json', 'print the result as JSON on stdout')
    .option('--force', 'replace the --out file if it exists')
    .addHelpText(
      'after',
      '\nExample:\n  supamigrate users map --new-users clerk-users.json --id-field clerk_id --out user-map.json',
    )
    .action(
      action(async (flags: MapFlags) => {
        const check = new SettingsProblems();
        if (!flags.newUsers) check.problems.push('--new-users <file> is required');
        check.done();
        const [oldUsers, newUsers] = await Promise.all([
          readAuthUsers(flags.inputDir),
          readNewUsers(flags.newUsers!, {
            id: flags.idField,
            email: flags.emailField,
            phone: flags.phoneField,
          }),
        ]);
        const map = mapUsers(oldUsers, newUsers);
        await writeUserMap(flags.out, map, { force: flags.force ?? false });
        const reasons = new Map<string, number>();
        for (const u of map.unmatched) reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ out: flags.out, matched: map.mappings.length, unmatched: Object.fromEntries(reasons) })}\n`,
          );
        } else {
          console.log(`Supabase users: ${oldUsers.length}; new provider's users: ${newUsers.length}`);
          console.log(
            `Matched: ${map.mappings.length} (by email ${map.mappings.filter((m) => m.matchedBy === 'email').length}, by phone ${map.mappings.filter((m) => m.matchedBy === 'phone').length})`,
          );
          console.log(`Unmatched: ${map.unmatched.length}`);
          for (const [reason, n] of reasons) console.log(`  ${n}  ${reason}`);
          console.log(
            `Wrote ${flags.out} (mode 0600). Use it with: supamigrate import --user-map ${flags.out}`,
          );
        }
        return 0;
      }),
    );

  users
    .command('export')
    .description('write the auth users in a format the new provider imports, keeping bcrypt password hashes')
    .option('-i, --input-dir <path>', 'the export directory (holds auth_users.json)', './migration-data')
    .option('--format <format>', `one of ${PROVIDER_FORMATS.join(', ')}`)
    .option('--out <file>', 'where to write (default: users.<format>.json, or users.csv)')
    .option('--json', 'print the result as JSON on stdout')
    .option('--force', 'replace the --out file(s) if they exist')
    .addHelpText(
      'after',
      '\nExamples:\n  supamigrate users export --format clerk --out clerk-users.json\n  supamigrate users export --format auth0 --out auth0-users.json',
    )
    .action(
      action(async (flags: ExportFlags) => {
        const check = new SettingsProblems();
        if (!flags.format) check.problems.push(`--format is required (${PROVIDER_FORMATS.join(', ')})`);
        const format = flags.format
          ? check.oneOf<ProviderFormat>(flags.format, '--format', PROVIDER_FORMATS, 'json')
          : 'json';
        check.done();
        const out = flags.out ?? (format === 'csv' ? './users.csv' : `./users.${format}.json`);
        const users = await readAuthUsers(flags.inputDir);
        const result = await exportUsersForProvider(users, format, out, { force: flags.force ?? false });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return 0;
        }
        console.log(
          `Exported ${result.exported} of ${users.length} users for ${format} to ${result.files.join(', ')} (mode 0600).`,
        );
        console.log(`  with a bcrypt password hash: ${result.exported - result.withoutPassword.length}`);
        console.log(
          `  without a password (they sign in by link, code or OAuth, or reset it): ${result.withoutPassword.length}`,
        );
        if (result.skippedNoEmail.length > 0)
          console.log(
            `Not exported, no ${format === 'auth0' ? 'email' : 'email or phone'} (anonymous users): ${result.skippedNoEmail.length}: ${result.skippedNoEmail.slice(0, 5).join(', ')}`,
          );
        if (result.skippedDeleted.length > 0)
          console.log(
            `Not exported, deleted in Supabase: ${result.skippedDeleted.length}: ${result.skippedDeleted.slice(0, 5).join(', ')}`,
          );
        if (result.unconfirmedEmail.length > 0)
          console.log(
            `Note: Clerk marks imported emails as verified; ${result.unconfirmedEmail.length} had not confirmed theirs: ${result.unconfirmedEmail.slice(0, 5).join(', ')}`,
          );
        return 0;
      }),
    );
}
