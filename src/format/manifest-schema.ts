import { z } from 'zod';
import type { BrokenEdge } from '../catalog/dependency-order.js';
import type { ForeignKey, OwnedSequence } from '../catalog/types.js';
import type { EncodedColumn } from '../codec/encode-column.js';
import { VALUE_ENCODINGS, type ScalarEncoding } from '../codec/encodings.js';
import { fileNameProblem } from './export-path.js';
import type { ExportFormat } from './file-layout.js';
import { fieldPath } from './parse-file.js';

/*
 * metadata.json as a schema: the types export writes are inferred from it, and readManifest parses with
 * it, so what import and verify read is exactly what the types say. Objects are strict: this is our own
 * file, and a field we do not know means another format (or an edit) we should not guess about.
 */

export const MANIFEST_FORMAT_VERSION = 1;

const count = z.int().min(0);
const text = z.string();
const strings = z.array(z.string());
/** `string | null` as a union, so that a wrong value is reported as "expected string or null". */
const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);
const sha256 = orNull(z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256: 64 lowercase hex digits'));

/** A plain file name inside the export directory (see export-path.ts). */
export const fileName = z.string().superRefine((name, ctx) => {
  const problem = fileNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: name });
});

export const tableStateSchema = z.enum(['pending', 'complete', 'failed']);
/**
 * How the table is read: `stream` and `batch` into its file(s); `direct` only in a migrate's own work
 * directory: no file is written, the rows go from the source's COPY straight into the target's.
 */
export const exportMethodSchema = z.enum(['stream', 'batch', 'direct']);
const scalarEncodings = VALUE_ENCODINGS.filter((e): e is ScalarEncoding => e !== 'array');

export const columnSchema = z
  .strictObject({
    name: text,
    /** The declared type as `format_type` prints it, e.g. `numeric(14,6)`, `public.reading_kind[]`. */
    type: text,
    encoding: z.enum(VALUE_ENCODINGS),
    /** For arrays: how each element is written. */
    elementEncoding: z.enum(scalarEncodings).optional(),
    /** For arrays whose element type separates elements with another character than a comma (box: `;`). */
    elementDelimiter: z.string().length(1).optional(),
    nullable: z.boolean(),
    generated: orNull(z.literal('stored')),
    identity: orNull(z.enum(['always', 'by default'])),
    hasDefault: z.boolean(),
  })
  .superRefine((column, ctx) => {
    // The importer cannot decode an array's elements without it.
    if (column.encoding === 'array' && !column.elementEncoding) {
      ctx.addIssue({
        code: 'custom',
        path: ['elementEncoding'],
        message: 'missing (an array column needs it)',
      });
    }
  });

const foreignKeySchema = z.strictObject({
  name: text,
  columns: strings,
  references: z.strictObject({ schema: text, table: text, columns: strings }),
  deferrable: z.boolean(),
});

const ownedSequenceSchema = z.strictObject({
  schema: text,
  name: text,
  column: text,
  /** At export: the value the sequence last handed out in the source (null if never used or unreadable). */
  lastValue: orNull(text).optional(),
});

const brokenEdgeSchema = z.strictObject({
  schema: text,
  table: text,
  foreignKey: text,
  references: z.strictObject({ schema: text, table: text }),
});

/** One range of a large table, read on its own connection into its own file (all in one snapshot). */
export const partSchema = z.strictObject({
  file: fileName,
  /** The heap blocks read: ctid from (from,0) up to (to,0); `to` null means to the end of the table. */
  blocks: z.tuple([count, orNull(count)]),
  state: tableStateSchema,
  rowCount: orNull(count),
  bytes: orNull(count),
  sha256,
  seconds: orNull(z.number().min(0)),
  /** The snapshot this part was read in (it may differ from the table's after --resume). */
  snapshot: orNull(text).optional(),
  error: text.optional(),
});

export const tableSchema = z
  .strictObject({
    /** The snapshot the table was read in: after `export --resume`, kept tables keep theirs. */
    snapshot: orNull(text).optional(),
    schema: text,
    name: text,
    /** File name inside the export directory; null when the table is split into `parts`. */
    file: orNull(fileName),
    /** A large table read in parallel ranges: one file each. Their rows together are the table's. */
    parts: z.array(partSchema).optional(),
    state: tableStateSchema,
    rowCount: count,
    method: exportMethodSchema,
    bytes: orNull(count),
    sha256,
    seconds: orNull(z.number().min(0)),
    kind: z.enum(['table', 'partitioned']),
    columns: z.array(columnSchema),
    primaryKey: strings,
    foreignKeys: z.array(foreignKeySchema),
    ownedSequences: z.array(ownedSequenceSchema),
    rowLevelSecurity: z.boolean(),
    /** When its rows were read. */
    exportedAt: text.optional(),
    error: text.optional(),
  })
  .superRefine((table, ctx) => {
    // Exactly one of the two, or import and verify would not know which files hold the rows.
    if (table.file === null && !table.parts?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['file'],
        message: 'expected a file name (the table has no parts)',
      });
    }
    if (table.file !== null && table.parts) {
      ctx.addIssue({
        code: 'custom',
        path: ['file'],
        message: 'expected null (the table is split into parts)',
      });
    }
    const names = new Map<string, number>();
    table.columns.forEach((column, i) => {
      const before = names.get(column.name);
      if (before !== undefined) {
        const message = `duplicate column ${JSON.stringify(column.name)} (also columns[${before}])`;
        ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message });
      }
      names.set(column.name, i);
    });
  });

/** A file of the auth schema (auth_users.json, auth_identities.json). */
export const fileEntrySchema = z.strictObject({
  file: fileName,
  state: tableStateSchema,
  rowCount: count,
  bytes: orNull(count),
  sha256,
  columns: z.array(columnSchema),
  error: text.optional(),
});

/** The export options recorded, so that `export --resume` makes the first run's choices again. */
export const recordedOptionsSchema = z.strictObject({
  schemas: strings.optional(),
  tables: strings.optional(),
  excludeTables: strings.optional(),
  skipLarge: z.boolean().optional(),
  skipAuth: z.boolean().optional(),
  largeTables: strings.optional(),
  streamingThreshold: count.optional(),
  jobs: z.int().min(1).optional(),
  /** Columns of large-object oids exported as the numbers alone (the objects are not exported). */
  skipLargeObjects: z.boolean().optional(),
  /** How the data files are compressed: `none`, or `gzip:<level>` (their names end in .gz). */
  compress: z
    .string()
    .regex(/^(none|gzip:[1-9])$/)
    .optional(),
});

/** A sequence that no column owns or defaults to: its position, for the import to set (pending there). */
const standaloneSequenceSchema = z.strictObject({
  schema: text,
  name: text,
  /** The value it last handed out (setval's value), as text: it may exceed 2^53. */
  lastValue: text,
  /** false: nextval returns lastValue itself (never used since created or reset). */
  isCalled: z.boolean(),
});

const hexSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256: 64 lowercase hex digits');

/** Written at completion: see manifest-digest.ts. */
const integritySchema = z.strictObject({
  /** sha256 of the canonical JSON of `entries`. */
  sha256: hexSha256,
  /** sha256 of each protected entry's canonical JSON, by name (`table public.devices`, `authUsers`, …). */
  entries: z.record(z.string(), hexSha256),
});

export const manifestSchema = z
  .strictObject({
    formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
    tool: z.strictObject({ name: z.literal('supamigrate'), version: text }),
    exportedAt: text,
    completedAt: orNull(text),
    source: z.strictObject({
      serverVersion: text,
      database: text,
      user: text,
      url: text,
      /** pg_control_system()'s system_identifier (null when the role may not read it); absent before 0.2. */
      systemIdentifier: orNull(text).optional(),
      /** The database's oid: a database dropped and created again under its name has another. */
      databaseOid: count.optional(),
    }),
    /** The snapshot every table was read in (pg_export_snapshot), or null when read in one transaction. */
    snapshot: orNull(text),
    format: z.enum(['json', 'ndjson']),
    options: recordedOptionsSchema,
    tables: z.array(tableSchema),
    /** Foreign keys set aside to break cycles: their tables come before the tables they reference. */
    brokenForeignKeys: z.array(brokenEdgeSchema),
    authUsers: fileEntrySchema.nullable(),
    authIdentities: fileEntrySchema.nullable(),
    /** Sequences of the exported schemas that no exported column uses (absent before supamigrate had it). */
    sequences: z.array(standaloneSequenceSchema).optional(),
    /**
     * Each type of the columns that is not built in, by name, with its whole definition (composite fields,
     * domain base and checks, range subtype…: see catalog/type-definitions.ts). Import refuses a target whose
     * type of that name is defined otherwise. Absent before supamigrate had it.
     */
    typeDefinitions: z.record(z.string(), text).optional(),
    notes: strings,
    /** Digests of the entries, written when the export completes (absent before supamigrate had it). */
    integrity: integritySchema.optional(),
  })
  .superRefine((manifest, ctx) => {
    // Two entries for one table would load it twice; two entries for one file would read it twice.
    const tables = new Map<string, number>();
    const files = new Map<string, string>();
    const claim = (file: string | null | undefined, path: (string | number)[]) => {
      if (!file) return;
      // Case-insensitively: export names files so that they stay apart on case-insensitive file systems.
      const key = file.toLowerCase();
      const before = files.get(key);
      if (before !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${JSON.stringify(file)} is also the file of ${before}`,
        });
      } else files.set(key, fieldPath(path.slice(0, -1)));
    };
    manifest.tables.forEach((table, i) => {
      const key = JSON.stringify([table.schema, table.name]);
      const before = tables.get(key);
      if (before !== undefined) {
        const message = `a second entry for ${table.schema}.${table.name} (also tables[${before}])`;
        ctx.addIssue({ code: 'custom', path: ['tables', i, 'name'], message });
      }
      tables.set(key, i);
      claim(table.file, ['tables', i, 'file']);
      table.parts?.forEach((part, k) => claim(part.file, ['tables', i, 'parts', k, 'file']));
    });
    claim(manifest.authUsers?.file, ['authUsers', 'file']);
    claim(manifest.authIdentities?.file, ['authIdentities', 'file']);
  });

export type TableState = z.infer<typeof tableStateSchema>;
export type ExportMethod = z.infer<typeof exportMethodSchema>;
export type ManifestColumn = z.infer<typeof columnSchema>;
export type ManifestPart = z.infer<typeof partSchema>;
export type ManifestTable = z.infer<typeof tableSchema>;
export type ManifestFile = z.infer<typeof fileEntrySchema>;
export type RecordedOptions = z.infer<typeof recordedOptionsSchema>;
export type ExportManifest = z.infer<typeof manifestSchema>;

// The schema describes the same shapes as the catalog and codec types it stores: a change on either
// side that the other does not follow fails the type check here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
type _SchemaMatchesTypes = [
  Assert<Same<ManifestColumn, EncodedColumn>>,
  Assert<Same<ManifestTable['foreignKeys'][number], ForeignKey>>,
  Assert<Same<ManifestTable['ownedSequences'][number], OwnedSequence>>,
  Assert<Same<ExportManifest['brokenForeignKeys'][number], BrokenEdge>>,
  Assert<Same<ExportManifest['format'], ExportFormat>>,
];
