import { quoteIdent, quoteLiteral } from '../pg/sql.js';
import type {
  RawColumn,
  RawConstraint,
  RawGrant,
  RawPolicy,
  RawSequence,
  RawTable,
  RawType,
  RawView,
} from './read-source.js';

/*
 * The DDL of each kind of object, from the catalog's rows. Names are quoted with quoteIdent; expressions
 * and definitions come from the server (pg_get_expr, pg_get_*def, format_type), already qualified.
 */

/** One statement of the script: what it creates (for reports and errors) and which object it belongs to. */
export interface Statement {
  /** The step, e.g. `tables`, `policies`. */
  step: string;
  /** What it creates, e.g. `table public.devices`. */
  object: string;
  /** The relation, type or function it belongs to (`schema\u0001name` or a signature), to skip with it. */
  owner?: string;
  sql: string;
}

export const relationKey = (schema: string, name: string) => `${schema}\u0001${name}`;
export const qualified = (schema: string, name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
export const shown = (schema: string, name: string) => `${schema}.${name}`;

export function typeDdl(t: RawType): string {
  const name = qualified(t.schema, t.name);
  switch (t.kind) {
    case 'e':
      return `create type ${name} as enum (${t.labels.map(quoteLiteral).join(', ')})`;
    case 'r':
      return `create type ${name} as range (${t.range_options})`;
    case 'c':
      return `create type ${name} as (${t.attributes.join(', ')})`;
    case 'd': {
      const parts = [`create domain ${name} as ${t.base_type}`];
      if (t.default_value !== null) parts.push(`default ${t.default_value}`);
      if (t.not_null) parts.push('not null');
      // CREATE DOMAIN takes no NOT VALID check: such a check is added after, as the source has it.
      const notValid = (check: string) => / NOT VALID$/.test(check);
      parts.push(...t.checks.filter((c) => !notValid(c)));
      return [parts.join(' '), ...t.checks.filter(notValid).map((c) => `alter domain ${name} add ${c}`)].join(
        ';\n',
      );
    }
  }
}

export function sequenceDdl(s: RawSequence): string {
  return (
    `create sequence ${qualified(s.schema, s.name)} as ${s.type} increment by ${s.increment}` +
    ` minvalue ${s.min} maxvalue ${s.max} start with ${s.start} cache ${s.cache}${s.cycle ? ' cycle' : ''}`
  );
}

/**
 * `create table` with its columns: types, collations, NOT NULL, identity and generated expressions.
 * Other defaults come later (alter … set default), once the functions they may call exist. A partition
 * is created `partition of` its parent and takes its columns from it.
 */
export function tableDdl(t: RawTable, columns: RawColumn[], typeOf: (c: RawColumn) => string): string {
  const name = qualified(t.schema, t.name);
  const unlogged = t.unlogged ? 'unlogged ' : '';
  if (t.partition_of) {
    const key = t.partition_key ? ` partition by ${t.partition_key}` : '';
    return `create ${unlogged}table ${name} partition of ${t.partition_of} ${t.partition_bound}${key}`;
  }
  const defs = columns.map((c) => {
    const parts = [quoteIdent(c.name), typeOf(c)];
    if (c.collation) parts.push(`collate ${c.collation}`);
    if (c.identity) {
      const options = c.identity_options ? ` (${c.identity_options})` : '';
      parts.push(`generated ${c.identity === 'a' ? 'always' : 'by default'} as identity${options}`);
    }
    if (c.generated === 's') parts.push(`generated always as (${stripGenerated(c.default_expr)}) stored`);
    if (c.not_null) parts.push('not null');
    return parts.join(' ');
  });
  const key = t.partition_key ? ` partition by ${t.partition_key}` : '';
  return `create ${unlogged}table ${name} (\n  ${defs.join(',\n  ')}\n)${key}`;
}

/** pg_get_expr of a generated column is its expression alone; tolerate a surrounding pair of parentheses. */
const stripGenerated = (expr: string | null) => expr ?? 'null';

/** A column default that is not identity or generated: set after the functions exist. */
export const defaultDdl = (t: RawTable, c: RawColumn): string =>
  `alter table ${qualified(t.schema, t.name)} alter column ${quoteIdent(c.name)} set default ${c.default_expr}`;

export const constraintDdl = (t: RawTable, c: RawConstraint): string =>
  `alter table ${qualified(t.schema, t.name)} add constraint ${quoteIdent(c.name)} ${c.definition}`;

const COMMANDS: Record<RawPolicy['command'], string> = {
  r: 'select',
  a: 'insert',
  w: 'update',
  d: 'delete',
  '*': 'all',
};

export function policyDdl(t: RawTable, p: RawPolicy, roles: string[]): string {
  const parts = [
    `create policy ${quoteIdent(p.name)} on ${qualified(t.schema, t.name)}`,
    `as ${p.permissive ? 'permissive' : 'restrictive'} for ${COMMANDS[p.command]}`,
    `to ${roles.map((r) => (r === 'public' ? 'public' : quoteIdent(r))).join(', ')}`,
  ];
  if (p.using_expr !== null) parts.push(`using (${p.using_expr})`);
  if (p.check_expr !== null) parts.push(`with check (${p.check_expr})`);
  return parts.join(' ');
}

export function viewDdl(v: RawView): string {
  const name = qualified(v.schema, v.name);
  const body = v.definition.trim().replace(/;$/, '');
  if (v.kind === 'm') return `create materialized view ${name} as\n${body}\nwith no data`;
  const options = v.options.length > 0 ? ` with (${v.options.join(', ')})` : '';
  return `create view ${name}${options} as\n${body}`;
}

/** Views in an order where each comes after the views it reads (their oids in `reads`). */
export function viewOrder(views: RawView[]): RawView[] {
  const byOid = new Map(views.map((v) => [v.oid, v]));
  const done = new Set<string>();
  const out: RawView[] = [];
  const visit = (v: RawView, path: Set<string>) => {
    if (done.has(v.oid) || path.has(v.oid)) return;
    path.add(v.oid);
    for (const r of v.reads) {
      const dep = byOid.get(String(r));
      if (dep) visit(dep, path);
    }
    done.add(v.oid);
    out.push(v);
  };
  for (const v of views) visit(v, new Set());
  return out;
}

export const commentDdl = (target: string, description: string): string =>
  `comment on ${target} is ${quoteLiteral(description)}`;

/** `grant select on table …`, or for a column grant `grant update (col) on table …`. */
export function grantDdl(g: RawGrant, grantee: string): string {
  const to = grantee === 'public' ? 'public' : quoteIdent(grantee);
  const privilege = g.privilege.toLowerCase();
  if (g.kind === 'column') return `grant ${privilege} (${g.column_name}) on table ${g.target} to ${to}`;
  return `grant ${privilege} on ${g.kind} ${g.target} to ${to}`;
}
