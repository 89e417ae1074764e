/*
 * The type rules, in one table. For each value encoding: the built-in types written with it, the SQL that
 * writes a value (and an array of values) as JSON text, how the importer reads the JSON back into COPY
 * text, which target types accept it, and how verify reads a target column of such a type back into the
 * same canonical form. Every other module (export SQL, import decoder and pre-flight, verify checksums)
 * derives from this table; the README's "type rules" section describes it for users.
 *
 * Every SQL expression assumes the session settings of SESSION_SETTINGS_SQL (src/pg/connect.ts): UTC,
 * ISO dates, extra_float_digits = 1, hex bytea, lc_monetary = C.
 */

export const VALUE_ENCODINGS = [
  'number', // int2, int4, oid: JSON number
  'bigint', // int8: string of digits
  'numeric', // numeric: string with the exact digits, "NaN", "Infinity", "-Infinity"
  'money', // money: string with the exact digits (locale-free)
  'float', // float4, float8: JSON number with the shortest exact digits, or "NaN"/"Infinity"/"-Infinity"
  'boolean',
  'timestamptz', // "2025-01-23T16:51:17.123456Z", "… BC", "infinity", "-infinity"
  'timestamp', // "2025-01-23T16:51:17.123456"
  'date', // "2025-01-23"
  'json', // the JSON text itself, byte for byte
  'jsonb', // the JSON value itself
  'bytea', // "\\x0a0b…": PostgreSQL's hex form
  'text', // string: PostgreSQL's text form of the value
  'array', // JSON array, elements by `elementEncoding`; a string (text form) when a lower bound is not 1
] as const;

export type ValueEncoding = (typeof VALUE_ENCODINGS)[number];
export type ScalarEncoding = Exclude<ValueEncoding, 'array'>;

/**
 * How verify reads a target column whose type differs from the source's (an accepted widening):
 * `cast-back` casts the target value to the source type, which gives back the source's exact text
 * (numeric(16,8) → numeric(14,6), bigint → integer); `as-target` is for widenings whose source text
 * cannot be recovered (json → jsonb normalises whitespace and key order): the source and the files are
 * then compared in the target's form instead.
 */
export type VerifyForm = 'cast-back' | 'as-target';

/** A widening: a source type (as format_type prints it, without modifiers) and the target types taking it. */
export interface Widening {
  from: string;
  to: readonly string[];
  verify: VerifyForm;
  /**
   * How verify tells a target value the source type could not hold (changed after the import): by default
   * the value must survive a cast to the source type and back unchanged; `text` compares the value's text
   * with its text cast back (a double holding a real's shortest digits is not the real's exact binary).
   */
  exactWhen?: 'text';
}

/**
 * The JSON of a value from its text form (what COPY and the output function print): `raw` the text itself
 * (a number, or json's own text), `string` a JSON string of it, `float` raw but NaN and the infinities
 * quoted, `boolean` t/f as true/false, `timestamp` quoted with a T between date and time, `timestamptz` the
 * same with the UTC offset +00 written Z.
 */
export type TextForm = 'raw' | 'string' | 'float' | 'boolean' | 'timestamp' | 'timestamptz';

export interface EncodingRule {
  /** Built-in types (pg_catalog names) whose values are written this way; other types default to text. */
  types: readonly string[];
  /** JSON text of a non-null value `v` (an SQL expression). */
  json: (v: string) => string;
  /** JSON text of a non-null one-dimensional-or-more array `v` of such values, elements in JSON form. */
  arrayJson: (v: string) => string;
  /**
   * How the importer reads the value: `token` copies a JSON number or literal's bytes, or a string's
   * content; `json-text` copies the JSON text itself (`null` included: SQL NULL leaves the key out).
   */
  copy: 'token' | 'json-text';
  /**
   * How the exporter builds the JSON from the value's COPY text form on the client (src/codec/text-to-json.ts),
   * giving the same bytes as `json`; null: the server builds it with `json`. `element`: the same for one
   * element of an array, the bytes of `arrayJson`.
   */
  fromText: { value: TextForm | null; element: TextForm | null };
  /** Target types, other than the source type itself with the same or wider modifiers, that take it. */
  widenings: readonly Widening[];
}

/** Elements written as strings holding their text form (what a JSON number or value could not keep). */
const textElements = (v: string) => `array_to_json(${v}::text[])::text`;
/** to_json writes floats with float8out (shortest exact), quotes NaN and infinities, and dates and
 * timestamps in ISO 8601 with a T, keeping every microsecond and the BC suffix. */
const toJson = (v: string) => `to_json(${v})::text`;
const quoted = (v: string) => `'"' || ${v}::text || '"'`;

export const ENCODING_RULES: Record<ScalarEncoding, EncodingRule> = {
  number: {
    types: ['int2', 'int4', 'oid'],
    json: (v) => `${v}::text`,
    // Through int8[]: to_json writes oid elements as strings, int2/int4/int8 as numbers.
    arrayJson: (v) => `array_to_json(${v}::int8[])::text`,
    copy: 'token',
    fromText: { value: 'raw', element: 'raw' },
    widenings: [
      {
        from: 'smallint',
        to: ['integer', 'bigint', 'numeric', 'real', 'double precision'],
        verify: 'cast-back',
      },
      { from: 'integer', to: ['bigint', 'numeric', 'double precision'], verify: 'cast-back' },
    ],
  },
  bigint: {
    types: ['int8'],
    json: quoted,
    arrayJson: textElements,
    copy: 'token',
    fromText: { value: 'string', element: 'string' },
    widenings: [{ from: 'bigint', to: ['numeric'], verify: 'cast-back' }],
  },
  numeric: {
    types: ['numeric'],
    json: quoted,
    arrayJson: textElements,
    copy: 'token',
    fromText: { value: 'string', element: 'string' },
    widenings: [],
  },
  money: {
    types: ['money'],
    json: (v) => `'"' || ${v}::numeric::text || '"'`,
    arrayJson: (v) => `array_to_json(${v}::numeric[]::text[])::text`,
    copy: 'token',
    fromText: { value: null, element: null },
    widenings: [],
  },
  float: {
    types: ['float4', 'float8'],
    json: toJson,
    arrayJson: (v) => `array_to_json(${v})::text`,
    copy: 'token',
    fromText: { value: 'float', element: 'float' },
    widenings: [{ from: 'real', to: ['double precision'], verify: 'cast-back', exactWhen: 'text' }],
  },
  boolean: {
    types: ['bool'],
    json: toJson,
    arrayJson: (v) => `array_to_json(${v})::text`,
    copy: 'token',
    fromText: { value: 'boolean', element: 'boolean' },
    widenings: [],
  },
  timestamptz: {
    types: ['timestamptz'],
    json: (v) => `replace(to_json(${v})::text, '+00:00', 'Z')`,
    arrayJson: (v) => `replace(array_to_json(${v})::text, '+00:00', 'Z')`,
    copy: 'token',
    fromText: { value: 'timestamptz', element: 'timestamptz' },
    widenings: [],
  },
  timestamp: {
    types: ['timestamp'],
    json: toJson,
    arrayJson: (v) => `array_to_json(${v})::text`,
    copy: 'token',
    fromText: { value: 'timestamp', element: 'timestamp' },
    widenings: [],
  },
  date: {
    types: ['date'],
    json: toJson,
    arrayJson: (v) => `array_to_json(${v})::text`,
    copy: 'token',
    fromText: { value: 'string', element: 'string' },
    widenings: [],
  },
  json: {
    types: ['json'],
    json: (v) => `${v}::text`,
    // json[] elements are written as strings holding their JSON text: as values, a JSON array element
    // could not be told apart from a second dimension.
    arrayJson: textElements,
    copy: 'json-text',
    fromText: { value: 'raw', element: 'string' },
    widenings: [{ from: 'json', to: ['jsonb'], verify: 'as-target' }],
  },
  jsonb: {
    types: ['jsonb'],
    json: (v) => `${v}::text`,
    arrayJson: textElements,
    copy: 'json-text',
    // json keeps the jsonb text exactly; read back as jsonb it is the same value and the same text.
    fromText: { value: 'raw', element: 'string' },
    widenings: [{ from: 'jsonb', to: ['json'], verify: 'cast-back' }],
  },
  bytea: {
    types: ['bytea'],
    json: (v) => `'"\\\\x' || encode(${v}, 'hex') || '"'`,
    arrayJson: textElements,
    copy: 'token',
    fromText: { value: 'string', element: 'string' },
    widenings: [],
  },
  text: {
    types: [],
    json: (v) => `to_json(${v}::text)::text`,
    arrayJson: textElements,
    copy: 'token',
    fromText: { value: 'string', element: 'string' },
    widenings: [
      { from: 'character varying', to: ['text'], verify: 'cast-back' },
      { from: 'character', to: ['text', 'character varying'], verify: 'cast-back' },
      { from: 'text', to: ['character varying'], verify: 'cast-back' },
      // A column that held Supabase user ids may become text to hold another provider's ids.
      { from: 'uuid', to: ['text', 'character varying'], verify: 'cast-back' },
    ],
  },
};

/**
 * Text-encoded types whose text form never holds a character JSON must escape (quote, backslash, control
 * characters): their text is quoted as it is, which saves PostgreSQL an escaping pass per value (uuid: -40%).
 */
export const PLAIN_TEXT_TYPES: ReadonlySet<string> = new Set([
  'uuid',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'interval',
  'time without time zone',
  'time with time zone',
  'bit',
  'bit varying',
  'pg_lsn',
  'point',
  'line',
  'lseg',
  'box',
  'path',
  'polygon',
  'circle',
  'tid',
  'xid',
  'xid8',
  'cid',
]);

/** Catalog types that subscript like arrays but print as plain text ("1 2 3"): written as text. */
export const VECTOR_TYPES: ReadonlySet<string> = new Set(['pg_catalog.int2vector', 'pg_catalog.oidvector']);

/** The encoding of a built-in or other base type (`pg_catalog.int4` → number; `public.mood` → text). */
export function scalarEncodingOf(base: string): ScalarEncoding {
  const [schema, name] = splitQualified(base);
  if (schema !== 'pg_catalog') return 'text';
  for (const [encoding, rule] of Object.entries(ENCODING_RULES) as [ScalarEncoding, EncodingRule][]) {
    if (rule.types.includes(name)) return encoding;
  }
  return 'text';
}

function splitQualified(name: string): [string, string] {
  const dot = name.indexOf('.');
  return dot < 0 ? ['pg_catalog', name] : [name.slice(0, dot), name.slice(dot + 1)];
}
