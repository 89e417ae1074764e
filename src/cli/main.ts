import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerMigrate } from './commands/migrate.js';
import { registerSchema } from './commands/schema.js';
import { registerStorage } from './commands/storage.js';
import { registerUsers } from './commands/users.js';
import { registerVerify } from './commands/verify.js';
import { EXIT_USAGE } from './run.js';
import { terminal } from './terminal.js';

/**
 * Options commander must never suggest for a typo ("unknown option '--source' (Did you mean --force?)"):
 * following the suggestion would replace or delete data.
 */
const DESTRUCTIVE = ['--force', '--truncate', '--unmatched', '--on-conflict'];

/** What people type for the database options, and what supamigrate calls them. */
const RENAMED: Record<string, string> = {
  '--source': '--db-url',
  '--source-url': '--db-url',
  '--from': '--db-url',
  '--url': '--db-url (source) or --target-url (target)',
  '--database-url': '--db-url (source) or --target-url (target)',
  '--target': '--target-url',
  '--to': '--target-url',
  '--output': '-o, --output-dir',
  '--out-dir': '-o, --output-dir',
  '--input': '-i, --input-dir',
};

export function filterSuggestion(message: string): string {
  let out = message.replace(/\s*\(Did you mean (--?[\w-]+)\?\)/g, (whole, option: string) =>
    DESTRUCTIVE.includes(option) ? '' : whole,
  );
  const unknown = /unknown option '([^'=]+)/.exec(out)?.[1];
  if (unknown && RENAMED[unknown] && !/Did you mean/.test(out)) {
    out = out.replace(/(unknown option '[^']+')/, `$1 (the option is ${RENAMED[unknown]})`);
  }
  return out;
}

// The reader of stdout went away (`supamigrate verify | head -1`): stop quietly instead of printing an EPIPE
// stack. The exit status is the result's when it is known, else 141 as for a program stopped by SIGPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 141);
});

const argv = process.argv.slice();
// -V printed the version before -v did; it still does.
if (argv[2] === '-V') argv[2] = '-v';
const json = argv.includes('--json');

const program = new Command()
  .name('supamigrate')
  .description('Move a Supabase (or any PostgreSQL) database to another PostgreSQL, losing nothing.')
  .version(VERSION, '-v, --version', 'print the version')
  .addOption(new Option('-q, --quiet', 'no progress on stderr, only errors (results still go to stdout)'))
  .addOption(
    new Option('--verbose', 'more detail: where each database comes from, TLS, every table').conflicts(
      'quiet',
    ),
  )
  .showHelpAfterError('(run supamigrate --help for usage)')
  .configureOutput({
    outputError: (message, write) => write(filterSuggestion(message)),
  })
  .exitOverride((err) => {
    if (err.exitCode !== 0 && json) {
      const message = filterSuggestion(err.message).replace(/^error: /, '');
      process.stdout.write(`${JSON.stringify({ error: { message, exitCode: EXIT_USAGE } })}\n`);
    }
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  })
  .hook('preAction', (_program, command) => {
    const globals = command.optsWithGlobals<{ quiet?: boolean; verbose?: boolean }>();
    terminal.verbosity = globals.quiet ? 'quiet' : globals.verbose ? 'verbose' : 'normal';
  });

registerSchema(program);
registerExport(program);
registerImport(program);
registerUsers(program);
registerVerify(program);
registerStorage(program);
registerMigrate(program);
registerDemo(program);

await program.parseAsync(argv);
