import type { RawColumn } from './read-source.js';

/*
 * Objects the target has already, compared with the source's: the same SHAPES_SQL read on both sides, a
 * table's columns as the plan will create them (user ids as text). `--if-not-exists` leaves identical
 * objects alone; one that differs stops the run, since what the plan creates on it (views, keys,
 * policies) was written for the source's shape.
 */

/** A row of SHAPES_SQL. */
export interface Shape {
  key: string;
  kind: string;
  /** A table's columns: [name, type, not null]. */
  columns: [string, string, boolean][] | null;
  shape: string | null;
}

export type Comparison =
  | { same: true }
  | { same: false; how: string }
  /** The source's shape is unknown (not read): taken as the same. */
  | { same: undefined };

/** The source's table columns as the plan creates them. */
export const plannedColumns = (
  columns: RawColumn[],
  typeOf: (c: RawColumn) => string,
): [string, string, boolean][] => columns.map((c) => [c.name, typeOf(c), c.not_null]);

export function compareShapes(source: Shape | undefined, target: Shape | undefined): Comparison {
  if (!source || !target) return { same: undefined };
  if (source.kind !== target.kind) return { same: false, how: `it is a ${target.kind} in the target` };
  if (source.columns && target.columns) {
    const how = columnDifferences(source.columns, target.columns);
    return how ? { same: false, how } : { same: true };
  }
  if (source.shape === target.shape) return { same: true };
  if (source.kind === 'enum')
    return {
      same: false,
      how: `labels ${target.shape ?? ''} in the target, ${source.shape ?? ''} in the source`,
    };
  return { same: false, how: `its definition differs from the source's` };
}

function columnDifferences(source: [string, string, boolean][], target: [string, string, boolean][]): string {
  const show = (c: [string, string, boolean]) => `${c[1]}${c[2] ? ' not null' : ''}`;
  const targetByName = new Map(target.map((c) => [c[0], c]));
  const sourceNames = new Set(source.map((c) => c[0]));
  const parts: string[] = [];
  const missing = source.filter((c) => !targetByName.has(c[0])).map((c) => c[0]);
  if (missing.length > 0) parts.push(`column(s) ${missing.join(', ')} missing`);
  const extra = target.filter((c) => !sourceNames.has(c[0])).map((c) => c[0]);
  if (extra.length > 0) parts.push(`column(s) ${extra.join(', ')} extra (not in the source)`);
  for (const c of source) {
    const t = targetByName.get(c[0]);
    if (t && show(t) !== show(c)) parts.push(`column ${c[0]} is ${show(t)} (the source's: ${show(c)})`);
  }
  return parts.join(', ');
}
