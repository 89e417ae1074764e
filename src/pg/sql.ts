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
