/**
 * What a column's values are, with domains resolved to their base type: the codec (src/codec) decides
 * from this how they are written. Names are `schema.name` as in pg_catalog (`pg_catalog.int4`).
 */
export interface ValueType {
  /** The base type (domains resolved), e.g. `pg_catalog.numeric`, `public.mood`, `pg_catalog._text`. */
  base: string;
  /** For array types (and domains over them): the element's base type, and its array delimiter. */
  element?: { base: string; delimiter: string; textCast?: true };
  /** `::text` of the base type is a cast of its own, not its output function's text (inet, character). */
  textCast?: true;
}

export interface ColumnInfo {
  name: string;
  /** The declared type as `format_type` prints it, e.g. `numeric(14,6)`, `public.reading_kind[]`. */
  type: string;
  valueType: ValueType;
  nullable: boolean;
  /** `stored` for `GENERATED ALWAYS AS (…) STORED` columns: the target computes them, import skips them. */
  generated: 'stored' | null;
  /** `always` or `by default` for identity columns. */
  identity: 'always' | 'by default' | null;
  hasDefault: boolean;
}

export interface ForeignKey {
  name: string;
  columns: string[];
  references: { schema: string; table: string; columns: string[] };
  deferrable: boolean;
}

export interface OwnedSequence {
  /** The sequence, e.g. `public.devices_id_seq`: owned by the column, or called by its default. */
  schema: string;
  name: string;
  column: string;
  /** At export: the value the sequence last handed out in the source (null if never used or unreadable). */
  lastValue?: string | null;
}

export interface TableInfo {
  oid: number;
  schema: string;
  name: string;
  kind: 'table' | 'partitioned';
  /** `reltuples`: for progress estimates only, never for counts. -1 when never analysed. */
  estimatedRows: number;
  columns: ColumnInfo[];
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  ownedSequences: OwnedSequence[];
  rowLevelSecurity: boolean;
}

export interface TableRef {
  schema: string;
  name: string;
}
