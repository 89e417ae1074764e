import pg from 'pg';

/** Quotes an identifier for SQL text: `quoteIdent('My "x"')` → `"My ""x"""`. */
export const quoteIdent = (name: string): string => pg.escapeIdentifier(name);

/** Quotes a string as an SQL literal, for the few statements that take no parameters (SET TRANSACTION SNAPSHOT). */
export const quoteLiteral = (value: string): string => pg.escapeLiteral(value);

/** `"schema"."name"` for SQL text. */
export const qualifiedName = (table: { schema: string; name: string }): string =>
  `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;

/** `schema.name` as the user reads it in messages (quoted only where needed to be unambiguous). */
export function displayName(table: { schema: string; name: string }): string {
  const part = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : JSON.stringify(s));
  return `${part(table.schema)}.${part(table.name)}`;
}

/**
 * Runs `read` with an empty search_path, then puts the session's back: `format_type` and `::regclass`
 * qualify every name outside pg_catalog only when the path finds none of them, so catalog reads give the
 * same names whatever the role's path (Supabase's `postgres` role has `extensions` in it).
 */
export async function withEmptySearchPath<T>(client: pg.Client, read: () => Promise<T>): Promise<T> {
  const saved = (
    await client.query<{ path: string }>(
      `select pg_catalog.current_setting('search_path') as path, pg_catalog.set_config('search_path', '', false)`,
    )
  ).rows[0]!.path;
  try {
    return await read();
  } finally {
    // In a failed transaction this cannot run; its rollback puts the path back anyway.
    await client
      .query(`select pg_catalog.set_config('search_path', $1, false)`, [saved])
      .catch(() => undefined);
  }
}
