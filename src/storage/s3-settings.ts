import type { SettingsProblems } from '../settings.js';

/*
 * The S3 options of a side, checked: apart from the client (s3.ts) so that reading them loads no AWS SDK
 * (the CLI starts without it; only a command that talks to S3 loads it).
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
