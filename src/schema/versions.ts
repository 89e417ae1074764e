import type { RawConstraint, RawTable, SourceSchema } from './read-source.js';

/*
 * What a source on a newer PostgreSQL may have that an older target cannot take (Supabase runs 15 and 17):
 * found before anything is written, left out with a line in the report, or reported as a problem.
 */

/** Privileges PostgreSQL added after 15, with the server_version_num that has them. */
const PRIVILEGE_SINCE: Record<string, number> = { MAINTAIN: 170000 };

export const major = (version: number) => Math.floor(version / 10000);

/** Whether the target server (server_version_num, 0: unknown) lacks this privilege. */
export const lacksPrivilege = (privilege: string, target: number): boolean =>
  target > 0 && target < (PRIVILEGE_SINCE[privilege.toUpperCase()] ?? 0);

/** The report's line for the grants left out because the target lacks their privileges. */
export function leftOutPrivileges(
  left: { privilege: string; grantee: string }[],
  source: number,
  target: number,
): string[] {
  if (left.length === 0) return [];
  const privileges = [...new Set(left.map((g) => g.privilege.toUpperCase()))].join(', ');
  const grantees = [...new Set(left.map((g) => g.grantee))].join(', ');
  return [
    `${privileges} (PostgreSQL ${major(source)}): not a privilege on the target's PostgreSQL ${major(target)}: ${left.length} grant(s) of it to ${grantees} left out`,
  ];
}

/** DDL of a newer server that the target's version refuses: exclusion constraints on partitioned tables (17). */
export function versionProblems(
  constraints: RawConstraint[],
  tableOf: Map<string, RawTable>,
  target: number,
): string[] {
  if (target === 0 || target >= 170000) return [];
  return constraints
    .filter((c) => c.type === 'x' && tableOf.get(c.table_oid)?.kind === 'p')
    .map((c) => {
      const t = tableOf.get(c.table_oid)!;
      return `exclusion constraint ${c.name} on partitioned table ${t.schema}.${t.name}: PostgreSQL ${major(target)} (the target) has none on partitioned tables (17 does): drop it in the source, or use a PostgreSQL 17 target`;
    });
}

/**
 * SQL that the server prints (pg_get_viewdef, pg_get_expr) in a form an older server cannot parse: the
 * SQL/JSON constructors and predicates (16), JSON_TABLE and the SQL/JSON query functions (17), functions
 * new in pg_catalog (printed unqualified, as an application's own never are with an empty search_path).
 */
const SYNTAX_SINCE: { pattern: RegExp; since: number }[] = [
  { pattern: /\bJSON_(?:TABLE|QUERY|EXISTS|VALUE|SCALAR|SERIALIZE)\s*\(|(?<![\w.])JSON\s*\(/, since: 170000 },
  {
    pattern:
      /\bJSON_(?:OBJECT|ARRAY|OBJECTAGG|ARRAYAGG)\s*\(|\bIS (?:NOT )?JSON\b|\bSYSTEM_USER\b|(?<![\w.])any_value\(/,
    since: 160000,
  },
];

/**
 * Definitions the target's older server cannot parse, found before writing: views, defaults and
 * generated columns, checks, policies, indexes, and SQL-standard function bodies (parsed when created;
 * other bodies are not checked until they run).
 */
export function newerSyntax(source: SourceSchema, target: number): string[] {
  if (target === 0 || target >= source.version) return [];
  const tables = new Map(source.tables.map((t) => [t.oid, `${t.schema}.${t.name}`]));
  const texts: { what: string; text: string | null }[] = [
    ...source.views.map((v) => ({ what: `view ${v.schema}.${v.name}`, text: v.definition })),
    ...source.columns.map((c) => ({
      what: `the ${c.generated ? 'generated column' : 'default of'} ${tables.get(c.table_oid)}.${c.name}`,
      text: c.default_expr,
    })),
    ...source.constraints
      .filter((c) => c.type === 'c')
      .map((c) => ({ what: `check ${c.name} on ${tables.get(c.table_oid)}`, text: c.definition })),
    ...source.policies.map((p) => ({
      what: `policy "${p.name}" on ${tables.get(p.table_oid)}`,
      text: `${p.using_expr ?? ''} ${p.check_expr ?? ''}`,
    })),
    ...source.indexes.map((i) => ({ what: `index ${i.schema}.${i.name}`, text: i.definition })),
    ...source.functions
      .filter((f) => f.body === '' && f.definition !== null)
      .map((f) => ({ what: `function ${f.signature}`, text: f.definition })),
  ];
  return texts.flatMap(({ what, text }) => {
    const since = SYNTAX_SINCE.find((x) => x.since > target && x.pattern.test(text ?? ''))?.since;
    return since
      ? [
          `${what} uses SQL of PostgreSQL ${major(since)} (the target runs ${major(target)}): rewrite it in the source, or use a PostgreSQL ${major(since)} target`,
        ]
      : [];
  });
}
