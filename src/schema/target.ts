import type pg from 'pg';
import {
  TARGET_ABILITIES_SQL,
  TARGET_EXISTING_SQL,
  TARGET_EXTENSIONS_SQL,
  TARGET_ROLES_SQL,
  TARGET_SCHEMA_RIGHTS_SQL,
} from './schema.sql.js';
import type { Shape } from './existing.js';
import { SHAPES_SQL } from './objects.sql.js';

/** What `supamigrate schema` needs to know of the target before writing: what exists, what it may do. */
export interface TargetFacts {
  /** false: no target was read (--out alone): every role and extension is taken as creatable. */
  known: boolean;
  role: string;
  superuser: boolean;
  createRole: boolean;
  createInDatabase: boolean;
  /** server_version_num (150008); 0 when no target was read. */
  version: number;
  /** Roles (of those asked about) that exist. */
  roles: Set<string>;
  /** Extensions by name: installed, or available (trusted: a non-superuser may create it). */
  extensions: Map<string, { installed: boolean; trusted: boolean }>;
  /** Relations and types (`schema\u0001name`) and function signatures that exist already. */
  existing: Set<string>;
  /** The shapes of those objects (SHAPES_SQL), by key. */
  shapes: Map<string, Shape>;
  /** Whether the target has auth.uid() already (another Supabase project, or a run before). */
  hasAuthUid: boolean;
  hasAuthUsers: boolean;
  /** Schemas that exist already (of those asked about, and the extensions'), with the role's rights on them. */
  schemaRights: Map<string, { usage: boolean; create: boolean }>;
}

/** A target that is not written: every object is new, every role and extension is assumed available. */
export const NO_TARGET: TargetFacts = {
  known: false,
  role: '',
  superuser: true,
  createRole: true,
  createInDatabase: true,
  version: 0,
  roles: new Set(),
  extensions: new Map(),
  existing: new Set(),
  shapes: new Map(),
  hasAuthUid: false,
  hasAuthUsers: false,
  schemaRights: new Map(),
};

export async function readTarget(
  client: pg.Client,
  schemas: string[],
  roles: string[],
  extensions: string[],
  extensionSchemas: string[] = [],
): Promise<TargetFacts> {
  await client.query("set search_path = ''");
  const a = (
    await client.query<{
      superuser: boolean;
      create_role: boolean;
      role: string;
      create_in_database: boolean;
      version: number;
    }>(TARGET_ABILITIES_SQL)
  ).rows[0]!;
  const roleRows = (await client.query<{ name: string }>(TARGET_ROLES_SQL, [roles])).rows;
  const extRows = (
    await client.query<{ name: string; installed: boolean; trusted: boolean }>(TARGET_EXTENSIONS_SQL, [
      extensions,
    ])
  ).rows;
  const existing = (await client.query<{ key: string }>(TARGET_EXISTING_SQL, [[...schemas, 'auth']])).rows;
  const keys = new Set(existing.map((r) => r.key));
  const shapes = (await client.query<Shape>(SHAPES_SQL, [schemas])).rows;
  const rights = (
    await client.query<{ name: string; usage: boolean; create: boolean }>(TARGET_SCHEMA_RIGHTS_SQL, [
      [...schemas, ...extensionSchemas],
    ])
  ).rows;
  return {
    known: true,
    role: a.role,
    superuser: a.superuser,
    createRole: a.create_role || a.superuser,
    createInDatabase: a.create_in_database,
    version: a.version,
    roles: new Set(roleRows.map((r) => r.name)),
    extensions: new Map(extRows.map((r) => [r.name, { installed: r.installed, trusted: r.trusted }])),
    existing: keys,
    shapes: new Map(shapes.map((x) => [x.key, x])),
    hasAuthUid: keys.has('auth.uid()'),
    hasAuthUsers: keys.has('auth\u0001users'),
    schemaRights: new Map(rights.map((r) => [r.name, { usage: r.usage, create: r.create }])),
  };
}
