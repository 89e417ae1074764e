import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerUsers } from './commands/users.js';
import { registerVerify } from './commands/verify.js';
import { EXIT_USAGE } from './run.js';

const program = new Command()
  .name('supamigrate')
  .description('Move a Supabase (or any PostgreSQL) database to another PostgreSQL, losing nothing.')
  .version(VERSION)
  .showHelpAfterError('(run supamigrate --help for usage)')
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  });

registerExport(program);
registerImport(program);
registerUsers(program);
registerVerify(program);
registerDemo(program);

await program.parseAsync(process.argv);
