import { constants } from 'node:fs';
import { access, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { exportPath } from '../format/export-path.js';
import { MANIFEST_FILE, readManifest } from '../format/manifest.js';

/**
 * Checks, before connecting, that the output directory can be written and holds no export that would be
 * replaced without --force. Creates it (mode 0700) when missing.
 */
export async function checkOutputDir(dir: string, replace: boolean): Promise<void> {
  await prepareOutputDir(dir);
  const exists = await stat(join(dir, MANIFEST_FILE)).then(
    () => true,
    () => false,
  );
  if (exists && !replace) {
    throw new UsageError(
      `${dir} already holds an export (${MANIFEST_FILE}); use --force to replace it, or choose another --output-dir`,
    );
  }
}

/**
 * With --force: removes the previous export's files (those its metadata.json lists, all inside the
 * directory) and any temporary `.…partial` files an interrupted run left, so nothing stale stays beside
 * the new export. A damaged metadata.json is removed without touching the files it names.
 */
export async function clearOldExport(dir: string, resuming: boolean): Promise<void> {
  const old = resuming ? null : await readManifest(dir).catch(() => null);
  const files = old
    ? [
        ...old.tables.flatMap((t) => [t.file, ...(t.parts ?? []).map((p) => p.file)]),
        old.authUsers?.file,
        old.authIdentities?.file,
      ]
    : [];
  const partial = (await readdir(dir)).filter((f) => f.startsWith('.') && f.endsWith('.partial'));
  const names = [...files, ...(resuming ? [] : [MANIFEST_FILE])].filter((f): f is string => Boolean(f));
  for (const file of names) await rm(exportPath(dir, file), { force: true });
  for (const file of partial) await rm(join(dir, file), { force: true });
}

/**
 * Creates the output directory (mode 0700) one level at a time, or fails at once with one line: a
 * recursive mkdir under a path that cannot hold directories (`-o /proc/x`) never returns on some systems.
 */
export async function prepareOutputDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let path = resolve(dir);
  // Bounded: each step goes one level up, and the root exists.
  for (let depth = 0; depth < 4096; depth++) {
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => err);
    if (!(info instanceof Error)) {
      if (!info.isDirectory())
        fail(
          dir,
          path === resolve(dir) ? 'it is a file, not a directory' : `${path} is a file, not a directory`,
        );
      break;
    }
    if (info.code !== 'ENOENT') fail(dir, describe(info.code));
    missing.unshift(path);
    const parent = dirname(path);
    if (parent === path) break;
    path = parent;
  }
  for (const p of missing) {
    try {
      await mkdir(p, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      fail(dir, `cannot create ${p}: ${describe(code)}`);
    }
  }
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    fail(dir, describe((err as NodeJS.ErrnoException).code));
  }
}

function describe(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a file is in the way (a folder above it is not a directory)';
    case 'ENOENT':
      return 'this file system does not allow creating it';
    default:
      return code ?? 'failed';
  }
}

function fail(dir: string, why: string): never {
  throw new UsageError(`Cannot write to output directory ${dir}: ${why}`);
}
