import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { readCatalog } from '../catalog/read-catalog.js';
import type { TableInfo } from '../catalog/types.js';
import { readTypeDefinitions, type TypeDefinitions } from '../catalog/type-definitions.js';
import type { EncodedTable } from '../codec/encode-column.js';
import { fromTable } from '../codec/row-sql.js';
import type { DirectRows } from '../import/feed.js';
import { ConnectionError } from '../errors.js';
import type { ManifestTable } from '../format/manifest.js';
import { quoteIdent } from '../pg/sql.js';
import { connect, describeUrl } from '../pg/connect.js';
import { IoTimeoutError } from '../pg/io-timeout.js';
import { openSharedSnapshot, type SharedSnapshot } from '../pg/snapshot.js';
import type { MigrateSettings } from './settings.js';

/*
 * The direct path of migrate: a table whose every column has the same type in the target is copied from
 * the source's COPY text straight into the target's COPY (as pg_dump | psql and pgcopydb do), written to
 * no file and decoded by nobody. The rest (a user map to apply, --keep-files, another type in the target)
 * goes through the export's files.
 */

const key = (schema: string, name: string) => `${schema}\u0000${name}`;

/** Schemas of the target that can hold application tables (the export's choice is made later, on the source). */
const TARGET_SCHEMAS_SQL = /* SQL */ `
  SELECT nspname AS name FROM pg_namespace
  WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'`;

/**
 * xml's output drops a document's declaration (`<?xml version="1.0"?>`) that its `::text` keeps, so a
 * column whose values hold xml (an xml column, array, domain, or a composite with an xml field) goes
 * through the file, whose text is the `::text`.
 */
const XML = /(^|[\s{,(])xml(\[\])?($|[\s},)])/;

/**
 * Which tables can be copied directly: the target has the table, and each of the source's columns with
 * the same name and the same declared type (`format_type`, typmod included) of the same definition (a type
 * of the same name may be another type: see type-definitions.ts), so that the target reads the source's text
 * of each value as the same value.
 */
export async function directTables(
  target: pg.Client,
  /** A dry run's plan: a table the target lacks would be created by the schema step, with the source's types. */
  lackingCreated = false,
): Promise<DirectChoice> {
  const schemas = (await target.query<{ name: string }>(TARGET_SCHEMAS_SQL)).rows.map((r) => r.name);
  const tables = new Map<string, TableInfo>(
    (await readCatalog(target, schemas)).map((t) => [key(t.schema, t.name), t]),
  );
  const targetTypes = await readTypeDefinitions(target);
  return (table, sourceTypes) => {
    const noXml = (type: string) => !XML.test(sourceTypes(type));
    const same = (type: string, there: string | undefined) =>
      there === type && targetTypes(type) === sourceTypes(type) && noXml(type);
    const there = tables.get(key(table.schema, table.name));
    if (!there)
      return lackingCreated && table.columns.length > 0 && table.columns.every((c) => noXml(c.type));
    return (
      table.columns.length > 0 &&
      table.columns.every((c) => same(c.type, there.columns.find((t) => t.name === c.name)?.type))
    );
  };
}

/**
 * Connections reading the export's snapshot, for the direct copies: one per load lane at most, kept from
 * table to table (joining a snapshot costs a connection and three statements), closed after a failure.
 */
export class SnapshotReaders {
  private readonly idle: pg.Client[] = [];
  private readonly open = new Set<pg.Client>();

  constructor(
    private readonly snapshot: SharedSnapshot,
    /** Where the source is (user@host:port/database) and its --io-timeout, for the error of a silent one. */
    private readonly source: { where: string; ioTimeout: number },
  ) {}

  /** The COPY text of `columns` of a table, read in the snapshot. */
  readonly rows = async (entry: ManifestTable, columns: readonly string[]): Promise<DirectRows> => {
    const client = this.idle.pop() ?? (await this.openReader());
    this.open.add(client);
    try {
      const list = columns.map(quoteIdent).join(', ');
      const stream = client.query(copyStreams.to(`COPY (SELECT ${list} FROM ${fromTable(entry)}) TO STDOUT`));
      return {
        stream,
        rowCount: () => stream.rowCount ?? null,
        silent: () =>
          new IoTimeoutError(
            `no data from the source database ${this.source.where} for ${this.source.ioTimeout} s (--io-timeout): the connection was closed`,
          ),
        release: (ok) => this.release(client, ok),
      };
    } catch (err) {
      this.release(client, false);
      throw err;
    }
  };

  /** A new connection in the snapshot; once the snapshot is lost, migrate's own advice. */
  private async openReader(): Promise<pg.Client> {
    try {
      const client = await this.snapshot.openWorker();
      // reg* values printed qualified (public.foo), as the target's load reads them (see loadTable).
      await client.query(`SET LOCAL search_path = ''`);
      return client;
    } catch (err) {
      if (!(err instanceof ConnectionError) || !/snapshot .* was lost/.test(err.message)) throw err;
      throw new ConnectionError(
        `the source snapshot was lost (the connection holding it, to ${this.source.where}, ended): no new connection can read the same instant; run the same migrate with --resume to copy the rest in a new snapshot`,
        this.source.where,
        { cause: err },
      );
    }
  }

  /** Closes every connection (once the loads are over). */
  async close(): Promise<void> {
    this.idle.length = 0;
    await Promise.all([...this.open].map((c) => c.end().catch(() => undefined)));
    this.open.clear();
  }

  private release(client: pg.Client, ok: boolean): void {
    if (ok) {
      this.idle.push(client);
      return;
    }
    // Mid-COPY, or its transaction aborted: no further statement can run on it.
    this.open.delete(client);
    void client.end().catch(() => undefined);
  }
}

/** Whether a table is copied directly, given the source's type definitions (the export reads them). */
type DirectChoice = (table: EncodedTable, sourceTypes: TypeDefinitions) => boolean;

export interface Direct {
  /** None on a dry run (which copies nothing: its export plans in a snapshot of its own). */
  snapshot?: SharedSnapshot;
  readers?: SnapshotReaders;
  tables: DirectChoice | undefined;
}

/**
 * Without a user map to apply or files to keep, the run holds the source's snapshot itself: the export
 * reads in it, and so do the direct copies of the tables whose columns the target has with the same types.
 */
export async function openDirect(settings: MigrateSettings): Promise<Direct | null> {
  if (settings.userMap || settings.keepFiles !== undefined) return null;
  // A dry run shows the tables a run would copy directly.
  if (settings.dryRun) return { tables: await targetChoice(settings, true) };
  const snapshot = await openSharedSnapshot(settings.dbUrl, { ioTimeout: settings.export.ioTimeout });
  try {
    const tables = await targetChoice(settings, false);
    const readers = new SnapshotReaders(snapshot, {
      where: describeUrl(settings.dbUrl),
      ioTimeout: settings.export.ioTimeout,
    });
    return { snapshot, readers, tables: snapshot.id ? tables : undefined };
  } catch (err) {
    await snapshot.close();
    throw err;
  }
}

/** The choice against the target as it is (`lackingCreated`: a dry run's, see directTables). */
async function targetChoice(settings: MigrateSettings, lackingCreated: boolean): Promise<DirectChoice> {
  const target = await connect(settings.targetUrl, { role: 'target', ioTimeout: settings.import.ioTimeout });
  try {
    return await directTables(target, lackingCreated);
  } finally {
    await target.end().catch(() => undefined);
  }
}
