import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';

/*
 * Every file an export lists is a plain name inside its directory. metadata.json may come from anywhere
 * (a copied, edited or hostile export), and import, verify and `export --force` open and delete the files
 * it names: a name like `../../.ssh/id_rsa` must never reach the file system.
 */

/** Why `name` is not a plain file name of an export directory, or null when it is one. */
export function fileNameProblem(name: string): string | null {
  if (name === '') return 'expected a file name (got "")';
  if (name.includes('\0')) return 'a file name cannot hold a NUL character';
  if (name.includes('/') || name.includes('\\')) {
    return `expected a file name inside the export directory, not a path (got ${JSON.stringify(name)})`;
  }
  // Covers `.`, `..` and our own temporary files (`.name.partial`), which are never part of an export.
  if (name.startsWith('.')) return `a file name cannot start with "." (got ${JSON.stringify(name)})`;
  return null;
}

/**
 * The path of an export file: `file` joined to `dir`, refused (UsageError) unless it stays inside `dir`.
 * A second line of defence behind the manifest schema, for names that did not come through it.
 */
export function exportPath(dir: string, file: string): string {
  const base = resolve(dir);
  const rel = relative(base, resolve(base, file));
  const outside = rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  if (outside || file.includes('\0')) {
    throw new UsageError(`${JSON.stringify(file)} is not a file inside the export directory ${dir}`);
  }
  // The location checked, in `dir`'s form (relative stays relative, as callers' messages show it).
  return join(dir, rel);
}
