import type { Command } from 'commander';
import { readAuthUsers } from '../../users/auth-users.js';
import { mapUsers } from '../../users/map-users.js';
import { NEW_USERS_PROVIDERS, readNewUsers, type NewUsersProviderOption } from '../../users/new-users.js';
import {
  exportUsersForProvider,
  PROVIDER_FORMATS,
  type ProviderFormat,
} from '../../users/provider-export.js';
import { scanUsers } from '../../users/scan.js';
import { MATCHED_BY, writeUserMap } from '../../format/user-map.js';
import { SettingsProblems } from '../../settings.js';
import { collect } from '../options.js';
import { printExportResult } from '../users-export-report.js';
import { scanReport } from '../user-scan.js';
import { action } from '../run.js';

interface MapFlags {
  inputDir: string;
  newUsers?: string;
  provider?: string;
  out: string;
  idField?: string;
  emailField?: string;
  phoneField?: string;
  externalIdField?: string;
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

interface ScanFlags {
  inputDir: string;
  table?: string[];
  excludeTable?: string[];
  json?: boolean;
}

export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description('map Supabase auth users to a new auth provider, export them for it, find user-id columns');

  users
    .command('map')
    .description(
      "match the export's auth users to the new provider's users by external id, then verified email, then phone; write user-map.json",
    )
    .option('-i, --input-dir <path>', 'the export directory (holds auth_users.json)', './migration-data')
    .option(
      '--new-users <file>',
      "the new provider's users: Clerk user objects or CSV export, Auth0 export (NDJSON) or bulk-import JSON, Firebase auth:export, Cognito ListUsers, or any JSON/NDJSON/CSV",
    )
    .option('--provider <name>', `read the file as ${NEW_USERS_PROVIDERS.join(', ')} (default: by its shape)`)
    .option('--out <file>', 'where to write the map', './user-map.json')
    .option('--id-field <path>', "generic file: the new users' id field, dotted path allowed (default: id)")
    .option('--email-field <path>', 'generic file: the email field (default: email)')
    .option('--phone-field <path>', 'generic file: the phone field (default: phone)')
    .option('--external-id-field <path>', 'generic file: a field holding the Supabase user id')
    .option('--json', 'print the result as JSON on stdout')
    .option('--force', 'replace the --out file if it exists')
    .addHelpText(
      'after',
      `
Examples:
  supamigrate users map --new-users clerk-users.json
  supamigrate users map --new-users auth0-export.ndjson --out user-map.json
  supamigrate users map --new-users users.json --provider generic --id-field uid --email-field emails.0.address`,
    )
    .action(
      action(async (flags: MapFlags) => {
        const check = new SettingsProblems();
        if (!flags.newUsers) check.problems.push('--new-users <file> is required');
        const provider = flags.provider
          ? check.oneOf<NewUsersProviderOption>(flags.provider, '--provider', NEW_USERS_PROVIDERS, 'generic')
          : undefined;
        const fields = {
          id: flags.idField,
          email: flags.emailField,
          phone: flags.phoneField,
          externalId: flags.externalIdField,
        };
        if (provider && provider !== 'generic' && Object.values(fields).some((f) => f !== undefined))
          check.problems.push(
            `--id-field, --email-field, --phone-field and --external-id-field need --provider generic`,
          );
        check.done();
        const [oldUsers, file] = await Promise.all([
          readAuthUsers(flags.inputDir),
          readNewUsers(flags.newUsers!, { provider, fields }),
        ]);
        const map = mapUsers(oldUsers, file.users, { readAs: file.readAs });
        await writeUserMap(flags.out, map, { force: flags.force ?? false });
        const reasons = new Map<string, number>();
        for (const u of map.unmatched) reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);
        const by = MATCHED_BY.map((m) => [m, map.mappings.filter((x) => x.matchedBy === m).length] as const);
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ out: flags.out, readAs: file.readAs, matched: map.mappings.length, matchedBy: Object.fromEntries(by), unmatched: Object.fromEntries(reasons) })}\n`,
          );
          return 0;
        }
        console.log(`Read ${flags.newUsers} as ${file.readAs}.`);
        console.log(`Supabase users: ${oldUsers.length}; new provider's users: ${file.users.length}`);
        console.log(`Matched: ${map.mappings.length} (${by.map(([m, n]) => `by ${m} ${n}`).join(', ')})`);
        console.log(`Unmatched: ${map.unmatched.length}`);
        for (const [reason, n] of reasons) console.log(`  ${n}  ${reason}`);
        console.log(
          `Wrote ${flags.out} (mode 0600). Use it with: supamigrate import --user-map ${flags.out}`,
        );
        return 0;
      }),
    );

  users
    .command('export')
    .description('write the auth users in a format the new provider imports, keeping bcrypt password hashes')
    .option('-i, --input-dir <path>', 'the export directory (holds auth_users.json)', './migration-data')
    .option('--format <format>', `one of ${PROVIDER_FORMATS.join(', ')}`)
    .option(
      '--out <file>',
      'where to write (default: users.clerk.json, users.auth0.json, users.csv, users.json)',
    )
    .option('--json', 'print the result as JSON on stdout')
    .option('--force', 'replace the --out file(s) if they exist')
    .addHelpText(
      'after',
      '\nExamples:\n  supamigrate users export --format clerk                  # writes users.clerk.json\n  supamigrate users export --format auth0 --out auth0-users.json',
    )
    .action(
      action(async (flags: ExportFlags) => {
        const check = new SettingsProblems();
        if (!flags.format) check.problems.push(`--format is required (${PROVIDER_FORMATS.join(', ')})`);
        const format = flags.format
          ? check.oneOf<ProviderFormat>(flags.format, '--format', PROVIDER_FORMATS, 'json')
          : 'json';
        check.done();
        // users.clerk.json, users.auth0.json; users.csv and users.json (not users.json.json).
        const out =
          flags.out ??
          (format === 'csv' || format === 'json' ? `./users.${format}` : `./users.${format}.json`);
        const users = await readAuthUsers(flags.inputDir);
        const result = await exportUsersForProvider(users, format, out, { force: flags.force ?? false });
        if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else printExportResult(result, format, users.length);
        return 0;
      }),
    );

  users
    .command('scan')
    .description(
      'find the columns holding user ids without a foreign key into auth.users (by their values), and those referencing them: the --user-columns to give import',
    )
    .option('-i, --input-dir <path>', 'the export directory', './migration-data')
    .option('--table <name>', 'scan only this table (repeatable)', collect)
    .option('--exclude-table <name>', 'leave this table out (repeatable)', collect)
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText('after', '\nExample:\n  supamigrate users scan -i ./migration-data')
    .action(
      action(async (flags: ScanFlags) => {
        const scan = await scanUsers({
          inputDir: flags.inputDir,
          tables: flags.table,
          excludeTables: flags.excludeTable,
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(scan)}\n`);
        else for (const line of scanReport(scan)) console.log(line);
        return 0;
      }),
    );
}
