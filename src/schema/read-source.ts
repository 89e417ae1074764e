import type pg from 'pg';
import type { TableRef } from '../catalog/types.js';
import { API_ROLES } from './supabase.js';
import {
  COLUMNS_SQL,
  COMMENTS_SQL,
  CONSTRAINTS_SQL,
  DEFAULT_PRIVILEGES_SQL,
  EXTENSIONS_SQL,
  FUNCTIONS_SQL,
  GRANTS_SQL,
  INDEXES_SQL,
  NOT_PUBLIC_ROUTINES_SQL,
  POLICIES_SQL,
  PUBLICATIONS_SQL,
  SEQUENCES_SQL,
  SOURCE_API_ROLES_SQL,
  SUPABASE_POLICIES_SQL,
  SUPABASE_TRIGGERS_SQL,
  TABLE_OID_SQL,
  TABLES_SQL,
  TRIGGERS_SQL,
  TYPES_SQL,
  VIEWS_SQL,
} from './schema.sql.js';
import type { Shape } from './existing.js';
import { EXTENSION_USERS_SQL, SERVER_VERSION_SQL, SHAPES_SQL, STATISTICS_SQL } from './objects.sql.js';

/*
 * The source's application schema as rows of the catalog queries (snake_case, as the server names them),
 * read in one read-only transaction with an empty search_path so that every name is qualified.
 */

export interface RawExtension {
  name: string;
  schema: string;
  version: string;
  /** The application objects that use its members: `trigger t on table public.x uses function extensions.f()`. */
  used_by: string[];
}
export interface RawType {
  oid: string;
  schema: string;
  name: string;
  kind: 'e' | 'd' | 'r' | 'c';
  labels: string[];
  base_type: string | null;
  not_null: boolean;
  default_value: string | null;
  checks: string[];
  attributes: string[];
  /** A range's `subtype = …, subtype_diff = …, multirange_type_name = …`. */
  range_options: string | null;
  /** Oids of the functions a domain's checks or default call: created before it. */
  needs: string[];
}
export interface RawSequence {
  schema: string;
  name: string;
  type: string;
  increment: string;
  min: string;
  max: string;
  start: string;
  cache: string;
  cycle: boolean;
  owned_by: string | null;
}
export interface RawTable {
  oid: string;
  schema: string;
  name: string;
  kind: 'r' | 'p';
  unlogged: boolean;
  rls: boolean;
  force_rls: boolean;
  partition_key: string | null;
  partition_of: string | null;
  partition_bound: string | null;
  /** d default, n nothing, f full, i index (replica_index). */
  replica_identity: 'd' | 'n' | 'f' | 'i';
  replica_index: string | null;
  /** A table outside the app schemas that app foreign keys need (storage.objects): created bare. */
  companion?: boolean;
}
export interface RawColumn {
  table_oid: string;
  name: string;
  position: number;
  type: string;
  type_name: string;
  is_array: boolean;
  not_null: boolean;
  identity: '' | 'a' | 'd';
  /** The identity sequence's name and options (`sequence name … start with 100 increment by 5 …`). */
  identity_options: string | null;
  generated: '' | 's';
  default_expr: string | null;
  collation: string | null;
}
export interface RawConstraint {
  table_oid: string;
  name: string;
  type: 'p' | 'u' | 'x' | 'c' | 'f';
  definition: string;
  ref_schema: string | null;
  ref_table: string | null;
  columns: string[];
  ref_columns: string[];
}
export interface RawIndex {
  schema: string;
  name: string;
  definition: string;
  table_oid: string;
}
export interface RawStatistics {
  schema: string;
  name: string;
  table_oid: string;
  definition: string;
}
export interface RawView {
  oid: string;
  schema: string;
  name: string;
  kind: 'v' | 'm';
  definition: string;
  options: string[];
  reads: string[];
}
export interface RawFunction {
  oid: string;
  schema: string;
  name: string;
  kind: 'f' | 'p' | 'a' | 'w';
  signature: string;
  body: string;
  definition: string | null;
  identity_args: string;
  /** pg_get_function_arguments: as the definition's header has them (with names and defaults). */
  arguments: string;
  result: string | null;
  uses_view: boolean;
  generates_columns: boolean;
  reads_relations: boolean;
}
export interface RawTrigger {
  table_oid: string;
  name: string;
  definition: string;
  enabled: string;
}
export interface RawSupabaseTrigger {
  schema: string;
  table_name: string;
  name: string;
  function: string;
  function_schema: string;
  body: string;
  definition: string;
}
export interface RawPolicy {
  table_oid: string;
  name: string;
  command: 'r' | 'a' | 'w' | 'd' | '*';
  permissive: boolean;
  roles: string[];
  using_expr: string | null;
  check_expr: string | null;
}
export interface RawComment {
  target: string;
  description: string;
}
export interface RawGrant {
  kind: 'schema' | 'table' | 'column' | 'sequence' | 'function' | 'procedure';
  /** Quoted name or signature; for a column, its table's. */
  target: string;
  /** For a column grant: the quoted column name. */
  column_name: string | null;
  grantee: string;
  privilege: string;
}

export interface SourceSchema {
  /** server_version_num of the source (170004). */
  version: number;
  schemas: string[];
  extensions: RawExtension[];
  types: RawType[];
  sequences: RawSequence[];
  tables: RawTable[];
  columns: RawColumn[];
  constraints: RawConstraint[];
  indexes: RawIndex[];
  statistics: RawStatistics[];
  views: RawView[];
  functions: RawFunction[];
  triggers: RawTrigger[];
  supabaseTriggers: RawSupabaseTrigger[];
  policies: RawPolicy[];
  comments: RawComment[];
  grants: RawGrant[];
  /** The source's auth.users columns (empty when it has none). */
  authUsersColumns: RawColumn[];
  /** Default privileges in the application schemas, by grantee. */
  defaultPrivileges: { schema: string; objects: string; grantee: string; privilege: string }[];
  /** Routines whose EXECUTE the source revoked from PUBLIC. */
  notPublic: { kind: string; target: string }[];
  /** Schemas of the companion tables (storage). */
  companionSchemas: string[];
  /** Policies on Supabase's auth and storage tables: not created, reported. */
  supabasePolicies: { table: string; name: string }[];
  /** Publications of application tables: not created, reported. */
  publications: { name: string; tables: string[] }[];
  /** anon, authenticated, service_role: those the source has. */
  apiRoles: string[];
  /** The shapes of the application's objects, to compare with those the target has already. */
  shapes: Shape[];
}

/** Reads the definitions of `schemas` from the source, in one read-only transaction. */
/**
 * Reads the definitions of `schemas` from the source, in one read-only transaction; and of `companions`,
 * tables of other schemas the app's foreign keys need (storage.objects): their columns, keys and indexes
 * only (no triggers, policies or grants: those are Supabase Storage's).
 */
export async function readSourceSchema(
  client: pg.Client,
  schemas: string[],
  companions: readonly TableRef[] = [],
): Promise<SourceSchema> {
  await client.query('begin transaction isolation level repeatable read read only');
  try {
    await client.query("set local search_path = ''");
    const rows = async <T extends object>(sql: string, param: unknown = schemas): Promise<T[]> =>
      (await client.query<T>(sql, [param])).rows;
    const appTables = await rows<RawTable>(TABLES_SQL);
    const companionSchemas = [...new Set(companions.map((c) => c.schema))];
    const companionTables = (await rows<RawTable>(TABLES_SQL, companionSchemas))
      .filter((t) => companions.some((c) => c.schema === t.schema && c.name === t.name))
      .map((t) => ({ ...t, rls: false, force_rls: false, companion: true }));
    const tables = [...companionTables, ...appTables];
    const views = await rows<RawView>(VIEWS_SQL);
    const relations = [...tables, ...views].map((t) => t.oid);
    const appRelations = [...appTables, ...views].map((t) => t.oid);
    const columns = await rows<RawColumn>(
      COLUMNS_SQL,
      tables.map((t) => t.oid),
    );
    // Types of the companions' own schema that their columns use (storage.buckettype).
    const companionOids = new Set(companionTables.map((t) => t.oid));
    const usedTypes = new Set(
      columns.filter((c) => companionOids.has(c.table_oid)).map((c) => c.type.replace(/\[\]$/, '')),
    );
    const companionTypes = (await rows<RawType>(TYPES_SQL, companionSchemas)).filter((t) =>
      usedTypes.has(`${t.schema}.${t.name}`),
    );
    const extensionUsers = await rows<{ extension: string; object: string; member: string }>(
      EXTENSION_USERS_SQL,
    );
    const usedBy = (extension: string) => {
      const lines = extensionUsers.filter((u) => u.extension === extension);
      // One line an object: a view using five operators of citext is one use.
      return [...new Map(lines.map((u) => [u.object, `${u.object} uses ${u.member}`])).values()];
    };
    const version = (await client.query<{ version: number }>(SERVER_VERSION_SQL)).rows[0]!.version;
    const result: SourceSchema = {
      version,
      schemas,
      extensions: (await client.query<Omit<RawExtension, 'used_by'>>(EXTENSIONS_SQL)).rows.map((e) => ({
        ...e,
        used_by: usedBy(e.name),
      })),
      types: [...companionTypes, ...(await rows<RawType>(TYPES_SQL))],
      sequences: await rows<RawSequence>(SEQUENCES_SQL),
      tables,
      columns,
      constraints: await rows<RawConstraint>(
        CONSTRAINTS_SQL,
        tables.map((t) => t.oid),
      ),
      indexes: await rows<RawIndex>(INDEXES_SQL, relations),
      statistics: await rows<RawStatistics>(
        STATISTICS_SQL,
        appTables.map((t) => t.oid),
      ),
      views,
      functions: await rows<RawFunction>(FUNCTIONS_SQL),
      triggers: await rows<RawTrigger>(TRIGGERS_SQL, appRelations),
      supabaseTriggers: (await client.query<RawSupabaseTrigger>(SUPABASE_TRIGGERS_SQL)).rows,
      policies: await rows<RawPolicy>(
        POLICIES_SQL,
        appTables.map((t) => t.oid),
      ),
      companionSchemas,
      supabasePolicies: (await client.query<{ table: string; name: string }>(SUPABASE_POLICIES_SQL)).rows,
      comments: await rows<RawComment>(COMMENTS_SQL),
      grants: await rows<RawGrant>(GRANTS_SQL),
      authUsersColumns: [],
      defaultPrivileges: await rows<SourceSchema['defaultPrivileges'][number]>(DEFAULT_PRIVILEGES_SQL),
      notPublic: await rows<{ kind: string; target: string }>(NOT_PUBLIC_ROUTINES_SQL),
      publications: await rows<{ name: string; tables: string[] }>(PUBLICATIONS_SQL),
      apiRoles: (await rows<{ name: string }>(SOURCE_API_ROLES_SQL, API_ROLES)).map((r) => r.name),
      shapes: await rows<Shape>(SHAPES_SQL),
    };
    const users = (await client.query<{ oid: string | null }>(TABLE_OID_SQL, ['auth.users'])).rows[0]?.oid;
    if (users) result.authUsersColumns = await rows<RawColumn>(COLUMNS_SQL, [users]);
    return result;
  } finally {
    await client.query('rollback');
  }
}
