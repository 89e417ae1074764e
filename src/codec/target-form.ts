import { quoteIdent } from '../pg/sql.js';
import type { EncodedColumn } from './encode-column.js';
import type { ValueSql } from './row-sql.js';
import { targetAccepts } from './type-compat.js';

/** A target column as the catalog reads it. */
export interface TargetColumn {
  name: string;
  type: string;
}

/**
 * How verify reads a target table so that it hashes like the export (the canonical form, ENCODING_RULES):
 * - `target`: the target's value of each column, cast back to the source type where the target's type is
 *   a widening that a cast undoes (numeric(16,8) → numeric(14,6), bigint → integer, text → varchar(20));
 * - `sourceAsTarget`: for widenings whose source text cannot be recovered (json → jsonb), the source's
 *   value of those columns in the target's type, so both sides are compared in the target's form; null
 *   when every column reads back exactly.
 * `problems` names the columns the target lacks or whose type does not take the export's values.
 */
export interface TargetForm {
  target: ValueSql;
  sourceAsTarget: ValueSql | null;
  /** The export's columns with the target's types: the shape of the files loaded as the target holds them. */
  asTargetTypes: { name: string; type: string }[];
  /**
   * SQL true for a target row holding a value the cast back changes (1.50000001 in numeric(16,8) for a
   * numeric(14,6) column): such a value is not the export's, though it reads back as one. Null when no
   * column is read back by a cast.
   */
  castLoses: string | null;
  problems: string[];
}

export function targetForm(
  columns: readonly EncodedColumn[],
  target: readonly TargetColumn[],
  /** Columns read another way (user ids mapped back to the old ids): not cast, nor checked for loss. */
  readElsewhere: (column: EncodedColumn) => boolean = () => false,
): TargetForm {
  const castBack = new Map<string, string>();
  const asTarget = new Map<string, string>();
  const problems: string[] = [];
  const asTargetTypes: { name: string; type: string }[] = [];
  const loses: string[] = [];
  for (const column of columns) {
    const there = target.find((c) => c.name === column.name);
    if (!there) {
      problems.push(`column ${JSON.stringify(column.name)} is missing in the target`);
      continue;
    }
    asTargetTypes.push({ name: column.name, type: there.type });
    const accepted = targetAccepts(column.type, there.type);
    if (!accepted.takes) {
      problems.push(
        `column ${JSON.stringify(column.name)} is ${there.type} in the target but ${column.type} in the export`,
      );
    } else if (accepted.verify === 'cast-back' && !readElsewhere(column)) {
      castBack.set(column.name, column.type);
      const v = `t.${quoteIdent(column.name)}`;
      loses.push(
        accepted.exactWhen === 'text'
          ? `((${v})::${column.type})::text IS DISTINCT FROM (${v})::text`
          : `((${v})::${column.type})::${there.type}::text IS DISTINCT FROM (${v})::text`,
      );
    } else if (accepted.verify === 'as-target') asTarget.set(column.name, there.type);
  }
  const cast = (types: Map<string, string>): ValueSql => {
    return (column) => {
      const type = types.get(column.name);
      return type === undefined ? undefined : `(t.${quoteIdent(column.name)})::${type}`;
    };
  };
  return {
    target: cast(castBack),
    sourceAsTarget: asTarget.size > 0 ? cast(asTarget) : null,
    asTargetTypes,
    castLoses: loses.length > 0 ? loses.join(' OR ') : null,
    problems,
  };
}

/** The first expression of several for a column (user-id mapping first, then the type's read-back). */
export const firstOf =
  (...sources: (ValueSql | undefined)[]): ValueSql =>
  (column) => {
    for (const source of sources) {
      const sql = source?.(column);
      if (sql !== undefined) return sql;
    }
    return undefined;
  };
