import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { UsageError } from '../errors.js';

/** A user of the new auth provider: its id, and the keys to match it by. */
export interface NewUser {
  id: string;
  email: string | null;
  phone: string | null;
}

export interface NewUserFields {
  id: string;
  email: string;
  phone: string;
}

/**
 * Reads the new provider's users: a JSON array of objects, or a CSV file with a header row. Field names
 * are configurable (`--id-field`, `--email-field`, `--phone-field`). Every user needs an id.
 */
export async function readNewUsers(path: string, fields: NewUserFields): Promise<NewUser[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `new users file ${path} cannot be read: ${(err as { code?: string }).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  let records: Record<string, unknown>[];
  if (/^\s*\[/.test(text)) {
    try {
      records = JSON.parse(text) as Record<string, unknown>[];
    } catch (err) {
      throw new UsageError(`new users file ${path} is not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } else {
    try {
      records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<
        string,
        unknown
      >[];
    } catch (err) {
      throw new UsageError(
        `new users file ${path} is neither a JSON array nor a CSV file with a header: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  if (records.length > 0 && !(fields.id in records[0]!)) {
    throw new UsageError(
      `new users file ${path} has no field "${fields.id}" (name the id field with --id-field)`,
    );
  }
  return records.map((r, i) => {
    const id = r[fields.id];
    if (id === undefined || id === null || String(id).trim() === '') {
      throw new UsageError(`new users file ${path}: user ${i + 1} has no ${fields.id}`);
    }
    const text = (v: unknown) =>
      v === undefined || v === null || String(v).trim() === '' ? null : String(v);
    return { id: String(id).trim(), email: text(r[fields.email]), phone: text(r[fields.phone]) };
  });
}
