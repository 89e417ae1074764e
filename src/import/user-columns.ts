import { readExportFile } from '../format/compression.js';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { UnmatchedPolicy, UserColumn, UserColumnCounts } from '../format/user-columns.js';
import { tableFiles } from '../format/manifest.js';
import { displayName, qualifiedName, quoteIdent } from '../pg/sql.js';
import type { UserMap } from '../format/user-map.js';
import { JsonToCopyText, type ValueRewrite } from '../format/json-to-copy.js';
import type { TablePlan } from './preflight.js';

/**
 * The rewrite functions for one import: old id → new id, counting per column what was rewritten and
 * what had no mapping (kept, or NULL, by the policy). Given the export's user ids, a value that is none
 * of them is no user id (a column found by its values also holds other ids): it is kept and counted apart.
 */
export class UserIdRewriter {
  readonly counts: UserColumnCounts[];
  private readonly map: Map<string, string>;
  /** Per column: ids with no mapping seen so far (a few kept as examples). */
  readonly missing = new Map<string, { count: number; examples: Set<string> }>();

  constructor(
    userMap: UserMap,
    columns: readonly UserColumn[],
    private readonly policy: UnmatchedPolicy,
    private readonly userIds?: ReadonlySet<string>,
  ) {
    this.map = new Map(userMap.mappings.map((m) => [m.oldId, m.newId]));
    this.counts = columns.map((c) => ({ ...c, rewritten: 0, unmatched: 0, notUserIds: 0 }));
  }

  /** Per column name, the rewrites for one table (empty when it has no user columns). */
  forTable(schema: string, table: string): Map<string, ValueRewrite> {
    const rewrites = new Map<string, ValueRewrite>();
    for (const counts of this.counts.filter((c) => c.schema === schema && c.table === table)) {
      const key = `${displayName({ schema, name: table })}.${counts.column}`;
      rewrites.set(counts.column, (oldId) => {
        const newId = this.map.get(oldId);
        if (newId !== undefined) {
          counts.rewritten++;
          return newId;
        }
        if (this.userIds && !this.userIds.has(oldId)) {
          counts.notUserIds++;
          return oldId;
        }
        counts.unmatched++;
        const seen = this.missing.get(key) ?? { count: 0, examples: new Set<string>() };
        seen.count++;
        if (seen.examples.size < 3) seen.examples.add(oldId);
        this.missing.set(key, seen);
        return this.policy === 'null' ? null : oldId;
      });
    }
    return rewrites;
  }

  /** The distinct new ids that will be written. */
  newIds(): string[] {
    return [...new Set(this.map.values())];
  }
}

/**
 * Reads the user columns of every file before anything is written, to find ids the map does not cover.
 * Runs the same decoder as the load, so what it finds is exactly what the load would meet.
 */
export async function scanUserColumns(
  dir: string,
  format: 'json' | 'ndjson',
  plans: readonly TablePlan[],
  rewriter: UserIdRewriter,
): Promise<void> {
  for (const plan of plans) {
    const rewrites = rewriter.forTable(plan.entry.schema, plan.entry.name);
    if (rewrites.size === 0) continue;
    const columns = plan.entry.columns.map((column) => ({
      column,
      load: rewrites.has(column.name),
      rewrite: rewrites.get(column.name),
    }));
    for (const file of tableFiles(plan.entry)) {
      const sink = new Writable({ write: (_chunk, _enc, done) => done() });
      await pipeline(readExportFile(join(dir, file.file)), new JsonToCopyText(columns, format), sink);
    }
  }
}

/**
 * Problems a user map would cause in the target, found before writing: unmatched ids under the policy,
 * NULL into NOT NULL columns, new ids the column's type cannot hold. Also the target's foreign keys into
 * auth.users that the new ids would break (notes: they break only where the target checks them).
 */
export async function checkUserColumns(
  client: pg.Client,
  plans: readonly TablePlan[],
  rewriter: UserIdRewriter,
  policy: UnmatchedPolicy,
): Promise<{ problems: string[]; notes: string[] }> {
  const problems: string[] = [];
  const notes: string[] = [];
  const totalMissing = [...rewriter.missing.values()].reduce((n, m) => n + m.count, 0);
  if (totalMissing > 0 && policy === 'error') {
    const [column, first] = [...rewriter.missing.entries()][0]!;
    problems.push(
      `${totalMissing} user id value(s) in the data have no mapping in the user map, in ${rewriter.missing.size} column(s) (e.g. ${[...first.examples][0]} in ${column}); use --unmatched keep to leave them, --unmatched null to clear them, or map those users`,
    );
  }
  const newIds = rewriter.newIds();
  let absent: string[] | null | undefined; // the new ids auth.users lacks, read once (null: unreadable)
  for (const counts of rewriter.counts) {
    // A table or column the target lacks is a problem the pre-flight reports already.
    const plan = plans.find((p) => p.entry.schema === counts.schema && p.entry.name === counts.table);
    const target = plan?.target.columns.find((c) => c.name === counts.column);
    if (!plan || !target) continue;
    const label = `${displayName(plan.entry)}.${counts.column}`;
    if (policy === 'null' && !counts.isArray && !target.nullable && rewriter.missing.has(label)) {
      problems.push(
        `${label} is NOT NULL: --unmatched null cannot clear its ${rewriter.missing.get(label)!.count} unmatched user id(s); use --unmatched keep, or map those users`,
      );
    }
    const arrayType = counts.isArray ? target.type : `${target.type}[]`;
    try {
      await client.query('BEGIN');
      await client.query(`SELECT $1::text[]::${arrayType}`, [newIds]);
    } catch (err) {
      const bad =
        newIds.find((id) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) ??
        newIds[0];
      problems.push(
        `${label} is ${target.type} in the target and cannot hold the new ids (e.g. "${bad}": ${(err as Error).message}); change its type first, e.g. ALTER TABLE ${qualifiedName(plan.target)} ALTER COLUMN ${quoteIdent(counts.column)} TYPE text${counts.isArray ? '[]' : ''}`,
      );
    } finally {
      await client.query('ROLLBACK');
    }
    const fk = plan.target.foreignKeys.find(
      (f) =>
        f.columns.length === 1 &&
        f.columns[0] === counts.column &&
        f.references.schema === 'auth' &&
        f.references.table === 'users',
    );
    if (fk) {
      absent ??= await idsNotInAuthUsers(client, newIds);
      if (absent === null || absent.length > 0) {
        notes.push(
          absent === null
            ? `${label}: the target has foreign key ${fk.name} into auth.users, which this role cannot read: the new ids must exist there, or the import ends with this foreign key violated`
            : `${label}: the target has foreign key ${fk.name} into auth.users, which lacks ${absent.length} of the ${newIds.length} new ids (e.g. ${absent[0]}): create those users there first, or the import ends with this foreign key violated`,
        );
      }
    }
  }
  return { problems, notes };
}

/** The ids of `ids` that the target's auth.users does not hold, or null when it cannot be read. */
async function idsNotInAuthUsers(client: pg.Client, ids: readonly string[]): Promise<string[] | null> {
  try {
    const { rows } = await client.query<{ id: string }>(
      `SELECT n.id FROM unnest($1::text[]) AS n(id)
        WHERE NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id::text = n.id)`,
      [ids],
    );
    return rows.map((r) => r.id);
  } catch {
    return null;
  }
}
