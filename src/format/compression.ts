import { constants, createReadStream, openSync } from 'node:fs';
import type { Readable, Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

/*
 * Compressed exports: a data file whose name ends in `.gz` holds its JSON (or NDJSON) gzip-compressed;
 * every other byte of the format is the same. metadata.json's `bytes` and `sha256` are those of the stored
 * (compressed) file, so a file is checked before a byte of it is decompressed. The name is the one rule
 * readers follow: import, verify and `users` read either kind, whatever the export was run with.
 */

/** How export compresses its data files: `--compress gzip` or `gzip:<level 1-9>`. */
export interface Compression {
  method: 'gzip';
  level: number;
}

/** pg_dump's and zlib's default level. */
export const DEFAULT_GZIP_LEVEL = 6;

export const COMPRESSED_SUFFIX = '.gz';

/**
 * `--compress` as given (`none`, `gzip`, `gzip:1` … `gzip:9`, as pg_dump spells it): the compression, null
 * for none, or why the value is not one.
 */
export function parseCompression(value: string): Compression | null | { problem: string } {
  const match = /^(none|gzip)(?::(\d+))?$/.exec(value.trim().toLowerCase());
  const level = match?.[2] === undefined ? DEFAULT_GZIP_LEVEL : Number(match[2]);
  if (!match || (match[1] === 'none' && match[2] !== undefined) || level < 1 || level > 9) {
    return { problem: `--compress: expected none, gzip or gzip:<1-9> (got ${JSON.stringify(value)})` };
  }
  return match[1] === 'none' ? null : { method: 'gzip', level };
}

/** How metadata.json records a compression (export --resume compares it). */
export const compressionName = (c: Compression | null): string => (c ? `${c.method}:${c.level}` : 'none');

/** A data file's name under a compression: `public.devices.json.gz`. */
export const compressedName = (name: string, c: Compression | null): string =>
  c ? `${name}${COMPRESSED_SUFFIX}` : name;

/** The transform that compresses a file as it is written. */
export const compressor = (c: Compression): Transform => createGzip({ level: c.level });

/**
 * How export files are opened: read-only, never through a symbolic link (one placed in the directory could
 * lead anywhere; export never writes one). Opening a link fails with ELOOP.
 */
export const NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Opens an export file for reading (never through a link), or throws naming it. */
export function openExportFile(path: string): number {
  try {
    return openSync(path, NO_FOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      (err as Error).message =
        `${path} is a symbolic link: an export's files are read only as the plain files export wrote`;
    }
    throw err;
  }
}

/**
 * The bytes of an export file as the format has them: read from `path`, decompressed when its name ends
 * in `.gz`. One stream: an error reading the file, or a corrupt gzip stream, is its error (opening it
 * throws at once).
 */
export function readExportFile(path: string): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 20, fd: openExportFile(path) });
  if (!path.endsWith(COMPRESSED_SUFFIX)) return raw;
  const gunzip = createGunzip({ chunkSize: 1 << 16 });
  raw.on('error', (err) => gunzip.destroy(err));
  gunzip.on('close', () => raw.destroy());
  gunzip.on('error', (err) => {
    // zlib's words for a damaged file, with the file's name.
    (err as Error).message = `${path}: not a valid gzip file (${(err as Error).message})`;
  });
  return raw.pipe(gunzip);
}
