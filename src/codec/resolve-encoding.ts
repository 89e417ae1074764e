import type { ValueEncoding } from '../catalog/types.js';

/** A row of TYPES_SQL. */
export interface RawTypeRow {
  oid: string;
  schema: string;
  name: string;
  typtype: string;
  base_oid: string;
  elem_oid: string;
  category: string;
  delimiter: string;
  is_array: boolean;
}

/** Built-in types with a rule of their own; every other type is written as its text form (`text`). */
const SCALAR_ENCODINGS: Record<string, Exclude<ValueEncoding, 'array'>> = {
  int2: 'number',
  int4: 'number',
  oid: 'number',
  int8: 'bigint',
  numeric: 'numeric',
  money: 'money',
  float4: 'float',
  float8: 'float',
  bool: 'boolean',
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  date: 'date',
  json: 'json',
  jsonb: 'jsonb',
  bytea: 'bytea',
};

export interface ResolvedEncoding {
  encoding: ValueEncoding;
  elementEncoding?: Exclude<ValueEncoding, 'array'>;
  /** The element type's array delimiter when it is not a comma (`box` uses `;`). */
  elementDelimiter?: string;
}

/** Catalog types that subscript like arrays but print as plain text ("1 2 3"): written as text. */
const VECTOR_TYPES = ['int2vector', 'oidvector'];

/**
 * Decides how a column of the given type is written: domains count as their base type, arrays (and
 * domains over arrays) by their element's base type.
 */
export function resolveEncoding(typeOid: string, types: ReadonlyMap<string, RawTypeRow>): ResolvedEncoding {
  const base = baseType(typeOid, types);
  if (base.is_array && !(base.schema === 'pg_catalog' && VECTOR_TYPES.includes(base.name))) {
    const element = baseType(base.elem_oid, types);
    const delimiter = types.get(base.elem_oid)?.delimiter ?? ',';
    return {
      encoding: 'array',
      elementEncoding: scalarEncoding(element),
      ...(delimiter !== ',' ? { elementDelimiter: delimiter } : {}),
    };
  }
  return { encoding: scalarEncoding(base) };
}

function baseType(oid: string, types: ReadonlyMap<string, RawTypeRow>): RawTypeRow {
  let type = types.get(oid);
  for (let depth = 0; type && type.typtype === 'd' && depth < 100; depth++) type = types.get(type.base_oid);
  if (!type) throw new Error(`type ${oid} is missing from the catalog`);
  return type;
}

function scalarEncoding(type: RawTypeRow): Exclude<ValueEncoding, 'array'> {
  if (type.schema !== 'pg_catalog') return 'text';
  return SCALAR_ENCODINGS[type.name] ?? 'text';
}

/** The type oids still to load so that `resolveEncoding` can walk from `oids` to their base types. */
export function missingTypeOids(oids: Iterable<string>, types: ReadonlyMap<string, RawTypeRow>): string[] {
  const missing = new Set<string>();
  for (const oid of oids) {
    const type = types.get(oid);
    if (!type) missing.add(oid);
    else {
      if (type.typtype === 'd' && !types.has(type.base_oid)) missing.add(type.base_oid);
      if (type.is_array && !types.has(type.elem_oid)) missing.add(type.elem_oid);
    }
  }
  return [...missing];
}
