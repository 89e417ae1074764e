import { createHash } from 'node:crypto';
import { lstat, mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { prepareOutputDir } from '../export/output-dir.js';
import { MANIFEST_FILE } from '../format/manifest.js';
import { readMigrateRecord, type MigrateRecord } from '../format/migrate-record.js';
import { describeUrl } from '../pg/connect.js';
import type { MigrateSettings } from './settings.js';

/** Where a migrate writes its export: the --keep-files directory, or a private one it removes at success. */
export interface WorkDir {
  path: string;
  /** Private (not --keep-files): created 0700 under the temporary directory, removed when the run succeeds. */
  private: boolean;
  /** The record of the interrupted run being resumed (--resume). */
  previous: MigrateRecord | null;
}

/**
 * The private directory's name is derived from the two databases (never their passwords), so that
 * `migrate --resume` with the same arguments finds the directory the interrupted run kept.
 */
export function privateWorkDir(settings: Pick<MigrateSettings, 'dbUrl' | 'targetUrl' | 'tempDir'>): string {
  const digest = createHash('sha256')
    .update(`${describeUrl(settings.dbUrl)}\n${describeUrl(settings.targetUrl)}`)
    .digest('hex')
    .slice(0, 16);
  return join(settings.tempDir ?? tmpdir(), `supamigrate-migrate-${digest}`);
}

/**
 * Chooses the work directory and checks it before anything connects: with --resume, the interrupted run's
 * must be there; without, an interrupted run's is refused (finish it or remove it), and so is an export
 * already in --keep-files. Nothing is created on a dry run.
 */
export async function openWorkDir(settings: MigrateSettings): Promise<WorkDir> {
  const isPrivate = settings.keepFiles === undefined;
  const path = isPrivate ? privateWorkDir(settings) : resolve(settings.keepFiles!);
  const info = await lstat(path).catch(() => null);
  if (info && isPrivate) checkPrivate(path, info);
  if (info && !info.isDirectory())
    throw new UsageError(`${path} is not a directory: choose another --keep-files`);
  const previous = info ? await readMigrateRecord(path) : null;
  const from = `${describeUrl(settings.dbUrl)} to ${describeUrl(settings.targetUrl)}`;
  if (settings.resume) {
    if (!previous)
      throw new UsageError(
        `nothing to resume: no interrupted migrate from ${from} in ${path} (a migrate that finished leaves none; give the same --db-url, --target-url and --keep-files as the run you resume)`,
      );
    return { path, private: isPrivate, previous };
  }
  if (previous)
    throw new UsageError(
      `an interrupted migrate from ${from} is in ${path}: finish it with the same command and --resume, or remove that directory (and empty the target) to start over`,
    );
  if (info && !isPrivate && (await exists(join(path, MANIFEST_FILE))))
    throw new UsageError(`${path} already holds an export (${MANIFEST_FILE}): choose another --keep-files`);
  if (settings.dryRun) return { path, private: isPrivate, previous: null };
  // A private directory without a record: a run that stopped before it began. Started over.
  if (info && isPrivate) await rm(path, { recursive: true, force: true });
  if (isPrivate) await mkdir(path, { mode: 0o700 });
  else await prepareOutputDir(path);
  return { path, private: isPrivate, previous: null };
}

/** Another user could have made the private directory's name first (in a shared /tmp): refused. */
function checkPrivate(path: string, info: Awaited<ReturnType<typeof lstat>>): void {
  const uid = process.getuid?.();
  const problem = info.isSymbolicLink()
    ? 'is a symbolic link'
    : !info.isDirectory()
      ? 'is not a directory'
      : uid !== undefined && info.uid !== uid
        ? 'belongs to another user'
        : (Number(info.mode) & 0o077) !== 0
          ? 'can be read by other users'
          : null;
  if (problem)
    throw new UsageError(
      `the work directory ${path} ${problem}: remove it, or give --keep-files <dir> to choose another`,
    );
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** At success the private directory goes; --keep-files stays. */
export async function removeWorkDir(dir: WorkDir): Promise<void> {
  if (dir.private) await rm(dir.path, { recursive: true, force: true });
}
