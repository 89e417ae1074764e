/**
 * supamigrate as a library. The CLI (src/cli) is a thin layer over these functions.
 */
export { ConnectionError, IntegrityError, TableError, UsageError } from './errors.js';
export { readCatalog } from './catalog/read-catalog.js';
export { dependencyOrder, type BrokenEdge } from './catalog/dependency-order.js';
export { MANAGED_SCHEMAS, DEFAULT_STREAMING_THRESHOLD } from './catalog/select-tables.js';
export type { ColumnInfo, ForeignKey, TableInfo, ValueType } from './catalog/types.js';
export type { ValueEncoding } from './codec/encodings.js';
export { encodeTable, type EncodedColumn, type EncodedTable } from './codec/encode-column.js';
export {
  exportDatabase,
  exportMethod,
  type ExportEvent,
  type ExportOptions,
  type ExportResult,
  type PlannedTable,
} from './export/export-database.js';
export { parseExportSettings, type ExportSettings } from './export/settings.js';
export { parseImportSettings, type ImportSettings } from './import/settings.js';
export { readManifest, MANIFEST_FILE, type ExportManifest, type ManifestTable } from './format/manifest.js';
export { connect, redactUrl, SESSION_SETTINGS_SQL } from './pg/connect.js';
export { startEmbeddedPostgres, type EmbeddedServer } from './pg/embedded.js';
export { VERSION } from './version.js';
export {
  importDatabase,
  type ImportEvent,
  type ImportOptions,
  type ImportResult,
} from './import/import-database.js';
export { mapUsers } from './users/map-users.js';
export { readAuthUsers, type AuthUser } from './users/auth-users.js';
export { readNewUsers, type NewUser, type NewUsersOptions } from './users/new-users.js';
export { scanUsers, SCAN_RULE, type UserIdScan } from './users/scan.js';
export { readUserMap, writeUserMap, type UserMap } from './format/user-map.js';
export { exportUsersForProvider, type ProviderFormat } from './users/provider-export.js';
export { verify, type VerifyOptions, type VerifyResult, type TableVerification } from './verify/verify.js';
export { createSchema, type SchemaOptions, type SchemaResult, type SchemaReport } from './schema/schema.js';
export { readAppSchemas, type AppSchemas, type SchemaChoice } from './catalog/app-schemas.js';
export {
  exportStorage,
  type StorageEvent,
  type StorageExportOptions,
  type StorageExportResult,
} from './storage/storage-export.js';
export {
  importStorage,
  type StorageImportOptions,
  type StorageImportResult,
} from './storage/storage-import.js';
export {
  verifyStorage,
  type StorageProblem,
  type StorageVerifyOptions,
  type StorageVerifyResult,
} from './storage/storage-verify.js';
export {
  readStorageManifest,
  type StorageManifest,
  type StorageObject,
  type StorageBucket,
} from './format/storage-manifest.js';
export {
  migrate,
  type MigrateEvent,
  type MigrateOptions,
  type MigrateResult,
  type MigrateStep,
} from './migrate/migrate.js';
