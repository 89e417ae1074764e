import type { RawFunction, SourceSchema } from './read-source.js';

/*
 * With text user ids, auth.uid() returns text: a function that policies call as `authorize('…', auth.uid())`
 * must take text at that position, or the policy no longer finds it. The positions are found in the
 * expressions the server printed (policies, views, defaults, checks), and the functions' argument lists are
 * rewritten there, with their signatures (for grants and comments).
 */

/** Splits `a, f(b, c), 'x,y'` at its top-level commas. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === quoted) quoted = null;
    } else if (ch === "'" || ch === '"') quoted = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

const UID_ARGUMENT = /^\(?\s*(?:select\s+)?auth\.uid\(\)(?:\s+as\s+uid)?\s*\)?$/i;
/** A column as pg_get_expr prints it in a policy or check: `account_id`, `invitations.account_id`. */
const COLUMN_ARGUMENT = /^(?:"?([\w$]+)"?\.)?"?([\w$]+)"?$/;

/** An expression the app passes values to its functions in, with the table whose columns it names. */
export interface AppExpression {
  text: string;
  /** The policy's or check's table: its bare column names are its columns. */
  table?: { oid: string; name: string };
  /** Where it is, for the report: `policy "x" on basejump.accounts`. */
  where?: string;
}

/** What a column passed as an argument is: a user id (text on the target), another uuid, or neither. */
export type ColumnKind = (tableOid: string, column: string) => 'user id' | 'uuid' | undefined;

export interface UserIdArguments {
  /** Function names (lower case, unqualified) with the argument positions that receive a user id. */
  positions: Map<string, Set<number>>;
  /** Positions that receive a user id in one call and another uuid in another: they cannot be both. */
  conflicts: string[];
}

/**
 * The positions at which the app passes its functions a user id, which is text on the target: auth.uid(),
 * or a user-id column of the expression's table (`basejump.has_role_on_account(account_id)` in a policy
 * on basejump.account_user when account_id is a user-id column). A position that receives a user id in
 * one call and a uuid column that stays uuid in another is a conflict.
 */
export function userIdArguments(
  expressions: readonly (string | AppExpression)[],
  columnKind: ColumnKind = () => undefined,
): UserIdArguments {
  const users = new Map<string, Map<number, string[]>>();
  const uuids = new Map<string, Map<number, string[]>>();
  const note = (into: typeof users, name: string, i: number, what: string) => {
    const at = into.get(name) ?? new Map<number, string[]>();
    at.set(i, [...(at.get(i) ?? []), what]);
    into.set(name, at);
  };
  for (const e of expressions) {
    const { text, table, where } = typeof e === 'string' ? { text: e } : e;
    for (const m of text.matchAll(/([\w$"]+)\s*\(/g)) {
      const open = m.index + m[0].length - 1;
      let depth = 0;
      let close = -1;
      for (let i = open; i < text.length && close < 0; i++) {
        if (text[i] === '(') depth++;
        else if (text[i] === ')' && --depth === 0) close = i;
      }
      if (close < 0) continue;
      const name = m[1]!.replace(/"/g, '').toLowerCase();
      splitTopLevel(text.slice(open + 1, close)).forEach((arg, i) => {
        if (UID_ARGUMENT.test(arg))
          return note(users, name, i, `${where ?? 'an expression'} passes auth.uid()`);
        const col = COLUMN_ARGUMENT.exec(arg);
        if (!col || !table || (col[1] !== undefined && col[1] !== table.name)) return;
        const kind = columnKind(table.oid, col[2]!);
        if (kind === 'user id') note(users, name, i, `${where ?? 'an expression'} passes user id ${col[2]}`);
        else if (kind === 'uuid')
          note(uuids, name, i, `${where ?? 'an expression'} passes uuid column ${col[2]}`);
      });
    }
  }
  const positions = new Map([...users].map(([name, at]) => [name, new Set(at.keys())]));
  const conflicts: string[] = [];
  for (const [name, at] of users)
    for (const [i, why] of at) {
      const other = uuids.get(name)?.get(i);
      if (other)
        conflicts.push(
          `${name}(): argument ${i + 1} is a user id (text on the target) where ${why[0]}, and a uuid where ${other[0]}: that column holds user ids too? add it to --user-columns; else give the function two versions by hand`,
        );
    }
  return { positions, conflicts };
}

/** Function names (lower case, unqualified) called with auth.uid() as an argument, with those positions. */
export const uidArgumentPositions = (expressions: readonly string[]): Map<string, Set<number>> =>
  userIdArguments(expressions).positions;

/** The expressions in which the app may pass user ids to its functions. */
export function appExpressions(source: SourceSchema): AppExpression[] {
  const tables = new Map(source.tables.map((t) => [t.oid, t]));
  const on = (oid: string) => {
    const t = tables.get(oid);
    return t ? { table: { oid, name: t.name }, at: `${t.schema}.${t.name}` } : { at: '?' };
  };
  return [
    ...source.policies.flatMap((p) =>
      [p.using_expr, p.check_expr].map((text) => ({
        text: text ?? '',
        table: on(p.table_oid).table,
        where: `policy "${p.name}" on ${on(p.table_oid).at}`,
      })),
    ),
    ...source.views.map((v) => ({ text: v.definition, where: `view ${v.schema}.${v.name}` })),
    ...source.columns.map((c) => ({
      text: c.default_expr ?? '',
      ...(c.generated ? { table: on(c.table_oid).table } : {}),
      where: `${c.generated ? 'generated column' : 'the default of'} ${on(c.table_oid).at}.${c.name}`,
    })),
    ...source.constraints
      .filter((c) => c.type === 'c')
      .map((c) => ({
        text: c.definition,
        table: on(c.table_oid).table,
        where: `check ${c.name} on ${on(c.table_oid).at}`,
      })),
  ];
}

export interface Retyped {
  /** The definition with the uuid parameters at those positions made text. */
  definition: string;
  /** The new signature (`public.authorize(public.app_permission,text)`). */
  signature: string;
  /** The parameters changed, for the report. */
  changed: string[];
}

/** Rewrites a function's uuid parameters at `positions` to text, or undefined when none is a uuid. */
export function retypeUidArguments(f: RawFunction, positions: Set<number>): Retyped | undefined {
  if (f.definition === null) return undefined;
  const args = splitTopLevel(f.arguments);
  const changed: string[] = [];
  const newArgs = args.map((arg, i) => {
    if (!positions.has(i) || !/(^|\s)uuid(\s+default\b.*)?$/i.test(arg)) return arg;
    changed.push(arg);
    return arg.replace(/(^|\s)uuid(\s+default\b.*)?$/i, '$1text$2');
  });
  const at = f.definition.indexOf(`(${f.arguments})`);
  if (changed.length === 0 || at < 0) return undefined;
  const open = f.signature.indexOf('(');
  const types = splitTopLevel(f.signature.slice(open + 1, -1));
  const newTypes = types.map((t, i) => (positions.has(i) && t === 'uuid' ? 'text' : t));
  return {
    definition: `${f.definition.slice(0, at)}(${newArgs.join(', ')})${f.definition.slice(at + f.arguments.length + 2)}`,
    signature: `${f.signature.slice(0, open)}(${newTypes.join(',')})`,
    changed,
  };
}
