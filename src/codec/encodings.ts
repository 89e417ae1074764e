/**
 * How a column's values are written in the export files (the type rules in the README). The importer
 * and the verifier read this from metadata.json, so they never need the source database to decode a file.
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
