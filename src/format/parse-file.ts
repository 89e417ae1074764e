import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { UsageError } from '../errors.js';

/*
 * The files supamigrate reads back (metadata.json, import-state.json, user-map.json) are parsed against a
 * schema, never cast. A file that does not fit is refused with one line naming the file and the path of
 * the first bad field (`tables[3].columns[2].encoding: expected one of …`), so a user can find it in an
 * editor; a raw TypeError from deep inside import would name neither.
 */

type Issue = z.core.$ZodIssue;

export interface JsonFileMessages {
  /** The message when the file does not exist; null: return undefined instead. */
  notFound: string | null;
  invalidJson: (reason: string) => string;
}

/** Reads and JSON-parses a file; every failure is a UsageError naming it (or undefined when missing). */
export async function readJsonFile(path: string, messages: JsonFileMessages): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' && messages.notFound === null) return undefined;
    throw new UsageError(
      code === 'ENOENT' && messages.notFound !== null
        ? messages.notFound
        : code === 'EISDIR'
          ? `Cannot read ${path}: it is a directory, not a file`
          : `Cannot read ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(messages.invalidJson((err as Error).message), { cause: err });
  }
}

/**
 * Parses `value` with `schema`, or throws a UsageError `<label>: <field path>: <problem>`, followed by
 * `hint` (what the user can do about it) when given.
 */
export function parseOrRefuse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  label: string,
  hint?: string,
): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  const then = hint ? `: ${hint}` : '';
  throw new UsageError(`${label}: ${describeIssue(first!)}${more}${then}`, { cause: result.error });
}

/** One issue as `path: problem`, the path in JavaScript notation (`tables[3].columns[2].encoding`). */
export function describeIssue(issue: Issue): string {
  if (issue.code === 'invalid_union') {
    // A union whose branches all failed at its own level (`string | null`): say what each would take.
    const roots = issue.errors.map((branch) => branch.find((i) => i.path.length === 0));
    if (roots.every((i) => i?.code === 'invalid_type')) {
      const expected = roots.map((i) => typeName((i as { expected: string }).expected)).join(' or ');
      return `${fieldPath(issue.path)}: expected ${expected} ${got(issue.input)}`;
    }
    // Otherwise the branch that got furthest into the value names the real problem.
    const deepest = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest) return describeIssue({ ...deepest, path: [...issue.path, ...deepest.path] });
  }
  if (issue.code === 'unrecognized_keys') {
    const [key, ...others] = issue.keys;
    const also = others.length > 0 ? ` (also ${others.map((k) => JSON.stringify(k)).join(', ')})` : '';
    return `${fieldPath([...issue.path, key!])}: unknown field${also}`;
  }
  return `${fieldPath(issue.path)}: ${problem(issue)}`;
}

function problem(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `missing (expected ${typeName(issue.expected)})`
        : `expected ${typeName(issue.expected)} ${got(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])} ${got(issue.input)}`
        : `expected one of ${issue.values.join(', ')} ${got(issue.input)}`;
    case 'too_small':
      return `expected ${bound(issue.origin, '>=', issue.minimum)} ${got(issue.input)}`;
    case 'too_big':
      return `expected ${bound(issue.origin, '<=', issue.maximum)} ${got(issue.input)}`;
    case 'custom':
      return issue.message;
    default:
      return `${issue.message} ${got(issue.input)}`;
  }
}

/** zod's type names as a sentence says them: `int` → `an integer`. */
function typeName(expected: string): string {
  const names: Record<string, string> = {
    int: 'an integer',
    array: 'an array',
    object: 'an object',
    record: 'an object',
    null: 'null',
  };
  return names[expected] ?? `a ${expected}`;
}

function bound(origin: string, op: string, limit: number | bigint): string {
  const plural = Number(limit) === 1 ? '' : 's';
  if (origin === 'array') return `${op === '>=' ? 'at least' : 'at most'} ${limit} item${plural}`;
  if (origin === 'string') return `${op === '>=' ? 'at least' : 'at most'} ${limit} character${plural}`;
  return `a ${origin} ${op} ${limit}`;
}

/** `(got "decimal")`, `(got -1)`, `(got an object)`: what was there, short enough for one line. */
function got(input: unknown): string {
  if (input === undefined) return '(missing)';
  if (Array.isArray(input)) return '(got an array)';
  if (input !== null && typeof input === 'object') return '(got an object)';
  const text = JSON.stringify(input);
  return `(got ${text.length > 60 ? `${text.slice(0, 57)}…` : text})`;
}

/** `["tables", 3, "file"]` → `tables[3].file`; keys that are not identifiers are quoted. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(the whole file)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}
