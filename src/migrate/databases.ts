import type pg from 'pg';
import { readAppSchemas } from '../catalog/app-schemas.js';
import { readTypeDefinitions } from '../catalog/type-definitions.js';
import type { TableInfo } from '../catalog/types.js';
import { selectedTables } from '../export/plan.js';
import { SERVER_SQL } from '../catalog/catalog.sql.js';
import { fromTable } from '../codec/row-sql.js';
import { UsageError } from '../errors.js';
import type { DatabaseIdentity } from '../format/migrate-record.js';
import { connect, describeUrl } from '../pg/connect.js';
import { displayName } from '../pg/sql.js';
import { sameDatabaseProblem, type MigrateSettings } from './settings.js';

export interface Databases {
  source: pg.Client;
  target: pg.Client;
  identities: { source: DatabaseIdentity; target: DatabaseIdentity };
  close: () => Promise<void>;
}

/** Opens one connection to each side at once; when both fail, both reasons are reported together. */
export async function connectBoth(settings: MigrateSettings): Promise<Databases> {
  const ioTimeout = settings.import.ioTimeout;
  const [source, target] = await Promise.allSettled([
    connect(settings.dbUrl, { role: 'source', ioTimeout }),
    connect(settings.targetUrl, { role: 'target', ioTimeout }),
  ]);
  if (source.status === 'rejected' || target.status === 'rejected') {
    if (source.status === 'fulfilled') await source.value.end().catch(() => undefined);
    if (target.status === 'fulfilled') await target.value.end().catch(() => undefined);
    const reasons = [source, target].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (reasons.length === 1) throw reasons[0];
    throw new UsageError(reasons.map((r) => (r as Error).message));
  }
  const close = async () => {
    await source.value.end().catch(() => undefined);
    await target.value.end().catch(() => undefined);
  };
  try {
    const identities = {
      source: await identify(source.value, settings.dbUrl),
      target: await identify(target.value, settings.targetUrl),
    };
    if (await sameServerDatabase(source.value, target.value, identities))
      throw new UsageError(sameDatabaseProblem(settings.targetUrl));
    return { source: source.value, target: target.value, identities, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function identify(client: pg.Client, url: string): Promise<DatabaseIdentity> {
  const row = (await client.query<{ database_oid: string; system_identifier: string | null }>(SERVER_SQL))
    .rows[0]!;
  return {
    where: describeUrl(url),
    systemIdentifier: row.system_identifier,
    databaseOid: Number(row.database_oid),
  };
}

/**
 * Whether the two connections reached one database under two names (localhost and 127.0.0.1, a DNS
 * alias, a proxy): the same cluster identity and database oid when both can be read; otherwise the target
 * sees the source's own session (same pid, same start) in its pg_stat_activity, in the same database.
 */
async function sameServerDatabase(
  source: pg.Client,
  target: pg.Client,
  ids: { source: DatabaseIdentity; target: DatabaseIdentity },
): Promise<boolean> {
  if (ids.source.systemIdentifier !== null && ids.target.systemIdentifier !== null)
    return (
      ids.source.systemIdentifier === ids.target.systemIdentifier &&
      ids.source.databaseOid === ids.target.databaseOid
    );
  const me = (
    await source.query<{ pid: number; started: string }>(
      `select pg_backend_pid() as pid, (select backend_start::text from pg_stat_activity where pid = pg_backend_pid()) as started`,
    )
  ).rows[0]!;
  const seen = await target.query(
    `select 1 from pg_stat_activity where pid = $1 and backend_start::text = $2 and datname = current_database()`,
    [me.pid, me.started],
  );
  return seen.rows.length > 0;
}

/** The refusal of a resume against other databases than the interrupted run's. */
export function checkSameDatabases(
  recorded: { source: DatabaseIdentity; target: DatabaseIdentity },
  now: { source: DatabaseIdentity; target: DatabaseIdentity },
): void {
  const differ = (['source', 'target'] as const).filter((side) => {
    const [a, b] = [recorded[side], now[side]];
    return (
      a.databaseOid !== b.databaseOid ||
      (a.systemIdentifier !== null &&
        b.systemIdentifier !== null &&
        a.systemIdentifier !== b.systemIdentifier)
    );
  });
  if (differ.length > 0)
    throw new UsageError(
      `cannot resume: the ${differ.join(' and ')} database is not the one the interrupted migrate used (${differ.map((s) => recorded[s].where).join(', ')}; dropped and created again, or another server)`,
    );
}

export interface TargetState {
  /** The schemas whose tables are moved. */
  schemas: string[];
  /** The source's tables that are moved (--table, --exclude-table applied). */
  moved: TableInfo[];
  /** The target's tables in those schemas. */
  tables: { schema: string; name: string; kind: 'table' | 'partitioned' }[];
  /** Those holding rows. */
  nonEmpty: string[];
}

const TARGET_TABLES_SQL = /* SQL */ `
  select n.nspname as schema, c.relname as name, c.relkind = 'p' as partitioned
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = any($1) and c.relkind in ('r', 'p') and not c.relispartition
    -- an extension's own table (PostGIS's spatial_ref_sys) is the extension's, not the application's
    and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
  order by 1, 2`;

/** Which of the moved schemas' tables the target has, and which of them hold rows. */
export async function readTargetState(dbs: Databases, settings: MigrateSettings): Promise<TargetState> {
  const schemas = settings.export.appSchemas
    ? (await readAppSchemas(dbs.source)).included.map((s) => s.name)
    : settings.export.schemas;
  const { rows } = await dbs.target.query<{ schema: string; name: string; partitioned: boolean }>(
    TARGET_TABLES_SQL,
    [schemas],
  );
  const tables = rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    kind: r.partitioned ? ('partitioned' as const) : ('table' as const),
  }));
  const moved = await selectedTables(dbs.source, { ...settings.export, schemas });
  const loaded = new Set(moved.map(displayName));
  const nonEmpty: string[] = [];
  // Only the tables this run loads: rows in the others are none of its business.
  for (const t of tables.filter((t) => loaded.has(displayName(t)))) {
    const { rows: hit } = await dbs.target.query(`select 1 from ${fromTable(t)} limit 1`);
    if (hit.length > 0) nonEmpty.push(displayName(t));
  }
  return { schemas, moved, tables, nonEmpty };
}

/** A target whose tables hold rows is refused before anything is read (unless --truncate or --resume). */
export function refuseNonEmpty(state: TargetState, settings: MigrateSettings): void {
  if (state.nonEmpty.length === 0 || settings.truncate || settings.resume) return;
  const shown = state.nonEmpty.slice(0, 10).join(', ');
  const more = state.nonEmpty.length > 10 ? ` and ${state.nonEmpty.length - 10} more` : '';
  throw new UsageError(
    `the target is not empty: ${shown}${more} ${state.nonEmpty.length === 1 ? 'holds' : 'hold'} rows; migrate loads into empty tables: give --truncate to empty them first, or another --target-url`,
  );
}

/**
 * A type the target has under the same name as the source's, but defined otherwise (a composite's fields
 * in another order, a domain over another type, a range of another subtype): its values' text would be read
 * there as other values, or not at all, and a checksum of that text could not tell. Refused, naming each
 * column, before anything is written.
 */
export async function refuseOtherTypes(dbs: Databases, state: TargetState): Promise<void> {
  if (state.tables.length === 0) return; // the schema step creates the target's types from the source's
  const [sourceTypes, targetTypes] = [
    await readTypeDefinitions(dbs.source),
    await readTypeDefinitions(dbs.target),
  ];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const table of state.moved) {
    for (const column of table.columns) {
      if (seen.has(column.type)) continue;
      seen.add(column.type);
      const [here, there] = [sourceTypes(column.type), targetTypes(column.type)];
      // Built-in types are their name on both sides; a type the target lacks is the pre-flight's to report.
      if (here === column.type || there === column.type || here === there) continue;
      problems.push(
        `type ${column.type} (column ${displayName(table)}.${column.name}) is not the same type in the target: ${here} in the source, ${there} in the target; its values would be read there as other values: make the target's type the source's, or leave the table out (--exclude-table)`,
      );
    }
  }
  if (problems.length > 0) throw new UsageError(problems);
}
