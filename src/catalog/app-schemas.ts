import type pg from 'pg';
import { MANAGED_SCHEMAS } from './select-tables.js';

/**
 * The one rule for which schemas are the application's: every schema that is not Supabase's or
 * PostgreSQL's own (MANAGED_SCHEMAS, pg_*), not created by an extension, and not supamigrate's own
 * bookkeeping (`supamigrate`, import progress in a target). Export, import, verify and schema all default
 * to these.
 */
export interface SchemaChoice {
  name: string;
  /** Why it is included or left out, in the user's words. */
  why: string;
}

export interface AppSchemas {
  included: SchemaChoice[];
  excluded: SchemaChoice[];
}

/** supamigrate's own schema in a target (import progress). */
export const OWN_SCHEMA = 'supamigrate';

/** Every schema with the extension that created it, if one did. */
export const ALL_SCHEMAS_SQL = /* SQL */ `
  select n.nspname as name,
         (select e.extname from pg_catalog.pg_depend d
            join pg_catalog.pg_extension e on e.oid = d.refobjid
           where d.classid = 'pg_catalog.pg_namespace'::regclass and d.objid = n.oid
             and d.refclassid = 'pg_catalog.pg_extension'::regclass and d.deptype = 'e'
           limit 1) as extension
    from pg_catalog.pg_namespace n
   order by n.nspname`;

/** Why a schema is not the application's, or undefined when it is. */
export function whyNotApp(name: string, extension: string | null): string | undefined {
  if (name === OWN_SCHEMA) return "supamigrate's own (import progress)";
  if (name.startsWith('pg_') || name === 'information_schema') return "PostgreSQL's own";
  if (name === 'auth') return "Supabase's own (auth users are exported apart)";
  if (MANAGED_SCHEMAS.includes(name)) return "Supabase's own";
  if (extension) return `created by the extension ${extension}`;
  return undefined;
}

/** The application's schemas of a database, and the others with why they are left out. */
export async function readAppSchemas(client: pg.Client): Promise<AppSchemas> {
  const rows = (await client.query<{ name: string; extension: string | null }>(ALL_SCHEMAS_SQL)).rows;
  const result: AppSchemas = { included: [], excluded: [] };
  for (const r of rows) {
    const why = whyNotApp(r.name, r.extension);
    if (why) result.excluded.push({ name: r.name, why });
    else result.included.push({ name: r.name, why: 'an application schema' });
  }
  return result;
}

/** `public, billing (left out: auth: Supabase's own, …)`: a one-line account for notes and dry runs. */
export function describeAppSchemas(schemas: AppSchemas): string {
  const left = schemas.excluded.filter(
    (s) => !s.name.startsWith('pg_toast') && !s.name.startsWith('pg_temp'),
  );
  return (
    `schemas included: ${schemas.included.map((s) => s.name).join(', ') || 'none'}; ` +
    `left out: ${left.map((s) => `${s.name} (${s.why})`).join(', ')}`
  );
}

/**
 * What import and verify say of the schemas they work on: those the export recorded, and the export's
 * account of what it left out and why (the note describeAppSchemas wrote into metadata.json).
 */
export function recordedSchemasNote(
  schemas: readonly string[] | undefined,
  notes: readonly string[],
): string {
  const chosen = notes.find((n) => n.startsWith('schemas included: '));
  return chosen
    ? `the export's ${chosen}`
    : `schemas: ${(schemas ?? ['public']).join(', ')} (named with --schema at export, or recorded before supamigrate chose the application schemas)`;
}
