/**
 * Whether a target column of type `target` takes every value exported from a column of type `source`:
 * the same type with the same or wider modifiers, or a widening (smallint → integer → bigint → numeric,
 * real → double, varchar/char → text, json ↔ jsonb, uuid → text). A narrower modifier (numeric(5,1) for
 * numeric(10,2), varchar(10) for text, timestamp(0) for timestamp) would round or cut values silently, so
 * it is reported before a row is written.
 */
export function typeTakes(source: string, target: string): boolean {
  const s = parse(source);
  const t = parse(target);
  if (s.array !== t.array) return false;
  if (s.base === t.base) return modifiersTake(s, t);
  if (t.modifiers.length > 0 && !(s.base === 'integer' || s.base === 'smallint' || s.base === 'bigint'))
    return false;
  return (
    WIDENINGS.some(([from, to]) => from === s.base && to.includes(t.base)) &&
    (t.modifiers.length === 0 || numericHolds(s.base, t))
  );
}

interface ParsedType {
  base: string;
  modifiers: number[];
  array: boolean;
}

/** `numeric(14,6)` → numeric [14, 6]; `character varying(255)[]` → character varying [255], array. */
function parse(type: string): ParsedType {
  const modifiers = [...(type.match(/\(([\d,\s]+)\)/)?.[1]?.split(',') ?? [])].map((n) => Number(n.trim()));
  const base = type
    .replace(/\(\d+(,\s*\d+)?\)/g, '')
    .replace(/\[\]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return { base, modifiers, array: type.includes('[]') };
}

/** Time types default to 6 fractional digits; others are unbounded without a modifier. */
const DEFAULT_PRECISION: Record<string, number> = {
  'timestamp without time zone': 6,
  'timestamp with time zone': 6,
  'time without time zone': 6,
  'time with time zone': 6,
  interval: 6,
};

function modifiersTake(s: ParsedType, t: ParsedType): boolean {
  if (t.modifiers.length === 0) return true;
  const fallback = DEFAULT_PRECISION[s.base];
  const sm = s.modifiers.length > 0 ? s.modifiers : fallback !== undefined ? [fallback] : [];
  if (sm.length === 0) return false; // unbounded into bounded
  if (s.base === 'numeric') {
    const [sp, ss = 0] = sm as [number, number?];
    const [tp, ts = 0] = t.modifiers as [number, number?];
    return ts >= ss && tp - ts >= sp - ss;
  }
  return t.modifiers.every((m, i) => m >= (sm[i] ?? Infinity));
}

/** An integer column into numeric(p,s): p - s digits must hold the integer type's largest value. */
function numericHolds(source: string, t: ParsedType): boolean {
  if (t.base !== 'numeric') return false;
  const [p, s = 0] = t.modifiers as [number, number?];
  const digits = { smallint: 5, integer: 10, bigint: 19 }[source] ?? Infinity;
  return p - s >= digits;
}

const WIDENINGS: [string, string[]][] = [
  ['smallint', ['integer', 'bigint', 'numeric', 'real', 'double precision']],
  ['integer', ['bigint', 'numeric', 'double precision']],
  ['bigint', ['numeric']],
  ['real', ['double precision']],
  ['character varying', ['text']],
  ['character', ['text', 'character varying']],
  ['text', ['character varying']],
  ['json', ['jsonb']],
  ['jsonb', ['json']],
  // A column that held Supabase user ids may become text to hold another provider's ids.
  ['uuid', ['text', 'character varying']],
];
