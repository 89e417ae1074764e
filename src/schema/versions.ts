import type { RawConstraint, RawTable } from './read-source.js';

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
