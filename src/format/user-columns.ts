import { UsageError } from '../errors.js';
import { displayName } from '../pg/sql.js';
import type { ManifestTable } from './manifest.js';

export type UnmatchedPolicy = 'error' | 'keep' | 'null';

/** A column holding Supabase user ids, whose values import rewrites to the new provider's ids. */
export interface UserColumn {
  schema: string;
  table: string;
  column: string;
  /** Found by its foreign key into auth.users (recorded in metadata.json), or named with --user-columns. */
  foundBy: 'foreign key' | '--user-columns';
  isArray: boolean;
}

/** What happened to a user column's values during the import. */
export interface UserColumnCounts extends UserColumn {
  rewritten: number;
  /** Ids of Supabase users the map has no new id for (kept or cleared by the --unmatched policy). */
  unmatched: number;
  /** Values that are no user id of the export (a team account's id beside personal ones): kept as they are. */
  notUserIds: number;
}

/** A single-column foreign key into auth.users(id). */
export const isAuthUsersId = (fk: ManifestTable['foreignKeys'][number]) =>
  fk.references.schema === 'auth' &&
  fk.references.table === 'users' &&
  fk.columns.length === 1 &&
  fk.references.columns[0] === 'id';

/**
 * The user columns of the tables being imported: every column whose foreign key points at auth.users(id)
 * or, in turn, at such a column of an imported table, plus those named as schema.table.column (or
 * table.column, in public) in --user-columns.
 */
export function findUserColumns(tables: readonly ManifestTable[], named: readonly string[]): UserColumn[] {
  const found: UserColumn[] = [];
  const add = (t: ManifestTable, column: string, foundBy: UserColumn['foundBy']) => {
    if (found.some((c) => c.schema === t.schema && c.table === t.name && c.column === column)) return;
    const info = t.columns.find((c) => c.name === column)!;
    found.push({ schema: t.schema, table: t.name, column, foundBy, isArray: info.encoding === 'array' });
  };
  for (const t of tables)
    for (const fk of t.foreignKeys.filter(isAuthUsersId)) add(t, fk.columns[0]!, 'foreign key');
  // And, in turn, columns whose foreign key points at a user column (messages.user_id → users.id → auth.users).
  const isUserColumn = (schema: string, table: string, column: string | undefined) =>
    found.some((c) => c.schema === schema && c.table === table && c.column === column);
  for (let before = -1; before !== found.length;) {
    before = found.length;
    for (const t of tables)
      for (const fk of t.foreignKeys)
        if (
          fk.columns.length === 1 &&
          isUserColumn(fk.references.schema, fk.references.table, fk.references.columns[0])
        )
          add(t, fk.columns[0]!, 'foreign key');
  }
  const problems: string[] = [];
  for (const arg of named) {
    const parts = arg.split('.');
    const [schema, table, column] =
      parts.length === 3 ? parts : parts.length === 2 ? ['public', ...parts] : [];
    const t = tables.find((x) => x.schema === schema && x.name === table);
    if (!schema || !table || !column) problems.push(`--user-columns ${arg}: expected schema.table.column`);
    else if (!t) problems.push(`--user-columns ${arg}: table ${schema}.${table} is not in the import`);
    else if (!t.columns.some((c) => c.name === column))
      problems.push(`--user-columns ${arg}: ${displayName(t)} has no column "${column}"`);
    else if (t.columns.some((c) => c.name === column && c.generated))
      problems.push(
        `--user-columns ${arg}: a generated column (the target computes it from the row's other columns): leave it out`,
      );
    else add(t, column, '--user-columns');
  }
  if (problems.length > 0) throw new UsageError(problems);
  return found;
}
