import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomically } from './atomic-write.js';
import { parseOrRefuse, readJsonFile } from './parse-file.js';

/**
 * What `supamigrate migrate` keeps in its work directory (migrate.json) so that `migrate --resume` can
 * refuse a run whose choices differ from the first: the two databases (named without password), their
 * identities as the servers report them, and every option that changes what is moved or how.
 */
export const MIGRATE_RECORD_FILE = 'migrate.json';

const identitySchema = z.strictObject({
  where: z.string(),
  systemIdentifier: z.string().nullable(),
  databaseOid: z.int(),
});

const migrateRecordSchema = z.strictObject({
  tool: z.literal('supamigrate migrate'),
  version: z.string(),
  startedAt: z.string(),
  source: identitySchema,
  target: identitySchema,
  /** The options that must be the same on --resume, as canonical JSON values. */
  options: z.record(z.string(), z.json()),
});

export type MigrateRecord = z.infer<typeof migrateRecordSchema>;
export type DatabaseIdentity = z.infer<typeof identitySchema>;

/** The record of an earlier run in `dir`, or null when there is none. A damaged one is a UsageError. */
export async function readMigrateRecord(dir: string): Promise<MigrateRecord | null> {
  const path = join(dir, MIGRATE_RECORD_FILE);
  const hint = 'remove the directory to start the migration over';
  const json = await readJsonFile(path, {
    notFound: null,
    invalidJson: (reason) => `${path} is not valid JSON (${reason}): ${hint}`,
  });
  if (json === undefined) return null;
  return parseOrRefuse(migrateRecordSchema, json, path, hint);
}

export async function writeMigrateRecord(dir: string, record: MigrateRecord): Promise<void> {
  await writeJsonAtomically(join(dir, MIGRATE_RECORD_FILE), record);
}
