import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ConnectionError } from '../errors.js';
import type { SettingsProblems } from '../settings.js';

/*
 * The S3 side of storage: Supabase Storage's S3 endpoint (`https://<ref>.supabase.co/storage/v1/s3`), AWS S3,
 * R2, MinIO. Path-style addressing (Supabase has no virtual-host buckets), credentials given explicitly
 * (never the SDK's search of ~/.aws), and checksums only where the protocol requires them: the SDK's newer
 * default (CRC32 trailers on every upload) is refused by several S3-compatible servers.
 */

export interface S3Options {
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
}

export interface S3Settings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export const DEFAULT_S3_REGION = 'us-east-1';

/** How a side's options are named: the storage commands' (`--s3-…`, `AWS_…`), or migrate's target side. */
export interface S3Names {
  flag: string;
  env: string;
}

/**
 * Checks the S3 options (flags first, then AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, or the
 * variables of `names.env`), adding every problem to `check`. Problems name the option, never a secret's value.
 */
export function parseS3Settings(
  options: S3Options,
  check: SettingsProblems,
  env: NodeJS.ProcessEnv = process.env,
  names: S3Names = { flag: '--s3', env: 'AWS' },
): S3Settings {
  const problems: string[] = [];
  const settings = readS3Settings(options, problems, env, names.env);
  // The messages name this side's options.
  check.problems.push(
    ...problems.map((p) => p.replaceAll('--s3-', `${names.flag}-`).replaceAll('AWS_', `${names.env}_`)),
  );
  return settings;
}

function readS3Settings(
  options: S3Options,
  check: { push: (...p: string[]) => void },
  env: NodeJS.ProcessEnv,
  envPrefix: string,
): S3Settings {
  const endpoint = options.endpoint ?? '';
  if (!endpoint)
    check.push(
      '--s3-endpoint: missing (the S3 endpoint, such as https://<project-ref>.supabase.co/storage/v1/s3)',
    );
  else {
    let url: URL | null = null;
    try {
      url = new URL(endpoint);
    } catch {
      check.push(`--s3-endpoint: expected an http:// or https:// URL (got "${endpoint}")`);
    }
    if (url && !/^https?:$/.test(url.protocol))
      check.push(`--s3-endpoint: expected an http:// or https:// URL (got "${url.protocol}")`);
    if (url && (url.username || url.password))
      check.push(
        '--s3-endpoint: put no credentials in the URL; use --s3-access-key-id/--s3-secret-access-key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      );
  }
  const accessKeyId = options.accessKeyId ?? env[`${envPrefix}_ACCESS_KEY_ID`] ?? '';
  const secretAccessKey = options.secretAccessKey ?? env[`${envPrefix}_SECRET_ACCESS_KEY`] ?? '';
  if (!accessKeyId) check.push('--s3-access-key-id: missing (give it, or set AWS_ACCESS_KEY_ID)');
  if (!secretAccessKey) check.push('--s3-secret-access-key: missing (give it, or set AWS_SECRET_ACCESS_KEY)');
  const region =
    options.region ?? env[`${envPrefix}_REGION`] ?? env[`${envPrefix}_DEFAULT_REGION`] ?? DEFAULT_S3_REGION;
  return { endpoint: endpoint.replace(/\/+$/, ''), accessKeyId, secretAccessKey, region };
}

/** A client for the endpoint; `jobs` sockets at most, so parallel transfers never queue inside the SDK. */
export function s3Client(settings: S3Settings): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

/** The S3 error code of an SDK error (`NoSuchKey`, `InvalidAccessKeyId`, …), or undefined. */
export function s3ErrorCode(err: unknown): string | undefined {
  if (err instanceof S3ServiceException) return err.name;
  const e = err as { name?: string; Code?: string; $metadata?: unknown };
  return e?.$metadata ? (e.Code ?? e.name) : undefined;
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'Forbidden',
  'Unauthorized',
]);

/** Whether the endpoint refused the credentials (every other request would fail the same way). */
export function isCredentialError(err: unknown): boolean {
  const code = s3ErrorCode(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return (code !== undefined && CREDENTIAL_ERRORS.has(code)) || status === 401 || status === 403;
}

/** An S3 failure in the user's words, one line: what the server said, never a credential. */
export function describeS3Error(err: unknown): string {
  const code = s3ErrorCode(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (code === 'NoSuchKey' || (code === 'NotFound' && status === 404))
    return 'the object does not exist at the S3 endpoint (NoSuchKey)';
  if (code === 'NoSuchBucket') return 'the bucket does not exist at the S3 endpoint (NoSuchBucket)';
  if (isCredentialError(err)) return `the S3 endpoint refused the credentials (${code ?? status})`;
  const message = ((err as Error)?.message ?? String(err)).split('\n')[0]!;
  const errno = (err as { code?: string })?.code;
  if (errno === 'ECONNREFUSED' || errno === 'ENOTFOUND' || errno === 'ETIMEDOUT')
    return `cannot reach the S3 endpoint (${errno})`;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * Checks that the endpoint takes our credentials and holds `bucket`, with the cheapest request that needs
 * both (a one-key listing). Wrong credentials or an unreachable endpoint: a ConnectionError (exit 2),
 * since nothing else can work; a missing bucket: false.
 */
export async function bucketExists(client: S3Client, endpoint: string, bucket: string): Promise<boolean> {
  try {
    await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
    return true;
  } catch (err) {
    if (s3ErrorCode(err) === 'NoSuchBucket') return false;
    if (isCredentialError(err))
      throw new ConnectionError(
        `S3 endpoint ${endpoint} refused the credentials (${s3ErrorCode(err) ?? 'HTTP 403'}): check --s3-access-key-id and --s3-secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), and --s3-region (or AWS_REGION; Supabase signs with the project's region, shown beside the endpoint)`,
        endpoint,
        { cause: err },
      );
    throw new ConnectionError(
      `S3 endpoint ${endpoint}, bucket ${bucket}: ${describeS3Error(err)}`,
      endpoint,
      {
        cause: err,
      },
    );
  }
}

/** Parses `--bucket-map from=to` entries into a map; problems go to `check`. */
export function parseBucketMap(
  entries: readonly string[] | undefined,
  check: SettingsProblems,
): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of entries ?? []) {
    const match = /^([^=]+)=([^=]+)$/.exec(entry);
    if (!match) {
      check.problems.push(`--bucket-map: expected from=to (got "${entry}")`);
      continue;
    }
    if (map.has(match[1]!)) check.problems.push(`--bucket-map: bucket ${match[1]} is mapped twice`);
    map.set(match[1]!, match[2]!);
  }
  return map;
}
