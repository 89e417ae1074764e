import { AUTH_USER_COLUMNS, MINIMAL_AUTH_USERS_COMMENT } from '../catalog/auth-users.js';
import { quoteIdent, quoteLiteral } from '../pg/sql.js';
import type { Statement } from './ddl.js';
import type { RawColumn, RawFunction, RawSupabaseTrigger } from './read-source.js';

/*
 * What a Supabase project's app schema expects of its platform, provided on a plain PostgreSQL: the auth
 * helper functions, a minimal auth.users for the foreign keys into it, the API roles. And what cannot
 * move: triggers on auth tables, functions reading auth or storage tables.
 */

/** The roles PostgREST switches to: kept (created NOLOGIN on the target) with their grants. */
export const API_ROLES: readonly string[] = ['anon', 'authenticated', 'service_role'];

/** Supabase's own roles: grants to them and ownership by them are left out. */
export const SUPABASE_INTERNAL_ROLES: readonly string[] = [
  'postgres',
  'supabase_admin',
  'supabase_auth_admin',
  'supabase_storage_admin',
  'supabase_functions_admin',
  'supabase_realtime_admin',
  'supabase_replication_admin',
  'supabase_read_only_user',
  'supabase_etl_admin',
  'dashboard_user',
  'pgbouncer',
  'authenticator',
  'pgsodium_keyholder',
  'pgsodium_keyiduser',
  'pgsodium_keymaker',
];

export const isInternalRole = (role: string) =>
  SUPABASE_INTERNAL_ROLES.includes(role) || role.startsWith('pg_');

/** Extensions of Supabase's platform, not of the app: left out with a note. */
export const SUPABASE_EXTENSIONS: Record<string, string> = {
  pg_graphql: "Supabase's GraphQL API",
  pg_stat_statements: 'query statistics (needs shared_preload_libraries)',
  pgsodium: "Supabase's key management",
  supabase_vault: "Supabase's secrets vault",
  pg_net: "Supabase's HTTP client (webhooks)",
  pg_cron: 'scheduled jobs (needs shared_preload_libraries; jobs in cron.job are not moved)',
};

/**
 * auth.uid(), auth.jwt(), auth.role() and auth.email() reading the claims PostgREST sets per request
 * (`request.jwt.claims`, and the older `request.jwt.claim.<name>`), as Supabase's own definitions do.
 */
export function authFunctions(uidType: 'uuid' | 'text'): Statement[] {
  const claim = (name: string) =>
    `coalesce(nullif(current_setting('request.jwt.claim.${name}', true), ''), ` +
    `(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> '${name}'))`;
  const fn = (name: string, returns: string, body: string) => ({
    step: 'auth helpers',
    object: `function auth.${name}()`,
    sql: `create or replace function auth.${name}() returns ${returns} language sql stable as $supamigrate$\n  select ${body}\n$supamigrate$`,
  });
  return [
    fn('uid', uidType, `${claim('sub')}::${uidType}`),
    fn('role', 'text', `${claim('role')}::text`),
    fn('email', 'text', `${claim('email')}::text`),
    fn(
      'jwt',
      'jsonb',
      `coalesce(nullif(current_setting('request.jwt.claim', true), ''), nullif(current_setting('request.jwt.claims', true), ''))::jsonb`,
    ),
  ];
}

/**
 * The minimal auth.users: the source's columns of built-in types (so that app views and functions reading
 * them still compile), without their defaults and constraints but the id primary key. Import loads the
 * exported users (AUTH_USER_COLUMNS) into it, so foreign keys into auth.users stay valid.
 */
export function minimalAuthUsers(columns: RawColumn[], idType: 'uuid' | 'text'): Statement[] {
  // format_type with an empty search_path qualifies every type but the built-in ones (auth.aal_level).
  const kept = columns.filter((c) => !c.type.includes('.') || AUTH_USER_COLUMNS.includes(c.name));
  const defs = kept.map((c) =>
    c.name === 'id' ? `id ${idType} primary key` : `${quoteIdent(c.name)} ${c.type}`,
  );
  if (!kept.some((c) => c.name === 'id')) defs.unshift(`id ${idType} primary key`);
  return [
    {
      step: 'auth helpers',
      object: 'table auth.users (minimal)',
      sql: `create table auth.users (\n  ${defs.join(',\n  ')}\n)`,
    },
    {
      step: 'auth helpers',
      object: 'comment on auth.users',
      sql: `comment on table auth.users is ${quoteLiteral(MINIMAL_AUTH_USERS_COMMENT)}`,
    },
  ];
}

const USER_EVENTS: Record<string, [string, string]> = {
  insert: ['at sign-up', 'user-created'],
  update: ['when a user changes', 'user-updated'],
  delete: ['when a user is deleted', 'user-deleted'],
};
const FILE_EVENTS: Record<string, string> = {
  insert: 'when a file is uploaded',
  update: 'when a file changes (moved, or its metadata updated)',
  delete: 'when a file is deleted',
};

/**
 * A trigger on an auth or storage table, with what it did, for the report. Only triggers on auth.users and
 * auth.identities are sign-up and user hooks; Supabase's own triggers (their functions in auth or storage)
 * are said to be Supabase's; an app's trigger on storage.objects runs when a file is uploaded or deleted.
 */
export function describeSupabaseTrigger(t: RawSupabaseTrigger): string {
  const on = `${t.name} on ${t.schema}.${t.table_name} → ${t.function}`;
  const service = t.schema === 'auth' ? 'Supabase Auth' : 'Supabase Storage';
  if (t.function_schema === 'auth' || t.function_schema === 'storage')
    return `${on}: ${service}'s own trigger: not created (the target has no ${service}; nothing of the app's to move)`;
  const events = (/\b(?:before|after|instead\s+of)\s+(.*?)\s+on\s/i.exec(t.definition)?.[1] ?? '')
    .toLowerCase()
    .split(/\s+or\s+/)
    .map((e) => e.split(/\s+/)[0]!)
    .filter((e) => e in USER_EVENTS);
  const writes = [...t.body.matchAll(/\b(insert\s+into|update|delete\s+from)\s+([\w."]+)/gi)].map(
    (m) =>
      `${m[1]!.toLowerCase().startsWith('insert') ? 'inserted into' : m[1]!.toLowerCase().startsWith('update') ? 'updated' : 'deleted from'} ${m[2]}`,
  );
  const did = writes.length > 0 ? [...new Set(writes)].join(', ') : 'ran';
  if (t.schema === 'auth' && (t.table_name === 'users' || t.table_name === 'identities')) {
    const when = events.map((e) => USER_EVENTS[e]![0]).join(' or ');
    const hooks = events.map((e) => USER_EVENTS[e]![1]).join(' and ');
    return `${on} ${did} ${when}: not created (the target has no auth server); call it from your new provider's ${hooks || 'user'} webhook`;
  }
  if (t.schema === 'storage' && t.table_name === 'objects') {
    const when = events.map((e) => FILE_EVENTS[e]!).join(' or ');
    return `${on} ${did} ${when}: not created (the target has no ${service}); run it where files are stored now`;
  }
  return `${on} ${did} on ${events.join(' or ')} of ${t.schema}.${t.table_name} (${service}'s table): not created (the target has no ${service}); review what it did`;
}

/** Functions that read or write auth.* or storage.* tables (not the auth.uid()-style helpers). */
export function functionsReadingSupabase(functions: RawFunction[]): string[] {
  const helper = /^(uid|jwt|role|email)$/;
  return functions.flatMap((f) => {
    const refs = [...f.body.matchAll(/\b(auth|storage)\.("?[a-z_][\w$]*"?)\s*(\()?/gi)]
      .filter((m) => !(m[3] && (m[1]!.toLowerCase() === 'storage' || helper.test(m[2]!))))
      .filter((m) => !(m[1]!.toLowerCase() === 'auth' && helper.test(m[2]!)))
      .map((m) => `${m[1]}.${m[2]}`);
    const unique = [...new Set(refs)];
    return unique.length > 0
      ? [
          `${f.signature} uses ${unique.join(', ')}: created, but on the target auth.users is supamigrate's minimal table and other auth and storage tables exist only where application foreign keys need them; review it`,
        ]
      : [];
  });
}
