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
  if (text.trim() === '') throw new UsageError(`new users file ${path} is empty`);
  const start = text.trimStart()[0];
  if (start === '[' || start === '{') {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      // One object a line is NDJSON (its first line is JSON by itself); else it is a broken JSON document.
      if (start === '{' && isJson(text.trimStart().split('\n', 1)[0]!))
        return { kind: 'ndjson', records: ndjsonLines(path, text) };
      throw new UsageError(`new users file ${path}: ${jsonProblem(text, err as Error)}`, { cause: err });
    }
    // One line holding one user (an Auth0 export of one user) is NDJSON of one record.
    if (isUserObject(value) && !text.trim().includes('\n')) return { kind: 'ndjson', records: [value] };
    return { kind: 'json', value };
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

const isJson = (line: string): boolean => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

/** An object that is not a list of users (no array under data, users or Users): one user. */
const isUserObject = (value: unknown): boolean =>
  value !== null &&
  typeof value === 'object' &&
  !Array.isArray(value) &&
  !['data', 'users', 'Users'].some((k) => Array.isArray((value as Record<string, unknown>)[k]));

/** What is wrong with a JSON document, where: a truncated one says so, with the line it ends on. */
function jsonProblem(text: string, err: Error): string {
  const lineOf = (position: number) => text.slice(0, position).split('\n').length;
  const end = text.trimEnd().length;
  const at = /at position (\d+)/.exec(err.message);
  const position = at ? Number(at[1]) : null;
  // V8 says "Unexpected end of JSON input", or names what it expected at the very end.
  if (/Unexpected end of JSON input/.test(err.message) || (position !== null && position >= end))
    return `the JSON document is truncated: it ends at line ${lineOf(end)} before it is complete`;
  // V8 quotes the text around the error: on one line, and not all of it.
  const message = err.message.replace(/\s+/g, ' ').slice(0, 200);
  if (position === null) return `the JSON document is not valid: ${message}`;
  const column = position - text.lastIndexOf('\n', position - 1);
  return `the JSON document is not valid at line ${lineOf(position)}, column ${column}: ${message}`;
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
