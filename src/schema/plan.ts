import { quoteIdent } from '../pg/sql.js';
import {
  commentDdl,
  constraintDdl,
  defaultDdl,
  grantDdl,
  policyDdl,
  qualified,
  relationKey,
  sequenceDdl,
  shown,
  tableDdl,
  typeDdl,
  viewDdl,
  viewOrder,
  type Statement,
} from './ddl.js';
import { compareShapes, plannedColumns, type Shape } from './existing.js';
import { planPlatform, type Platform } from './platform.js';
import type { RawColumn, RawTable, SourceSchema } from './read-source.js';
import type { SchemaSettings } from './settings.js';
import { describeSupabaseTrigger, functionsReadingSupabase, isInternalRole } from './supabase.js';
import type { TargetFacts } from './target.js';
import { lacksPrivilege, leftOutPrivileges, newerSyntax, versionProblems } from './versions.js';
import { appExpressions, retypeUidArguments, userIdArguments, type ColumnKind } from './uid-arguments.js';
import { columnKey, functionsToReview, textUserIdType, userIdColumns } from './user-ids.js';

/** What the schema command will do and why: the statements in order, and the report of every choice. */
export interface SchemaPlan {
  statements: Statement[];
  report: SchemaReport;
}

export interface SchemaReport {
  /** Extensions: created, present, left out, or unavailable, with why. */
  extensions: string[];
  /** Roles: present, created NOLOGIN, mapped, or missing. */
  roles: string[];
  /** The auth helpers, auth.users and the foreign keys into Supabase's tables. */
  auth: string[];
  /** With text user ids: the columns made text, and the functions to review. */
  userIds: string[];
  /** What cannot work the same on the target: triggers on auth tables, functions reading them, … */
  notMoved: string[];
  /** Objects the target already has (left alone with ifNotExists). */
  existing: string[];
  /** What stops the run before anything is written. */
  problems: string[];
}

/** Builds the statements, in dependency order, and the report. */
export function planSchema(source: SourceSchema, target: TargetFacts, settings: SchemaSettings): SchemaPlan {
  const report: SchemaReport = {
    extensions: [],
    roles: [],
    auth: [],
    userIds: [],
    notMoved: [],
    existing: [],
    problems: [],
  };
  const userIds =
    settings.userIdType === 'text' ? userIdColumns(source, settings.userColumns) : new Set<string>();
  const platform: Platform = planPlatform(source, target, settings, report);
  const out: Statement[] = [...platform.before];
  const add = (step: string, object: string, sql: string, owner?: string) =>
    out.push({ step, object, sql, ...(owner ? { owner } : {}) });
  const tableOf = new Map(source.tables.map((t) => [t.oid, t]));
  const key = (t: { schema: string; name: string }) => relationKey(t.schema, t.name);
  const typeOf = (c: RawColumn) => (userIds.has(columnKey(c.table_oid, c.name)) ? textUserIdType(c) : c.type);

  // With text user ids: parameters that receive auth.uid() in policies, views, defaults or checks become text.
  // So do parameters that receive a user-id column there (basejump.has_role_on_account(account_id)).
  const columnByKey = new Map(source.columns.map((c) => [columnKey(c.table_oid, c.name), c]));
  const columnKind: ColumnKind = (oid, column) => {
    const c = columnByKey.get(columnKey(oid, column));
    if (!c) return undefined;
    return userIds.has(columnKey(oid, column)) ? 'user id' : c.type === 'uuid' ? 'uuid' : undefined;
  };
  const uidArguments =
    settings.userIdType === 'text'
      ? userIdArguments(appExpressions(source), columnKind)
      : { positions: new Map<string, Set<number>>(), conflicts: [] };
  report.problems.push(...uidArguments.conflicts);
  const uidPositions = uidArguments.positions;
  const retypedParameters = new Map<string, string[]>();
  const renamed = new Map<string, string>();
  const sig = (signature: string) => renamed.get(signature) ?? signature;
  const emitted = new Set<string>();
  const routine = (f: SourceSchema['functions'][number]) => {
    if (emitted.has(f.oid)) return;
    emitted.add(f.oid);
    if (f.definition === null) {
      report.notMoved.push(
        `${f.signature}: an ordered-set or moving-mode aggregate: not created, create it by hand`,
      );
      return;
    }
    const positions = uidPositions.get(f.name.toLowerCase());
    const retyped = positions ? retypeUidArguments(f, positions) : undefined;
    if (retyped) {
      renamed.set(f.signature, retyped.signature);
      retypedParameters.set(f.oid, retyped.changed);
      report.userIds.push(
        `${retyped.signature}: parameter ${retyped.changed.join(', ')} made text (policies, views or checks pass it a user id: auth.uid() or a user-id column)`,
      );
    }
    add(
      'functions',
      `${{ p: 'procedure', a: 'aggregate', f: 'function', w: 'function' }[f.kind]} ${sig(f.signature)}`,
      retyped?.definition ?? f.definition,
      f.signature,
    );
  };
  // Functions that domains' checks and generated columns call come before them (pg_depend says which);
  // their bodies are not checked then (check_function_bodies is off), so the tables they read may come later.
  const movable = (f: SourceSchema['functions'][number]) => !f.uses_view && !f.reads_relations;
  const functionByOid = new Map(source.functions.map((f) => [f.oid, f]));
  for (const t of source.types) {
    for (const oid of t.needs) {
      const f = functionByOid.get(oid);
      if (f && movable(f)) routine(f);
    }
    add('types', `type ${shown(t.schema, t.name)}`, typeDdl(t), key(t));
  }
  for (const f of source.functions.filter((f) => f.generates_columns && movable(f))) routine(f);
  for (const s of source.sequences)
    add('sequences', `sequence ${shown(s.schema, s.name)}`, sequenceDdl(s), key(s));
  const columnsOf = (t: RawTable) => source.columns.filter((c) => c.table_oid === t.oid);
  for (const t of source.tables)
    add('tables', `table ${shown(t.schema, t.name)}`, tableDdl(t, columnsOf(t), typeOf), key(t));
  const constraints = (types: string[]) =>
    source.constraints.filter((c) => types.includes(c.type) && tableOf.has(c.table_oid));
  for (const c of constraints(['p', 'u', 'x'])) {
    const t = tableOf.get(c.table_oid)!;
    add('keys', `constraint ${c.name} on ${shown(t.schema, t.name)}`, constraintDdl(t, c), key(t));
  }
  // Aggregates after the functions they call.
  for (const f of source.functions.filter((f) => !f.uses_view && f.kind !== 'a')) routine(f);
  for (const f of source.functions.filter((f) => !f.uses_view && f.kind === 'a')) routine(f);
  for (const t of source.tables.filter((x) => !x.partition_of))
    for (const c of columnsOf(t).filter((c) => c.default_expr !== null && !c.identity && !c.generated))
      add('defaults', `default of ${shown(t.schema, t.name)}.${c.name}`, defaultDdl(t, c), key(t));
  for (const c of constraints(['c'])) {
    const t = tableOf.get(c.table_oid)!;
    add('checks', `check ${c.name} on ${shown(t.schema, t.name)}`, constraintDdl(t, c), key(t));
  }
  for (const s of source.sequences.filter((s) => s.owned_by))
    add(
      'sequences',
      `sequence ${shown(s.schema, s.name)} owned by`,
      `alter sequence ${qualified(s.schema, s.name)} owned by ${s.owned_by}`,
      key(s),
    );
  for (const v of viewOrder(source.views)) {
    add(
      'views',
      `${v.kind === 'm' ? 'materialized view' : 'view'} ${shown(v.schema, v.name)}`,
      viewDdl(v),
      key(v),
    );
    if (v.kind === 'm')
      report.notMoved.push(
        `materialized view ${shown(v.schema, v.name)}: created empty (with no data): refresh it after the import`,
      );
  }
  for (const f of source.functions.filter((f) => f.uses_view)) routine(f);
  const relationOwner = new Map([...source.tables, ...source.views].map((r) => [r.oid, key(r)]));
  for (const i of source.indexes)
    add('indexes', `index ${shown(i.schema, i.name)}`, i.definition, relationOwner.get(i.table_oid));
  for (const x of source.statistics)
    add('statistics', `statistics ${shown(x.schema, x.name)}`, x.definition, relationOwner.get(x.table_oid));
  for (const c of constraints(['f'])) {
    const t = tableOf.get(c.table_oid)!;
    const object = `foreign key ${c.name} on ${shown(t.schema, t.name)}`;
    if (platform.dropForeignKey(c)) {
      report.auth.push(
        `${object} → ${c.ref_schema}.${c.ref_table}: left out (${platform.dropForeignKey(c)})`,
      );
      continue;
    }
    add('foreign keys', object, constraintDdl(t, c), key(t));
  }
  const triggerTable = new Map([...source.tables, ...source.views].map((r) => [r.oid, r]));
  for (const tr of source.triggers) {
    const t = triggerTable.get(tr.table_oid)!;
    add('triggers', `trigger ${tr.name} on ${shown(t.schema, t.name)}`, tr.definition, key(t));
    if (tr.enabled === 'D')
      add(
        'triggers',
        `trigger ${tr.name} disabled`,
        `alter table ${qualified(t.schema, t.name)} disable trigger ${quoteIdent(tr.name)}`,
        key(t),
      );
  }
  for (const t of source.tables.filter((x) => x.replica_identity !== 'd')) {
    const how = {
      n: 'nothing',
      f: 'full',
      i: `using index ${quoteIdent(t.replica_index ?? '')}`,
      d: 'default',
    }[t.replica_identity];
    add(
      'replica identity',
      `replica identity of ${shown(t.schema, t.name)}`,
      `alter table ${qualified(t.schema, t.name)} replica identity ${how}`,
      key(t),
    );
  }
  for (const t of source.tables.filter((t) => t.rls || t.force_rls)) {
    const name = qualified(t.schema, t.name);
    if (t.rls)
      add(
        'row-level security',
        `row-level security on ${shown(t.schema, t.name)}`,
        `alter table ${name} enable row level security`,
        key(t),
      );
    if (t.force_rls)
      add(
        'row-level security',
        `forced row-level security on ${shown(t.schema, t.name)}`,
        `alter table ${name} force row level security`,
        key(t),
      );
  }
  for (const p of source.policies) {
    const t = tableOf.get(p.table_oid)!;
    const object = `policy "${p.name}" on ${shown(t.schema, t.name)}`;
    const roles = p.roles.filter((r) => !isInternalRole(r)).map((r) => platform.role(r));
    if (roles.length === 0) {
      report.roles.push(`${object}: left out (only for Supabase's own roles ${p.roles.join(', ')})`);
      continue;
    }
    add('policies', object, policyDdl(t, p, roles), key(t));
  }
  for (const c of source.comments.map((x) => ({ ...x, target: renameIn(x.target, renamed) })))
    add('comments', `comment on ${c.target}`, commentDdl(c.target, c.description), commentOwner(c.target));
  for (const r of source.notPublic.map((x) => ({ ...x, target: sig(x.target) })))
    add(
      'grants',
      `no execute for public on ${r.kind} ${r.target}`,
      `revoke execute on ${r.kind} ${r.target} from public`,
      r.target,
    );
  const tooNew: { privilege: string; grantee: string }[] = [];
  for (const g of source.grants.map((x) => ({ ...x, target: sig(x.target) }))) {
    if (g.grantee === 'supabase_auth_admin' && g.kind === 'function')
      report.notMoved.push(
        `${g.target}: executable by supabase_auth_admin (a Supabase Auth hook): created, without that grant; configure the equivalent hook in your new provider`,
      );
    if (g.grantee !== 'public' && isInternalRole(g.grantee)) continue;
    if (lacksPrivilege(g.privilege, target.version)) {
      tooNew.push(g);
      continue;
    }
    const grantee = g.grantee === 'public' ? 'public' : platform.role(g.grantee);
    const on = g.kind === 'column' ? `column ${g.target}.${g.column_name}` : `${g.kind} ${g.target}`;
    add('grants', `grant ${g.privilege.toLowerCase()} on ${on} to ${grantee}`, grantDdl(g, grantee));
  }
  const defaults = source.defaultPrivileges.filter(
    (d) => d.grantee === 'public' || !isInternalRole(d.grantee),
  );
  tooNew.push(...defaults.filter((d) => lacksPrivilege(d.privilege, target.version)));
  report.roles.push(...leftOutPrivileges(tooNew, source.version, target.version));
  report.problems.push(...versionProblems(source.constraints, tableOf, target.version));
  report.problems.push(...newerSyntax(source, target.version));
  for (const d of defaults.filter((x) => !lacksPrivilege(x.privilege, target.version))) {
    const grantee = d.grantee === 'public' ? 'public' : quoteIdent(platform.role(d.grantee));
    const sql = `alter default privileges in schema ${quoteIdent(d.schema)} grant ${d.privilege.toLowerCase()} on ${d.objects} to ${grantee}`;
    add(
      'default privileges',
      `default ${d.privilege.toLowerCase()} on ${d.objects} in ${d.schema} to ${grantee}`,
      sql,
    );
  }
  if (defaults.length > 0)
    report.roles.push(
      `default privileges: the ${[...new Set(defaults.map((d) => d.grantee))].join(', ')} grants on new objects in ${[...new Set(defaults.map((d) => d.schema))].join(', ')} are set for ${target.role || 'the connecting role'} (the objects' owner on the target)`,
    );
  out.push(...platform.after);

  if (settings.userIdType === 'text') {
    for (const k of userIds) {
      const [oid, column] = [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)];
      const t = tableOf.get(oid);
      if (t && !t.partition_of) report.userIds.push(`${shown(t.schema, t.name)}.${column}: text (a user id)`);
    }
    report.userIds.push(...functionsToReview(source.functions, retypedParameters, sig));
  }
  for (const tr of source.supabaseTriggers) report.notMoved.push(describeSupabaseTrigger(tr));
  for (const p of source.supabasePolicies)
    report.notMoved.push(
      `policy "${p.name}" on ${p.table}: not created (Supabase's ${p.table.split('.')[0]} is not on the target)`,
    );
  const companions = source.tables.filter((t) => t.companion);
  for (const t of companions)
    report.auth.push(
      target.existing.has(key(t))
        ? `${shown(t.schema, t.name)} exists in the target: foreign keys into it are created as in the source`
        : `${shown(t.schema, t.name)}: created (columns, keys and indexes, without Supabase's triggers and policies) because application foreign keys point into it; export and import carry its rows (not the files: storage contents stay in Supabase Storage)`,
    );
  const present = new Set(companions.filter((t) => target.existing.has(key(t))).map(key));
  const statements = out.filter((s) => s.owner === undefined || !present.has(s.owner));
  for (const p of source.publications)
    report.notMoved.push(
      `publication ${p.name} (${p.tables.join(', ')}): not created (logical replication${p.name === 'supabase_realtime' ? ', Supabase Realtime' : ''}): create it on the target if something subscribes`,
    );
  report.notMoved.push(...functionsReadingSupabase(source.functions));
  const planned = new Map(source.shapes.map((x) => [x.key, x]));
  for (const t of source.tables) {
    const shape = planned.get(key(t));
    if (shape) planned.set(key(t), { ...shape, columns: plannedColumns(columnsOf(t), typeOf) });
  }
  return {
    statements: skipExisting(statements, target, planned, settings.ifNotExists, report),
    report,
  };
}

/** `function public.f(uuid)` with the function's new signature, when it has one. */
const renameIn = (target: string, renamed: Map<string, string>) =>
  target.replace(/^(function|procedure) (.*)$/, (whole, kind: string, signature: string) =>
    renamed.has(signature) ? `${kind} ${renamed.get(signature)}` : whole,
  );

/** The object a comment belongs to: a relation's key, or a function's signature. */
function commentOwner(target: string): string | undefined {
  const m = /^(?:table|view|materialized view|column) ((?:"[^"]+"|[^."]+))\.((?:"[^"]+"|[^."]+))/.exec(
    target,
  );
  if (!m) return /^(?:function|procedure) /.test(target) ? target.replace(/^\w+ /, '') : undefined;
  const unquote = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
  return relationKey(unquote(m[1]!), unquote(m[2]!));
}

/**
 * Objects the target has already, each compared with the source's: without ifNotExists a problem each (the
 * run stops); with it, identical ones are left alone with everything that belongs to them (constraints,
 * indexes, triggers, policies, comments), and one that differs is still a problem: what the plan creates
 * on it was written for the source's shape (a view over a column the target's table lacks).
 */
function skipExisting(
  statements: Statement[],
  target: TargetFacts,
  planned: Map<string, Shape>,
  ifNotExists: boolean,
  report: SchemaReport,
): Statement[] {
  const found = statements.filter((s) => s.owner !== undefined && target.existing.has(s.owner));
  const owners = [...new Set(found.map((s) => s.owner!))];
  if (owners.length === 0) return statements;
  for (const owner of owners) {
    const head = found.find((f) => f.owner === owner)!.object;
    const compared = compareShapes(planned.get(owner), target.shapes.get(owner));
    if (compared.same === false)
      report.problems.push(
        `${head} exists in the target and differs: ${compared.how}: drop it or make it match (--if-not-exists leaves only identical objects as they are)`,
      );
    else if (!ifNotExists)
      report.problems.push(
        `${head} exists in the target${compared.same ? ", identical to the source's" : ''}: use --if-not-exists to leave it as it is and create the rest`,
      );
    else
      report.existing.push(
        `${head}: exists in the target${compared.same ? ", identical to the source's" : ' (not compared)'}, left as it is`,
      );
  }
  return ifNotExists ? statements.filter((s) => !found.includes(s)) : statements;
}
