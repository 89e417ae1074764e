import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ConnectionError } from '../errors.js';

/*
 * The S3 side of storage: Supabase Storage's S3 endpoint (`https://<ref>.supabase.co/storage/v1/s3`), AWS S3,
 * R2, MinIO. Path-style addressing (Supabase has no virtual-host buckets), credentials given explicitly
 * (never the SDK's search of ~/.aws), and checksums only where the protocol requires them: the SDK's newer
 * default (CRC32 trailers on every upload) is refused by several S3-compatible servers.
 */

export {
  DEFAULT_S3_REGION,
  parseS3Settings,
  type S3Names,
  type S3Options,
  type S3Settings,
} from './s3-settings.js';
import type { S3Settings } from './s3-settings.js';
import type { SettingsProblems } from '../settings.js';

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
