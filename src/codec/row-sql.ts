import type { ColumnInfo, TableInfo, ValueEncoding } from '../catalog/types.js';
import { qualifiedName, quoteIdent, quoteLiteral } from '../pg/sql.js';

/*
 * The server builds each row's JSON text, one SQL expression per column applying the type rules, so the
 * client only moves bytes: no per-row JavaScript objects, and no value ever passes through a JS number
 * or Date. Every expression assumes the session settings of SESSION_SETTINGS_SQL (UTC, ISO dates,
 * extra_float_digits = 1, hex bytea, lc_monetary = C).
 */

type Scalar = Exclude<ValueEncoding, 'array'>;

/** JSON text of a non-null scalar value `v`. */
function scalarJson(v: string, encoding: Scalar): string {
  switch (encoding) {
    case 'number':
      return `${v}::text`;
    case 'bigint':
    case 'numeric':
      return `'"' || ${v}::text || '"'`;
    case 'money':
      return `'"' || ${v}::numeric::text || '"'`;
    case 'float':
    case 'boolean':
    case 'timestamp':
    case 'date':
      // to_json writes floats with float8out (shortest exact), quotes NaN and infinities, and dates
      // and timestamps in ISO 8601 with a T, keeping every microsecond and the BC suffix.
      return `to_json(${v})::text`;
    case 'timestamptz':
      return `replace(to_json(${v})::text, '+00:00', 'Z')`;
    case 'json':
    case 'jsonb':
      return `${v}::text`;
    case 'bytea':
      return `'"\\\\x' || encode(${v}, 'hex') || '"'`;
    case 'text':
      return `to_json(${v}::text)::text`;
  }
}

/**
 * Types whose text form never holds a character JSON must escape (quote, backslash, control characters):
 * their text is quoted as it is, which saves PostgreSQL an escaping pass per value (uuid: -40%).
 */
const PLAIN_TEXT_TYPES = new Set([
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

const plainText = (column: ColumnInfo) =>
  column.encoding === 'text' && PLAIN_TEXT_TYPES.has(column.type.replace(/\(\d+(,\d+)?\)/g, ''));

/** JSON text of a non-null array `v` whose elements are written by `element`. */
function arrayJson(v: string, element: Scalar): string {
  let json: string;
  switch (element) {
    case 'number':
      // Through int8[]: to_json writes oid elements as strings, int2/int4/int8 as numbers.
      json = `array_to_json(${v}::int8[])::text`;
      break;
    case 'float':
    case 'boolean':
    case 'timestamp':
    case 'date':
      json = `array_to_json(${v})::text`;
      break;
    case 'timestamptz':
      json = `replace(array_to_json(${v})::text, '+00:00', 'Z')`;
      break;
    case 'money':
      json = `array_to_json(${v}::numeric[]::text[])::text`;
      break;
    // json[] elements are written as strings holding their JSON text: as values, a JSON array element
    // could not be told apart from a second dimension.
    case 'bigint':
    case 'numeric':
    case 'bytea':
    case 'text':
    case 'json':
    case 'jsonb':
      json = `array_to_json(${v}::text[])::text`;
      break;
  }
  // JSON arrays cannot say that an array starts at another index than 1: such arrays (rare) are
  // written as their text form, "[0:2]={1,2,3}", which the importer reads back as it is.
  return `CASE WHEN coalesce(array_lower(${v}, 1), 1) = 1 AND (array_ndims(${v}) IS NULL OR array_ndims(${v}) = 1 OR array_dims(${v}) ~ '^(\\[1:[0-9]+\\])+$') THEN ${json} ELSE to_json(${v}::text)::text END`;
}

/**
 * SQL that gives a column's value. By default the column of row alias `t`; verify passes another
 * expression for user-id columns of the target (mapped back to the old ids).
 */
export type ValueSql = (column: ColumnInfo) => string | undefined;

/** JSON text of column `column` of row alias `t`, `null` for SQL NULL. */
export function columnJson(column: ColumnInfo, alias = 't', valueOf?: ValueSql): string {
  const v = valueOf?.(column) ?? `${alias}.${quoteIdent(column.name)}`;
  const json =
    column.encoding === 'array'
      ? arrayJson(v, column.elementEncoding ?? 'text')
      : plainText(column)
        ? `'"' || ${v}::text || '"'`
        : scalarJson(v, column.encoding);
  return `coalesce(${json}, 'null')`;
}

/**
 * Whether SQL NULL is written by leaving the key out: in json and jsonb columns `null` is a value of its
 * own (the JSON null), which must not be confused with SQL NULL.
 */
export const nullAsMissingKey = (column: ColumnInfo): boolean =>
  column.encoding === 'json' || column.encoding === 'jsonb';

/** SQL for one row's JSON object text: `'{"id":' || … || '}'`, keys in column order. */
export function rowJson(columns: readonly ColumnInfo[], alias = 't', valueOf?: ValueSql): string {
  if (columns.length === 0) return `'{}'`;
  const part = (c: ColumnInfo, prefix: string) => {
    const key = quoteLiteral(`${prefix}${JSON.stringify(c.name)}:`);
    if (!nullAsMissingKey(c)) return `${key} || ${columnJson(c, alias, valueOf)}`;
    const v = valueOf?.(c) ?? `${alias}.${quoteIdent(c.name)}`;
    return `CASE WHEN ${v} IS NULL THEN '' ELSE ${key} || ${v}::text END`;
  };
  if (!nullAsMissingKey(columns[0]!)) {
    return `${columns.map((c, i) => part(c, i === 0 ? '{' : ',')).join(' || ')} || '}'`;
  }
  // The first key may be left out: write every key with a comma, and drop the first comma.
  return `'{' || substr(${columns.map((c) => part(c, ',')).join(' || ')}, 2) || '}'`;
}

/**
 * The query that returns one text column, each row's JSON object. A partitioned table is read through
 * its parent (all partitions); an ordinary table with ONLY, so inheritance children are not read twice.
 */
export function exportQuery(
  table: Pick<TableInfo, 'schema' | 'name' | 'kind' | 'columns'>,
  where?: string,
): string {
  return `SELECT ${rowJson(table.columns)} FROM ${fromTable(table)}${where ? ` WHERE ${where}` : ''}`;
}

/** `FROM ONLY "schema"."table" t` (a partitioned table without ONLY: its rows are in its partitions). */
export const fromTable = (table: Pick<TableInfo, 'schema' | 'name' | 'kind'>): string =>
  `${table.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(table)} t`;

/** Exact row count, in the export's snapshot. */
export function countQuery(table: Pick<TableInfo, 'schema' | 'name' | 'kind'>): string {
  return `SELECT count(*)::int8 AS n FROM ${table.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(table)}`;
}
