import { quoteIdent } from '../pg/sql.js';
import type { Statement } from './ddl.js';
import type { SchemaReport } from './plan.js';
import type { RawConstraint, SourceSchema } from './read-source.js';
import type { SchemaSettings } from './settings.js';
import {
  API_ROLES,
  authFunctions,
  isInternalRole,
  minimalAuthUsers,
  SUPABASE_EXTENSIONS,
} from './supabase.js';
import type { TargetFacts } from './target.js';

/**
 * What the app schema needs around it on the target, decided once and reported: roles, schemas,
 * extensions, the auth helpers and auth.users; and how a role name and a foreign key into Supabase's
 * tables are treated.
 */
export interface Platform {
  before: Statement[];
  after: Statement[];
  /** The target's name for a source role (--role-map). */
  role: (name: string) => string;
  /** Why a foreign key is left out, or undefined when it is created. */
  dropForeignKey: (c: RawConstraint) => string | undefined;
}

/**
 * The roles the target needs: those the app's policies and grants name (not PUBLIC, not Supabase's own),
 * and Supabase's API roles the source has (PostgREST switches to them, grants or not).
 */
export function rolesNamed(source: SourceSchema): string[] {
  const all = [
    ...source.apiRoles,
    ...source.policies.flatMap((p) => p.roles),
    ...source.grants.map((g) => g.grantee),
  ];
  return [...new Set(all)].filter((r) => r !== 'public' && !isInternalRole(r)).sort();
}

export function planPlatform(
  source: SourceSchema,
  target: TargetFacts,
  settings: SchemaSettings,
  report: SchemaReport,
): Platform {
  const before: Statement[] = [];
  const add = (step: string, object: string, sql: string) => before.push({ step, object, sql });
  const role = (name: string) => settings.roleMap[name] ?? name;

  const created: string[] = [];
  for (const name of rolesNamed(source)) {
    const mapped = role(name);
    const as = mapped === name ? '' : ` (for ${name}, --role-map)`;
    if (target.roles.has(mapped)) report.roles.push(`${name}${as}: exists in the target`);
    else if (target.createRole) {
      // A script (--out) may run where the role exists already.
      add(
        'roles',
        `role ${mapped}`,
        `do $role$ begin create role ${quoteIdent(mapped)} nologin; exception when duplicate_object then null; end $role$`,
      );
      if (!target.superuser)
        add('roles', `membership in ${mapped}`, `grant ${quoteIdent(mapped)} to current_user`);
      created.push(mapped);
      report.roles.push(
        `${mapped}: created NOLOGIN, with the grants the source's objects gave it${target.superuser ? '' : ` (${target.role} made a member, to switch to it)`}`,
      );
    } else {
      report.problems.push(
        `role ${mapped}${as} does not exist in the target and ${target.role} may not create roles: create it (create role ${mapped} nologin), or map it onto a role the target has with --role-map ${name}=<role>`,
      );
    }
  }

  const schemas = new Set([...source.schemas, ...source.companionSchemas]);
  const extensions: Statement[] = [];
  for (const e of source.extensions) {
    const supabase = SUPABASE_EXTENSIONS[e.name];
    const facts = target.known ? target.extensions.get(e.name) : { installed: false, trusted: true };
    if (supabase && e.used_by.length === 0) {
      report.extensions.push(`${e.name}: left out (${supabase})`);
    } else if (facts?.installed) {
      report.extensions.push(`${e.name}: installed in the target already`);
    } else if (facts && (target.superuser || (facts.trusted && target.createInDatabase))) {
      if (!schemas.has(e.schema)) schemas.add(e.schema);
      extensions.push({
        step: 'extensions',
        object: `extension ${e.name}`,
        sql: `create extension if not exists ${quoteIdent(e.name)} with schema ${quoteIdent(e.schema)}`,
      });
      report.extensions.push(`${e.name}: created in schema ${e.schema} (as in the source)`);
    } else {
      const why = facts
        ? `it needs a superuser (${target.role} is not one, and the extension is not trusted)`
        : 'it is not available on the target server';
      const line = `extension ${e.name} (schema ${e.schema}): cannot be created: ${why}`;
      if (e.used_by.length > 0) {
        const shown = e.used_by.slice(0, 5).join(', ');
        const more = e.used_by.length > 5 ? ` and ${e.used_by.length - 5} more` : '';
        report.problems.push(
          `${line}; ${shown}${more}: have the extension installed first (as a superuser: create schema if not exists ${quoteIdent(e.schema)}; create extension ${quoteIdent(e.name)} schema ${quoteIdent(e.schema)}; grant usage, create on schema ${quoteIdent(e.schema)} to ${quoteIdent(target.role || 'current_user')})`,
        );
      } else
        report.extensions.push(
          `${line}; left out (no application object uses it; function bodies are not checked: those calling it will fail until it is installed)`,
        );
    }
  }
  const supabaseShaped = source.authUsersColumns.length > 0;
  const shim = supabaseShaped && !target.hasAuthUid;
  if (shim) schemas.add('auth');
  for (const s of schemas) add('schemas', `schema ${s}`, `create schema if not exists ${quoteIdent(s)}`);
  // A schema that exists already (made by someone else) must let the role use it, and create in it when
  // application objects go there; so must the schema of an extension installed already (its types).
  const installedIn = source.extensions
    .filter((e) => target.known && target.extensions.get(e.name)?.installed)
    .map((e) => e.schema);
  for (const s of new Set([...schemas, ...installedIn])) {
    const rights = target.superuser ? undefined : target.schemaRights.get(s);
    const creates = source.schemas.includes(s) || source.companionSchemas.includes(s);
    if (rights && (!rights.usage || (creates && !rights.create)))
      report.problems.push(
        `schema ${s} exists in the target and ${target.role} may not ${!rights.usage ? 'use' : 'create objects in'} it: as its owner or a superuser, grant usage${creates ? ', create' : ''} on schema ${quoteIdent(s)} to ${quoteIdent(target.role)}`,
      );
  }
  before.push(...extensions);

  const intoUsers = source.constraints.some(
    (c) => c.type === 'f' && c.ref_schema === 'auth' && c.ref_table === 'users',
  );
  const keepUsers = settings.authForeignKeys === 'keep';
  if (shim) {
    before.push(...authFunctions(settings.userIdType));
    report.auth.push(
      `auth.uid(), auth.jwt(), auth.role(), auth.email(): created in schema auth, reading request.jwt.claims as PostgREST sets it (auth.uid() returns ${settings.userIdType})`,
    );
  } else if (supabaseShaped)
    report.auth.push('auth.uid() exists in the target: the auth helpers are left as they are');
  if (intoUsers && keepUsers && !target.hasAuthUsers) {
    before.push(...minimalAuthUsers(source.authUsersColumns, settings.userIdType));
    report.auth.push(
      "auth.users: created minimal (the source's columns, no defaults or constraints but the id primary key); supamigrate import loads the exported users into it (with their new ids when a user map is used), so the foreign keys into it hold",
    );
  } else if (intoUsers && keepUsers)
    report.auth.push('auth.users exists in the target: foreign keys into it are created as in the source');
  const apiRoles = API_ROLES.map(role).filter((r) => target.roles.has(r) || created.includes(r));
  if (shim && apiRoles.length > 0) {
    const to = apiRoles.map(quoteIdent).join(', ');
    add('auth helpers', 'usage on schema auth', `grant usage on schema auth to ${to}`);
    add(
      'auth helpers',
      'execute on the auth helpers',
      `grant execute on function auth.uid(), auth.jwt(), auth.role(), auth.email() to ${to}`,
    );
  }

  const dropForeignKey = (c: RawConstraint): string | undefined => {
    if (c.type !== 'f' || c.ref_schema === null || source.schemas.includes(c.ref_schema)) return undefined;
    if (c.ref_schema === 'auth' && c.ref_table === 'users')
      return keepUsers ? undefined : '--auth-foreign-keys drop';
    if (source.tables.some((t) => t.companion && t.schema === c.ref_schema && t.name === c.ref_table))
      return undefined;
    return `${c.ref_schema}.${c.ref_table} is not created on the target`;
  };
  return { before, after: [], role, dropForeignKey };
}
