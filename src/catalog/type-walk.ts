import type { ValueType } from './types.js';

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
  text_cast: boolean;
}

/**
 * What a column of the given type holds: domains count as their base type, arrays (and domains over
 * arrays) also name their element's base type.
 */
export function valueTypeOf(typeOid: string, types: ReadonlyMap<string, RawTypeRow>): ValueType {
  const base = baseType(typeOid, types);
  const qualified = (t: RawTypeRow) => `${t.schema}.${t.name}`;
  const textCast = (t: RawTypeRow) => (t.text_cast ? { textCast: true as const } : {});
  if (!base.is_array) return { base: qualified(base), ...textCast(base) };
  const element = baseType(base.elem_oid, types);
  return {
    base: qualified(base),
    element: {
      base: qualified(element),
      delimiter: types.get(base.elem_oid)?.delimiter ?? ',',
      ...textCast(element),
    },
    ...textCast(base),
  };
}

function baseType(oid: string, types: ReadonlyMap<string, RawTypeRow>): RawTypeRow {
  let type = types.get(oid);
  for (let depth = 0; type && type.typtype === 'd' && depth < 100; depth++) type = types.get(type.base_oid);
  if (!type) throw new Error(`type ${oid} is missing from the catalog`);
  return type;
}

/** The type oids still to load so that `valueTypeOf` can walk from `oids` to their base types. */
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
