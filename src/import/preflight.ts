import type pg from 'pg';
import { DEFERRED_TABLE } from './deferred-indexes.js';
import type { BrokenEdge } from '../catalog/dependency-order.js';
import { readCatalog } from '../catalog/read-catalog.js';
import { readTypeDefinitions } from '../catalog/type-definitions.js';
import type { TableInfo } from '../catalog/types.js';
import type { ManifestTable } from '../format/manifest.js';
import { fromTable } from '../codec/row-sql.js';
import { displayName } from '../pg/sql.js';
import type { DecoderColumn } from '../format/json-to-copy.js';
import { ROLE_SQL, TABLE_ACCESS_SQL } from './import.sql.js';
import { typeTakes } from '../codec/type-compat.js';
import { keyedTables, referenceChecks } from './preflight-references.js';

/** How user triggers (and foreign-key triggers) are kept from firing while loading. */
export type TriggerMode = 'replica' | 'disable-user-triggers';

export interface TablePlan {
  entry: ManifestTable;
  target: TableInfo;
  /** Columns in file order; `load: false` for those the target computes (generated columns). */
  columns: DecoderColumn[];
  /** The target table already holds rows. */
  nonEmpty: boolean;
  /**
   * The role owns the table but FORCE ROW LEVEL SECURITY would apply its policies to it: each load lifts
   * FORCE inside its transaction and sets it again before COMMIT.
   */
  liftForcedRls?: boolean;
}

export interface ImportPreflight {
  tables: TablePlan[];
  /** Foreign keys closing a cycle, dropped for the load and added back after it (owner, no replica mode). */
  cycleKeys: { table: TablePlan; name: string }[];
  triggerMode: TriggerMode;
  role: string;
  /** Everything that stops the import; all of it is reported at once. */
  problems: string[];
  notes: string[];
}

export interface PreflightOptions {
  truncate: boolean;
  onConflict: 'error' | 'skip';
  /** The export's broken cycle edges (metadata.json). */
  brokenForeignKeys: readonly BrokenEdge[];
  /** Whether foreign keys closing a cycle may be set aside for the load (progress kept in the target). */
  setAsideCycleKeys?: boolean;
  /** Split tables an earlier run loaded in part (--resume finishes them): not empty, by design. */
  partial?: ReadonlySet<string>;
  /** Every table of the import, those an earlier run loaded too (foreign keys into them resolve). */
  imported?: readonly { schema: string; name: string }[];
  /** The export's definitions of its columns' types (metadata.json), to compare with the target's. */
  typeDefinitions?: Readonly<Record<string, string>>;
}

/**
 * Checks the target before anything is written: every table and column exists with a type that takes the
 * data, NOT NULL columns without a default are in the export, tables are empty (unless truncating or
 * skipping conflicts), row-level security will not hide rows, and triggers can be kept from firing.
 */
export async function preflight(
  client: pg.Client,
  entries: readonly ManifestTable[],
  options: PreflightOptions,
): Promise<ImportPreflight> {
  const problems: string[] = [];
  const notes: string[] = [];
  const schemas = [...new Set(entries.map((e) => e.schema))];
  const catalog = await readCatalog(client, schemas);
  const byName = new Map(catalog.map((t) => [`${t.schema}\u0000${t.name}`, t]));
  const role = (await client.query<{ name: string; superuser: boolean; bypass_rls: boolean }>(ROLE_SQL))
    .rows[0]!;
  const triggerMode = (await replicaAllowed(client)) ? 'replica' : 'disable-user-triggers';
  const recorded = options.typeDefinitions ?? {};
  const targetTypes = Object.keys(recorded).length > 0 ? await readTypeDefinitions(client) : null;

  const tables: TablePlan[] = [];
  const emptinessProblems: { label: string; oid: number }[] = [];
  for (const entry of entries) {
    const label = displayName(entry);
    const target = byName.get(`${entry.schema}\u0000${entry.name}`);
    if (!target) {
      problems.push(
        `${label}: no such table in the target (create the schema first: your migrations, or pg_dump --schema-only of the source)`,
      );
      continue;
    }
    const columns: DecoderColumn[] = [];
    for (const column of entry.columns) {
      const there = target.columns.find((c) => c.name === column.name);
      if (!there) {
        problems.push(
          `${label}: column ${JSON.stringify(column.name)} (${column.type}) is missing in the target`,
        );
        continue;
      }
      if (there.generated) {
        columns.push({ column, load: false });
        continue;
      }
      if (!typeTakes(column.type, there.type)) {
        problems.push(
          `${label}: column ${JSON.stringify(column.name)} is ${there.type} in the target but ${column.type} in the export`,
        );
      } else if (targetTypes && there.type === column.type && recorded[column.type] !== undefined) {
        // The same name, but another type: its values' text would be read as other values (fields swapped).
        const theirs = targetTypes(column.type);
        if (theirs !== recorded[column.type])
          problems.push(
            `${label}: column ${JSON.stringify(column.name)} is of type ${column.type}, which the target defines otherwise (${theirs}; in the export: ${recorded[column.type]}): its values would be read there as other values; make the target's type the export's`,
          );
      }
      columns.push({ column, load: true });
    }
    for (const extra of target.columns.filter((c) => !entry.columns.some((e) => e.name === c.name))) {
      if (!extra.nullable && !extra.hasDefault && !extra.generated && !extra.identity) {
        problems.push(
          `${label}: target column ${JSON.stringify(extra.name)} is NOT NULL without a default, and the export has no such column`,
        );
      } else {
        notes.push(
          `${label}: target column ${JSON.stringify(extra.name)} is not in the export; it gets its default`,
        );
      }
    }
    let nonEmpty = false;
    try {
      nonEmpty = (await client.query(`SELECT 1 FROM ${fromTable(target)} LIMIT 1`)).rowCount! > 0;
    } catch (err) {
      // Row-level security that applies to this role is reported below, with what to do.
      if (!/row-level security/.test((err as Error).message)) {
        problems.push(`${label}: cannot read the target table (${(err as Error).message})`);
      }
    }
    const partial = options.partial?.has(`${entry.schema}\u0000${entry.name}`) ?? false;
    if (nonEmpty && !options.truncate && options.onConflict !== 'skip' && !partial) {
      emptinessProblems.push({ label, oid: target.oid });
    }
    tables.push({ entry, target, columns, nonEmpty });
  }

  const keyed = await keyedTables(client, tables);
  for (const { label, oid } of emptinessProblems) {
    // --on-conflict skip only where a key says which rows exist: without one it would insert duplicates.
    problems.push(
      `${label}: the target table is not empty (use --truncate to empty it first${keyed.has(oid) ? ', or --on-conflict skip' : ''})`,
    );
  }
  if (options.onConflict === 'skip') {
    for (const t of tables.filter((t) => !keyed.has(t.target.oid))) {
      problems.push(
        `${displayName(t.entry)}: --on-conflict skip needs a primary key, or a unique key over NOT NULL columns without a WHERE, in the target table to know which rows exist, and it has none (its rows would be inserted twice: a NULL or a partial key tells no row exists); empty it with --truncate instead`,
      );
    }
  }
  const references = await referenceChecks(client, tables, {
    truncate: options.truncate && tables.some((t) => t.nonEmpty),
    imported: options.imported ?? entries,
  });
  problems.push(...references.problems);
  notes.push(...references.notes);

  const access = new Map(
    (
      await client.query<{ oid: string; owner: boolean; rls: boolean; force_rls: boolean }>(
        TABLE_ACCESS_SQL,
        [tables.map((t) => t.target.oid)],
      )
    ).rows.map((r) => [Number(r.oid), r]),
  );
  for (const t of tables) {
    const a = access.get(t.target.oid)!;
    if (a.rls && a.force_rls && a.owner && !role.superuser && !role.bypass_rls) t.liftForcedRls = true;
    else if (a.rls && !role.superuser && !role.bypass_rls && !a.owner) {
      problems.push(
        `${displayName(t.entry)}: row-level security is enabled and role ${role.name} does not bypass it (rows it may not see would be lost); connect as the table owner, a superuser, or a role with BYPASSRLS (on Supabase: postgres)`,
      );
    }
    if (triggerMode === 'disable-user-triggers' && !a.owner && !role.superuser) {
      problems.push(
        `${displayName(t.entry)}: role ${role.name} may neither set session_replication_role nor disable the table's triggers (it does not own the table); connect as the owner or a superuser`,
      );
    }
  }
  const cycleKeys: ImportPreflight['cycleKeys'] = [];
  if (triggerMode === 'disable-user-triggers') {
    // Foreign keys are checked in this mode, so a table cannot load before a table it references: the
    // owner drops the key closing a cycle for the load and adds it back after (which checks every row).
    for (const edge of options.brokenForeignKeys) {
      const from = tables.find((t) => t.entry.schema === edge.schema && t.entry.name === edge.table);
      const to = tables.some(
        (t) => t.entry.schema === edge.references.schema && t.entry.name === edge.references.table,
      );
      if (!from || !to || !from.target.foreignKeys.some((fk) => fk.name === edge.foreignKey)) continue;
      if (options.setAsideCycleKeys && access.get(from.target.oid)!.owner) {
        cycleKeys.push({ table: from, name: edge.foreignKey });
        notes.push(
          `${displayName(from.entry)}: foreign key ${edge.foreignKey} closes a cycle with ${displayName({ schema: edge.references.schema, name: edge.references.table })}: dropped for the load and added back after it, which checks every row (recorded in ${DEFERRED_TABLE} in the target until it is)`,
        );
      } else {
        problems.push(
          `${displayName(from.entry)}: foreign key ${edge.foreignKey} closes a cycle with ${displayName({ schema: edge.references.schema, name: edge.references.table })}, which cannot load while foreign keys are checked; import as the table's owner, or as a role that may SET session_replication_role (a superuser, or GRANT SET ON PARAMETER session_replication_role), or drop the foreign key for the import and add it back after`,
        );
      }
    }
  }
  return { tables, cycleKeys, triggerMode, role: role.name, problems, notes };
}

/** Whether this role may SET session_replication_role (superusers, or GRANT SET ON PARAMETER in PG 15+). */
async function replicaAllowed(client: pg.Client): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL session_replication_role = replica');
    return true;
  } catch {
    return false;
  } finally {
    await client.query('ROLLBACK');
  }
}
