import type { TableInfo } from '../catalog/types.js';
import type { EncodedColumn } from './encode-column.js';
import { ENCODING_RULES, PLAIN_TEXT_TYPES, type ScalarEncoding } from './encodings.js';
import { qualifiedName, quoteIdent, quoteLiteral } from '../pg/sql.js';
import type { ColumnForm } from './text-to-json.js';

/*
 * The server builds each row's JSON text, one SQL expression per column applying the type rules, so the
 * client only moves bytes: no per-row JavaScript objects, and no value ever passes through a JS number
 * or Date. Every expression assumes the session settings of SESSION_SETTINGS_SQL (UTC, ISO dates,
 * extra_float_digits = 1, hex bytea, lc_monetary = C).
 */

const plainText = (column: EncodedColumn) =>
  column.encoding === 'text' && PLAIN_TEXT_TYPES.has(column.type.replace(/\(\d+(,\d+)?\)/g, ''));

/** JSON text of a non-null array `v` whose elements are written by `element`. */
function arrayJson(v: string, element: ScalarEncoding): string {
  const json = ENCODING_RULES[element].arrayJson(v);
  // JSON arrays cannot say that an array starts at another index than 1: such arrays (rare) are
  // written as their text form, "[0:2]={1,2,3}", which the importer reads back as it is.
  return `CASE WHEN coalesce(array_lower(${v}, 1), 1) = 1 AND (array_ndims(${v}) IS NULL OR array_ndims(${v}) = 1 OR array_dims(${v}) ~ '^(\\[1:[0-9]+\\])+$') THEN ${json} ELSE to_json(${v}::text)::text END`;
}

/**
 * SQL that gives a column's value. By default the column of row alias `t`; verify passes another
 * expression for user-id columns of the target (mapped back to the old ids).
 */
export type ValueSql = (column: EncodedColumn) => string | undefined;

/** JSON text of column `column` of row alias `t`, `null` for SQL NULL. */
export function columnJson(column: EncodedColumn, alias = 't', valueOf?: ValueSql): string {
  const v = valueOf?.(column) ?? `${alias}.${quoteIdent(column.name)}`;
  const json =
    column.encoding === 'array'
      ? arrayJson(v, column.elementEncoding ?? 'text')
      : plainText(column)
        ? `'"' || ${v}::text || '"'`
        : ENCODING_RULES[column.encoding].json(v);
  return `coalesce(${json}, 'null')`;
}

/**
 * Whether SQL NULL is written by leaving the key out: in json and jsonb columns `null` is a value of its
 * own (the JSON null), which must not be confused with SQL NULL.
 */
export const nullAsMissingKey = (column: Pick<EncodedColumn, 'encoding'>): boolean =>
  column.encoding !== 'array' && ENCODING_RULES[column.encoding].copy === 'json-text';

/** SQL for one row's JSON object text: `'{"id":' || … || '}'`, keys in column order. */
export function rowJson(columns: readonly EncodedColumn[], alias = 't', valueOf?: ValueSql): string {
  if (columns.length === 0) return `'{}'`;
  const part = (c: EncodedColumn, prefix: string) => {
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
  table: Pick<TableInfo, 'schema' | 'name' | 'kind'> & { columns: readonly EncodedColumn[] },
  where?: string,
): string {
  return `SELECT ${rowJson(table.columns)} FROM ${fromTable(table)}${where ? ` WHERE ${where}` : ''}`;
}

/**
 * The query whose COPY text the client turns into the JSON rows (src/export/copy-text-rows.ts): each column
 * as it is, for the server to print with its output function, except those the server must build the JSON
 * of (`server`), whose JSON text is selected instead.
 */
export function columnsQuery(
  table: Pick<TableInfo, 'schema' | 'name' | 'kind'> & { columns: readonly EncodedColumn[] },
  forms: readonly ColumnForm[],
  where?: string,
): string {
  const list = table.columns.map((c, i) =>
    forms[i] === 'server' ? columnJson(c) : `t.${quoteIdent(c.name)}`,
  );
  return `SELECT ${list.join(', ')} FROM ${fromTable(table)}${where ? ` WHERE ${where}` : ''}`;
}

/** `FROM ONLY "schema"."table" t` (a partitioned table without ONLY: its rows are in its partitions). */
export const fromTable = (table: Pick<TableInfo, 'schema' | 'name' | 'kind'>): string =>
  `${table.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(table)} t`;

/** Exact row count, in the export's snapshot. */
export function countQuery(table: Pick<TableInfo, 'schema' | 'name' | 'kind'>): string {
  return `SELECT count(*)::int8 AS n FROM ${table.kind === 'partitioned' ? '' : 'ONLY '}${qualifiedName(table)}`;
}
