import { join } from 'node:path';
import { RowFormatError, UsageError } from '../errors.js';
import { checkExportFiles } from './file-integrity.js';
import { readManifest } from './manifest.js';
import { forEachFileRow } from './row-reader.js';

/**
 * The rows of the export's auth users file (auth.users as exported), after checking the file against
 * metadata.json. A missing file (export with --skip-auth, or no auth schema) is a UsageError that says so.
 */
export async function readAuthUserRows(inputDir: string): Promise<Record<string, unknown>[]> {
  const manifest = await readManifest(inputDir);
  const entry = manifest.authUsers;
  if (!entry || entry.state !== 'complete') {
    throw new UsageError(
      `${inputDir} has no complete auth users export (was it exported with --skip-auth, or from a database without auth.users?)`,
    );
  }
  const problems = await checkExportFiles(inputDir, [{ label: 'auth.users', ...entry }]);
  if (problems.length > 0) throw new UsageError(problems);
  // Streamed through the one row reader (the file's layout is checked as import's and verify's is);
  // each row is a small object, so JSON.parse is fine for it.
  const path = join(inputDir, entry.file);
  const rows: Record<string, unknown>[] = [];
  await forEachFileRow(path, manifest.format, (buf, start, end, row) => {
    try {
      rows.push(JSON.parse(buf.toString('utf8', start, end)) as Record<string, unknown>);
    } catch (err) {
      throw new RowFormatError(`${path}: row ${row}: ${(err as Error).message}`, row);
    }
  });
  return rows;
}

/** The ids of the export's auth users (an empty set when the export has none). */
export async function readAuthUserIds(inputDir: string): Promise<Set<string>> {
  const manifest = await readManifest(inputDir);
  if (!manifest.authUsers || manifest.authUsers.state !== 'complete') return new Set();
  return new Set((await readAuthUserRows(inputDir)).map((u) => String(u.id)));
}
