import { access, constants, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { exportPath } from '../format/export-path.js';
import { MANIFEST_FILE, readManifest } from '../format/manifest.js';

/**
 * Checks, before connecting, that the output directory can be written and holds no export that would be
 * replaced without --force. Creates it (mode 0700) when missing.
 */
export async function checkOutputDir(dir: string, replace: boolean): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a file is in the way (it, or a folder above it, is not a directory)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : (code ?? (err as Error).message);
    throw new UsageError(`Cannot write to output directory ${dir}: ${why}`, { cause: err });
  }
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
