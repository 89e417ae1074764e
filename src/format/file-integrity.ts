import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { openExportFile } from './compression.js';
import { exportPath } from './export-path.js';

export interface ExpectedFile {
  /** What the file holds, for messages: `public.devices`. */
  label: string;
  file: string;
  bytes: number | null;
  sha256: string | null;
}

/**
 * Checks export files against metadata.json: each exists, has its recorded size, and its sha256. Returns
 * one problem per file that fails, naming it (empty when all are intact). Files are read in parallel.
 */
export async function checkExportFiles(
  dir: string,
  files: readonly ExpectedFile[],
  parallel = 4,
): Promise<string[]> {
  const problems: string[] = [];
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const problem = await checkFile(dir, f);
      if (problem) problems.push(problem);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
  return problems.sort();
}

async function checkFile(dir: string, f: ExpectedFile): Promise<string | undefined> {
  // A name that leads out of the directory is a UsageError here, never a file read elsewhere.
  const path = exportPath(dir, f.file);
  let size: number;
  try {
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      return `${f.file} (${f.label}) in ${dir} is a symbolic link: an export's files are read only as the plain files export wrote`;
    }
    if (!info.isFile()) {
      return `${f.file} (${f.label}) in ${dir} is ${info.isDirectory() ? 'a directory' : 'not a regular file'}, not the exported file`;
    }
    size = info.size;
  } catch {
    return `${f.file} (${f.label}) is missing from ${dir}`;
  }
  if (f.bytes === null || f.sha256 === null) return `${f.file} (${f.label}) was never completely exported`;
  if (size !== f.bytes) {
    return `${f.file} (${f.label}) has ${size} bytes, metadata.json says ${f.bytes}: ${size < f.bytes ? 'truncated' : 'changed'} since export`;
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20, fd: openExportFile(path) }), hash);
  if (hash.digest('hex') !== f.sha256)
    return `${f.file} (${f.label}) does not match its sha256 in metadata.json: changed since export`;
  return undefined;
}
