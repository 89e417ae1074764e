/**
 * Whether a target column of type `target` takes every value exported from a column of type `source`:
 * the same type (typmods aside), or a widening (smallint → integer → bigint → numeric, real → double,
 * varchar/char → text, json ↔ jsonb). Anything else is reported before a row is written.
 */
export function typeTakes(source: string, target: string): boolean {
  const s = normalize(source);
  const t = normalize(target);
  if (s === t) return true;
  if (s.endsWith('[]') !== t.endsWith('[]')) return false;
  const [se, te] = [s.replace(/\[\]$/, ''), t.replace(/\[\]$/, '')];
  return WIDENINGS.some(([from, to]) => from === se && to.includes(te));
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
  // A column that held Supabase user ids may become text to hold another provider's ids.
  ['uuid', ['text', 'character varying']],
  ['jsonb', ['json']],
];

/** `numeric(14,6)` → `numeric`, `character varying(255)[]` → `character varying[]`, `timestamp(3) with time zone` → … */
function normalize(type: string): string {
  return type
    .replace(/\(\d+(,\s*\d+)?\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
