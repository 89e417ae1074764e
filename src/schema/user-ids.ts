import { UsageError } from '../errors.js';
import type { RawColumn, RawFunction, SourceSchema } from './read-source.js';
import { splitTopLevel } from './uid-arguments.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const UID_CALL = /\bauth\.uid\(\)/;
/** `col = auth.uid()`, `auth.uid() = col`, also with pg_get_expr's `( SELECT auth.uid() AS uid)`. */
const COMPARED_WITH_UID =
  /"?(\w+)"?\s*=\s*\(?\s*(?:select\s+)?auth\.uid\(\)|auth\.uid\(\)(?:\s+as\s+uid\))?\s*=\s*"?(\w+)"?/gi;

/** Whether a user map's new ids all are uuids (then user-id columns keep their type). */
export const allUuids = (ids: readonly string[]) => ids.every((id) => UUID.test(id));

/** `table_oid/column`: how a column is named inside the user-id set. */
export const columnKey = (tableOid: string, column: string) => `${tableOid}/${column}`;

/**
 * The user-id columns that become text: those with a foreign key into auth.users(id), those named
 * (schema.table.column, or table.column in public), and, until nothing changes, those whose foreign key
 * points at a user-id column (profiles.id → auth.users, then posts.author_id → profiles.id).
 */
export function userIdColumns(source: SourceSchema, named: readonly string[]): Set<string> {
  const set = new Set<string>();
  const problems: string[] = [];
  for (const arg of named) {
    const parts = arg.split('.');
    const [schema, table, column] =
      parts.length === 3 ? parts : parts.length === 2 ? ['public', ...parts] : [];
    const t = source.tables.find((x) => x.schema === schema && x.name === table);
    if (!t || !source.columns.some((c) => c.table_oid === t.oid && c.name === column)) {
      problems.push(`--user-columns ${arg}: no such column in the source's application schemas`);
    } else set.add(columnKey(t.oid, column!));
  }
  if (problems.length > 0) throw new UsageError(problems);
  // Columns that take auth.uid() as their default, or that a policy compares with it, hold user ids too.
  for (const c of source.columns)
    if (c.default_expr && UID_CALL.test(c.default_expr) && /\buuid\b/.test(c.type))
      set.add(columnKey(c.table_oid, c.name));
  for (const p of source.policies) {
    for (const expr of [p.using_expr, p.check_expr]) {
      for (const m of (expr ?? '').matchAll(COMPARED_WITH_UID)) {
        const name = m[1] ?? m[2];
        const c = source.columns.find(
          (x) => x.table_oid === p.table_oid && x.name === name && /\buuid\b/.test(x.type),
        );
        if (c) set.add(columnKey(c.table_oid, c.name));
      }
    }
  }
  const keyOf = (schema: string | null, table: string | null) =>
    source.tables.find((t) => t.schema === schema && t.name === table)?.oid;
  for (let changed = true; changed;) {
    changed = false;
    for (const fk of source.constraints.filter((c) => c.type === 'f')) {
      const refOid = keyOf(fk.ref_schema, fk.ref_table);
      fk.columns.forEach((column, i) => {
        const into =
          (fk.ref_schema === 'auth' && fk.ref_table === 'users' && fk.ref_columns[i] === 'id') ||
          (refOid !== undefined && set.has(columnKey(refOid, fk.ref_columns[i]!)));
        const key = columnKey(fk.table_oid, column);
        if (into && !set.has(key)) {
          set.add(key);
          changed = true;
        }
      });
    }
  }
  // A partition's columns are its parent's.
  for (const t of source.tables.filter((x) => x.partition_of)) {
    const parent = source.tables.find((p) => `${quote(p.schema)}.${quote(p.name)}` === t.partition_of);
    if (!parent) continue;
    for (const c of source.columns.filter((x) => x.table_oid === t.oid))
      if (set.has(columnKey(parent.oid, c.name))) set.add(columnKey(t.oid, c.name));
  }
  return set;
}

const quote = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);

/** The type a user-id column gets: text (text[] for an array of ids). */
export const textUserIdType = (c: RawColumn) => (c.is_array || c.type.endsWith('[]') ? 'text[]' : 'text');

/**
 * Functions whose signatures still take or return uuid (parameters not made text: `retyped` has those that
 * were, by oid), or that call auth.uid() (it returns text now): what to review, and why.
 */
export function functionsToReview(
  functions: RawFunction[],
  retyped: Map<string, string[]> = new Map(),
  signature: (old: string) => string = (old) => old,
): string[] {
  return functions.flatMap((f) => {
    const reasons: string[] = [];
    const changed = retyped.get(f.oid) ?? [];
    const uuids = splitTopLevel(f.arguments)
      .filter((a) => /(^|\s)uuid(\s+default\b.*)?$/i.test(a) && !changed.includes(a))
      .map((a) => a.replace(/\s+default\b.*$/i, ''));
    if (uuids.length > 0)
      reasons.push(
        `still takes uuid (${uuids.join(', ')}): a call passing it a user id (text now) fails; if it is one, change the parameter to text by hand (create or replace the function after this step)`,
      );
    if (/\buuid\b/.test(f.result ?? ''))
      reasons.push(
        'still returns uuid: if that is a user id (text now), returning one fails; change the return type to text by hand',
      );
    if (/\bauth\.uid\s*\(/i.test(f.body)) reasons.push('it calls auth.uid(), which returns text now');
    return reasons.length > 0 ? [`${signature(f.signature)}: ${reasons.join('; ')}`] : [];
  });
}
