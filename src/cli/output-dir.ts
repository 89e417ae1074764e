import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

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
