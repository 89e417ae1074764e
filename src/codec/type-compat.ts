import { ENCODING_RULES, type VerifyForm } from './encodings.js';

/**
 * Whether a target column of type `target` takes every value exported from a column of type `source`, and
 * how verify then reads it back: `same` (the same type and modifiers), `cast-back` (wider modifiers, or a
 * widening whose source text a cast back recovers: numeric(14,6) → numeric(16,8), integer → bigint,
 * varchar → text), or `as-target` (json → jsonb: compared in the target's form). A narrower modifier
 * (numeric(5,1) for numeric(10,2), varchar(10) for text, timestamp(0) for timestamp) would round or cut
 * values silently: not taken, and reported before a row is written. The widenings are ENCODING_RULES'.
 */
export type Acceptance = { takes: false } | { takes: true; verify: 'same' | VerifyForm; exactWhen?: 'text' };

export function targetAccepts(source: string, target: string): Acceptance {
  const s = parse(source);
  const t = parse(target);
  const no = { takes: false } as const;
  if (s.array !== t.array) return no;
  if (sameTypeName(s.base, t.base)) {
    if (!modifiersTake(s, t)) return no;
    const same = s.modifiers.join() === t.modifiers.join();
    return { takes: true, verify: same ? 'same' : 'cast-back' };
  }
  if (t.modifiers.length > 0 && !INTEGER_DIGITS[s.base]) return no;
  const widening = WIDENINGS.find((w) => w.from === s.base && w.to.includes(t.base));
  if (!widening || (t.modifiers.length > 0 && !numericHolds(s.base, t))) return no;
  return {
    takes: true,
    verify: widening.verify,
    ...(widening.exactWhen ? { exactWhen: widening.exactWhen } : {}),
  };
}

/** Whether `target` takes every value of `source` (see targetAccepts). */
export const typeTakes = (source: string, target: string): boolean => targetAccepts(source, target).takes;

const WIDENINGS = Object.values(ENCODING_RULES).flatMap((rule) => rule.widenings);

/** Decimal digits of the integer types' largest values. */
const INTEGER_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };

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

/**
 * Whether two type names (without modifiers) name the same type. Catalogs are read with an empty
 * search_path, so names outside pg_catalog come qualified (`extensions.citext`); exports written before
 * that (supamigrate 0.2 and earlier) name a type the exporting role's path found without its schema
 * (`citext`), which is then taken for the target's type of that name in any schema.
 */
function sameTypeName(a: string, b: string): boolean {
  if (a === b) return true;
  const unqualified = (name: string) => name.replace(/^(?:"(?:[^"]|"")+"|[^".]+)\./, '');
  const [ua, ub] = [unqualified(a), unqualified(b)];
  return (ua === a) !== (ub === b) && ua === ub;
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
  return p - s >= (INTEGER_DIGITS[source] ?? Infinity);
}
