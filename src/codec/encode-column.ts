import type { ColumnInfo, TableInfo } from '../catalog/types.js';
import { scalarEncodingOf, VECTOR_TYPES, type ScalarEncoding, type ValueEncoding } from './encodings.js';

/** How a column is written in the export files: what metadata.json records for each column. */
export interface Encoding {
  encoding: ValueEncoding;
  /** For arrays: how each element is written. */
  elementEncoding?: ScalarEncoding;
  /** For arrays whose element type separates elements with another character than a comma (box: `;`). */
  elementDelimiter?: string;
}

/** A column as the export files and metadata.json describe it. */
export type EncodedColumn = Omit<ColumnInfo, 'valueType'> & Encoding;

/** A table whose columns carry their encodings: what export writes and import and verify read. */
export type EncodedTable = Omit<TableInfo, 'columns'> & { columns: EncodedColumn[] };

/** Decides how a column of the catalog is written (README: type rules). */
export function encodingOf(column: Pick<ColumnInfo, 'valueType'>): Encoding {
  const { base, element } = column.valueType;
  if (element && !VECTOR_TYPES.has(base)) {
    return {
      encoding: 'array',
      elementEncoding: scalarEncodingOf(element.base),
      ...(element.delimiter !== ',' ? { elementDelimiter: element.delimiter } : {}),
    };
  }
  return { encoding: scalarEncodingOf(base) };
}

export function encodeColumn({ valueType, ...column }: ColumnInfo): EncodedColumn {
  return { ...column, ...encodingOf({ valueType }) };
}

export function encodeTable(table: TableInfo): EncodedTable {
  return { ...table, columns: table.columns.map(encodeColumn) };
}
