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

/** Function names (lower case, unqualified) called with auth.uid() as an argument, with those positions. */
export function uidArgumentPositions(expressions: readonly string[]): Map<string, Set<number>> {
  const found = new Map<string, Set<number>>();
  for (const text of expressions) {
    for (const m of text.matchAll(/([\w$"]+)\s*\(/g)) {
      const open = m.index + m[0].length - 1;
      let depth = 0;
      let close = -1;
      for (let i = open; i < text.length && close < 0; i++) {
        if (text[i] === '(') depth++;
        else if (text[i] === ')' && --depth === 0) close = i;
      }
      if (close < 0) continue;
      splitTopLevel(text.slice(open + 1, close)).forEach((arg, i) => {
        if (!UID_ARGUMENT.test(arg)) return;
        const name = m[1]!.replace(/"/g, '').toLowerCase();
        found.set(name, (found.get(name) ?? new Set()).add(i));
      });
    }
  }
  return found;
}

/** The expressions in which the app may pass auth.uid() to its functions. */
export function appExpressions(source: SourceSchema): string[] {
  return [
    ...source.policies.flatMap((p) => [p.using_expr ?? '', p.check_expr ?? '']),
    ...source.views.map((v) => v.definition),
    ...source.columns.map((c) => c.default_expr ?? ''),
    ...source.constraints.filter((c) => c.type === 'c').map((c) => c.definition),
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
