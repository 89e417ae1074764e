import type { Command } from 'commander';
import type { S3Options } from '../../storage/s3.js';
import type { StorageExportOptions } from '../../storage/storage-export.js';
import { defaultStorageJobs } from '../../storage/jobs.js';
import { SettingsProblems } from '../../settings.js';
import { chooseDatabase } from '../database.js';
import { formatBytes, formatCount } from '../format.js';
import { checkSettings, collect } from '../options.js';
import { ProgressDisplay } from '../progress.js';
import { action, EXIT_FAILED, interruption } from '../run.js';
import { plural } from '../terminal.js';
import { storageProgress } from './storage-progress.js';

interface S3Flags {
  s3Endpoint?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  s3Region?: string;
  jobs?: string;
  json?: boolean;
}

interface ExportFlags extends S3Flags {
  dbUrl?: string;
  outputDir: string;
  bucket?: string[];
  resume?: boolean;
  force?: boolean;
}

interface TargetFlags extends S3Flags {
  inputDir: string;
  bucketMap?: string[];
  userMap?: string;
  renameUserFolders?: boolean;
}

interface ImportFlags extends TargetFlags {
  resume?: boolean;
}

interface VerifyFlags extends TargetFlags {
  dbUrl?: string;
  download?: boolean;
}

const withS3Options = (command: Command, side: string): Command =>
  command
    .option(
      '--s3-endpoint <url>',
      `the ${side} S3 endpoint (Supabase: https://<project-ref>.supabase.co/storage/v1/s3)`,
    )
    .option('--s3-access-key-id <id>', 'S3 access key id (default: $AWS_ACCESS_KEY_ID)')
    .option('--s3-secret-access-key <secret>', 'S3 secret access key (default: $AWS_SECRET_ACCESS_KEY)')
    .option('--s3-region <region>', 'S3 region (default: $AWS_REGION, else us-east-1)')
    .option('-j, --jobs <n>', `objects transferred at once (default: ${defaultStorageJobs()})`)
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)');

const withTargetOptions = (command: Command): Command =>
  command
    .option('-i, --input-dir <path>', 'the export directory (its storage/ folder)', './migration-data')
    .option(
      '--bucket-map <from=to>',
      'put bucket "from" into bucket "to" on the target (repeatable)',
      collect,
    )
    .option('--user-map <file>', 'map object owners to new user ids (the user-map.json of users map)')
    .option(
      '--rename-user-folders',
      'with --user-map: keys whose first folder is an old user id (<user id>/avatar.png) move to the new id',
    );

function s3Options(flags: S3Flags): S3Options {
  // The SDK warns on every run under Node.js 20 about its own future releases; it is not the user's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    endpoint: flags.s3Endpoint,
    accessKeyId: flags.s3AccessKeyId,
    secretAccessKey: flags.s3SecretAccessKey,
    region: flags.s3Region,
  };
}

export function registerStorage(program: Command): void {
  const storage = program
    .command('storage')
    .description("move Supabase Storage's files (buckets and objects) through the S3 protocol, verified");

  withS3Options(
    storage
      .command('export')
      .description('download every object storage.objects lists, checked against its row, with a manifest')
      .option('--db-url <url>', 'source database (default: $SUPABASE_DB_URL, $DATABASE_URL, PG* variables)')
      .option(
        '-o, --output-dir <path>',
        'the export directory (objects go to its storage/ folder)',
        './migration-data',
      )
      .option('--bucket <name>', 'export only this bucket (repeatable; default: every bucket)', collect)
      .option('--resume', 'finish an interrupted storage export: keep its complete, checked files')
      .option('--force', 'replace a storage export already in the output directory'),
    'source',
  )
    .addHelpText(
      'after',
      `
Examples:
  export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_REGION=eu-central-1
  supamigrate storage export --db-url "$SUPABASE_DB_URL" --s3-endpoint https://abcdefgh.supabase.co/storage/v1/s3
  supamigrate storage export --s3-endpoint … --bucket avatars --bucket documents --jobs 16 -o ./migration-data
  supamigrate storage export --s3-endpoint … --resume      # after an interruption`,
    )
    .action(action((flags: ExportFlags) => runExport(flags)));

  withTargetOptions(
    withS3Options(
      storage
        .command('import')
        .description(
          'upload a storage export to any S3-compatible target, content types and cache control kept',
        )
        .option('--resume', 'skip objects the target already holds with the same size and sha256'),
      'target',
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  supamigrate storage import -i ./migration-data --s3-endpoint https://s3.eu-central-1.amazonaws.com --s3-region eu-central-1
  supamigrate storage import --s3-endpoint http://127.0.0.1:9000 --bucket-map avatars=app-avatars
  supamigrate storage import --s3-endpoint … --user-map user-map.json --rename-user-folders`,
    )
    .action(action((flags: ImportFlags) => runImport(flags)));

  withTargetOptions(
    withS3Options(
      storage
        .command('verify')
        .description('compare a storage export with the target: every missing, extra or different object')
        .option('--db-url <url>', 'also compare the export with the source rows of storage.objects')
        .option(
          '--download',
          'download and hash every object (default: compare MD5 eTags or the recorded sha256)',
        ),
      'target',
    ),
  )
    .addHelpText(
      'after',
      `
Exit codes: 0 everything matches, 1 something differs, 2 usage or connection error.

Examples:
  supamigrate storage verify -i ./migration-data --s3-endpoint https://s3.eu-central-1.amazonaws.com
  supamigrate storage verify --s3-endpoint … --db-url "$SUPABASE_DB_URL" --download`,
    )
    .action(action((flags: VerifyFlags) => runVerify(flags)));
}

async function runExport(flags: ExportFlags): Promise<number> {
  // Every problem at once: the database choice here, the S3 options and the rest by the library.
  const check = new SettingsProblems();
  const options: StorageExportOptions = {
    dbUrl: chooseDatabase('source', flags.dbUrl, check),
    outputDir: flags.outputDir,
    s3: s3Options(flags),
    buckets: flags.bucket,
    jobs: flags.jobs,
    resume: flags.resume,
    force: flags.force,
    signal: interruption.signal,
  };
  // The storage library (and the AWS SDK) is loaded only when a storage command runs.
  const { exportStorage, parseStorageExportSettings } = await import('../../storage/storage-export.js');
  checkSettings(check, () => parseStorageExportSettings(options));
  const display = new ProgressDisplay(process.stderr, 'downloading', 'connecting, listing storage.objects');
  let result;
  try {
    result = await exportStorage({ ...options, onEvent: storageProgress(display, 'downloading') });
  } finally {
    display.stop();
  }
  const { manifest, failures } = result;
  const bytes = manifest.objects.reduce((n, o) => n + (o.state === 'complete' ? o.size : 0), 0);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        outputDir: result.outputDir,
        complete: manifest.complete,
        buckets: manifest.buckets,
        objects: manifest.objects.length,
        bytes,
        kept: result.kept,
        failures,
      })}\n`,
    );
  } else {
    for (const b of manifest.buckets)
      console.log(
        `  ${b.id}: ${plural(b.objectCount, 'object')}, ${formatBytes(b.bytes)}${b.public ? ' (public)' : ''}`,
      );
    if (manifest.complete) {
      console.log(
        `Exported ${plural(manifest.objects.length, 'object')} (${formatBytes(bytes)}) from ${plural(manifest.buckets.length, 'bucket')} to ${result.outputDir}/storage${result.kept ? `; ${formatCount(result.kept)} kept from the earlier run` : ''}.`,
      );
    } else {
      console.log(`Storage export INCOMPLETE: ${plural(failures.length, 'failure')}:`);
      for (const f of failures) console.log(`  ✗ ${f.error}`);
    }
  }
  return manifest.complete ? 0 : EXIT_FAILED;
}

async function runImport(flags: ImportFlags): Promise<number> {
  const { importStorage } = await import('../../storage/storage-import.js');
  const display = new ProgressDisplay(process.stderr, 'uploading', 'connecting, checking the target buckets');
  let result;
  try {
    result = await importStorage({
      inputDir: flags.inputDir,
      s3: s3Options(flags),
      bucketMap: flags.bucketMap,
      userMap: flags.userMap,
      renameUserFolders: flags.renameUserFolders,
      jobs: flags.jobs,
      resume: flags.resume,
      signal: interruption.signal,
      onEvent: storageProgress(display, 'uploading'),
    });
  } finally {
    display.stop();
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ complete: result.failures.length === 0, ...result })}\n`);
    return result.failures.length > 0 ? EXIT_FAILED : 0;
  }
  for (const b of result.createdBuckets) console.log(`created bucket ${b}`);
  for (const r of result.renamed) console.log(`renamed ${r.bucket}/${r.from} → ${r.bucket}/${r.to}`);
  if (flags.userMap) {
    console.log(`owners mapped to new ids: ${plural(result.owners.length, 'object')}`);
    if (result.unmappedOwners.length > 0)
      console.log(`owners not in the user map (kept as they were): ${result.unmappedOwners.join(', ')}`);
  }
  for (const note of result.notes) console.log(`note: ${note}`);
  if (result.failures.length === 0) {
    console.log(
      `Imported ${plural(result.objects, 'object')} (${formatBytes(result.bytes)})${result.skipped ? `; ${formatCount(result.skipped)} already on the target were skipped` : ''}.`,
    );
    return 0;
  }
  console.log(`Storage import INCOMPLETE: ${plural(result.failures.length, 'failure')}:`);
  for (const f of result.failures) console.log(`  ✗ ${f.error}`);
  return EXIT_FAILED;
}

async function runVerify(flags: VerifyFlags): Promise<number> {
  const { verifyStorage } = await import('../../storage/storage-verify.js');
  const display = new ProgressDisplay(process.stderr, 'verifying', 'listing the target buckets, comparing');
  let result;
  try {
    result = await verifyStorage({
      inputDir: flags.inputDir,
      s3: s3Options(flags),
      bucketMap: flags.bucketMap,
      userMap: flags.userMap,
      renameUserFolders: flags.renameUserFolders,
      dbUrl: flags.dbUrl ?? process.env.SUPABASE_DB_URL,
      download: flags.download,
      jobs: flags.jobs,
      signal: interruption.signal,
    });
  } finally {
    display.stop();
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const p of result.problems)
      console.log(`✗ ${p.kind}: ${p.bucket}/${JSON.stringify(p.key).slice(1, -1)}: ${p.detail}`);
    console.log(
      result.ok
        ? `Storage matches: ${plural(result.objects, 'object')}, every key, size and content hash the same.`
        : `Storage DIFFERS: ${plural(result.problems.length, 'problem')} in ${plural(result.objects, 'object')}.`,
    );
  }
  return result.ok ? 0 : EXIT_FAILED;
}
