import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../errors.js';

/** A new users file as read: its top-level JSON value, its NDJSON lines, or its CSV rows (by header). */
export type UsersFileContent =
  | { kind: 'json'; value: unknown }
  | { kind: 'ndjson'; records: unknown[] }
  | { kind: 'csv'; records: Record<string, string>[]; header: string[] };

/**
 * Reads a file of the new provider's users by its syntax: JSON (an array, or an object holding one),
 * NDJSON (one JSON object a line: Auth0's user export), or CSV with a header row (Clerk's dashboard
 * export, or any other). Each is parsed by its library (JSON.parse, csv-parse); a file that is none of
 * them is a UsageError naming it.
 */
export async function readUsersFile(path: string): Promise<UsersFileContent> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `new users file ${path} cannot be read: ${(err as { code?: string }).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  text = text.replace(/^\uFEFF/, '');
  const start = text.trimStart()[0];
  if (start === '[' || start === '{') {
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch (err) {
      // One object a line is NDJSON; anything else starting like JSON is JSON that is broken.
      if (start === '{') return { kind: 'ndjson', records: ndjsonLines(path, text) };
      throw new UsageError(`new users file ${path} is not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  try {
    const records = parse(text, {
      columns: true,
      skip_empty_lines: true,
      trim: true,
    }) as Record<string, string>[];
    const header = records[0] ? Object.keys(records[0]) : [];
    return { kind: 'csv', records, header };
  } catch (err) {
    throw new UsageError(
      `new users file ${path} is neither JSON, NDJSON nor CSV with a header row: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function ndjsonLines(path: string, text: string): unknown[] {
  const records: unknown[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as unknown);
    } catch (err) {
      throw new UsageError(
        `new users file ${path}: line ${i + 1} is not JSON (the file is read as NDJSON, one user a line): ${(err as Error).message}`,
        { cause: err },
      );
    }
  });
  return records;
}

/**
 * The value at a dotted path: `email_addresses.0.email_address` is `record.email_addresses[0].email_address`.
 * A key that itself holds a dot is found as it is first (`user_metadata.country` as one CSV column).
 * Undefined when any step is missing.
 */
export function valueAtPath(record: unknown, path: string): unknown {
  if (record === null || typeof record !== 'object') return undefined;
  const obj = record as Record<string, unknown>;
  if (Object.hasOwn(obj, path)) return obj[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  // The longest key that is a prefix wins, so that `a.b.c` finds `{"a.b": {"c": 1}}` too.
  for (let end = path.lastIndexOf('.'); end > 0; end = path.lastIndexOf('.', end - 1)) {
    const head = path.slice(0, end);
    if (Object.hasOwn(obj, head)) return valueAtPath(obj[head], path.slice(end + 1));
  }
  return undefined;
}

/**
 * Whether the record has the field: the path leads to a value (null and "" count), or into a list that is
 * shorter than its index (`email_addresses.0.email_address` of a user with no email address).
 */
export function hasPath(record: unknown, path: string): boolean {
  if (valueAtPath(record, path) !== undefined) return true;
  const steps = path.split('.');
  return steps.some((_, i) => i > 0 && Array.isArray(valueAtPath(record, steps.slice(0, i).join('.'))));
}
