import { isTransient } from '../pg/retry.js';
import { SNAPSHOT_LOST } from './run-tables.js';
import type pg from 'pg';
import { readCatalog } from '../catalog/read-catalog.js';
import type { TableInfo } from '../catalog/types.js';
import { encodeTable } from '../codec/encode-column.js';
import { columnForms } from '../codec/text-to-json.js';
import { describeError } from '../errors.js';
import type { ExportFormat } from '../format/file-layout.js';
import { compressedName, type Compression } from '../format/compression.js';
import type { ExportManifest, ManifestFile } from '../format/manifest.js';
import { isComplete, markFailed, markFileComplete, newFileEntry } from '../format/manifest-state.js';
import { displayName } from '../pg/sql.js';
import { AUTH_IDENTITIES_FILE, AUTH_USERS_FILE, authUsersTable } from './auth-tables.js';
import type { ExportEvent } from './events.js';
import { exportTable } from './export-table.js';
import { exactCount } from './plan.js';

type AuthKey = keyof Pick<ExportManifest, 'authUsers' | 'authIdentities'>;

/**
 * Exports Supabase's auth.users (the columns a user mapping needs) and auth.identities to files of their
 * own, in the export's snapshot. A resumed export keeps them when the earlier run completed both.
 */
export async function exportAuthUsers(
  client: pg.Client,
  dir: string,
  { format, compression }: { format: ExportFormat; compression: Compression | null },
  manifest: ExportManifest,
  previous: ExportManifest | null,
  emit: (e: ExportEvent) => void,
  failures: { table: string; error: string }[],
): Promise<void> {
  if (previous && isComplete(previous.authUsers) && isComplete(previous.authIdentities)) {
    manifest.authUsers = previous.authUsers;
    manifest.authIdentities = previous.authIdentities;
    return;
  }
  const failed = (table: { schema: string; name: string }, message: string) => {
    failures.push({ table: displayName(table), error: message });
    emit({ type: 'table-failed', schema: table.schema, name: table.name, error: message });
  };
  let auth;
  try {
    auth = await readCatalog(client, ['auth']);
  } catch (err) {
    // The snapshot's connection gone: the auth schema was never read, not missing or unreadable.
    if (isTransient(err)) return failed({ schema: 'auth', name: 'users' }, `not exported: ${SNAPSHOT_LOST}`);
    return failed({ schema: 'auth', name: 'users' }, `cannot read the auth schema: ${describeError(err)}`);
  }
  const users = auth.find((t) => t.name === 'users');
  if (!users) {
    const note = 'no auth.users table in the source: no auth users exported (not a Supabase database?)';
    manifest.notes.push(note);
    emit({ type: 'note', message: note });
    return;
  }
  const identities = auth.find((t) => t.name === 'identities');
  const files: [AuthKey, TableInfo, string][] = [['authUsers', authUsersTable(users), AUTH_USERS_FILE]];
  if (identities) files.push(['authIdentities', identities, AUTH_IDENTITIES_FILE]);
  for (const [key, info, stem] of files) {
    const table = encodeTable(info);
    const entry: ManifestFile = newFileEntry(compressedName(`${stem}.${format}`, compression), table.columns);
    manifest[key] = entry;
    try {
      entry.rowCount = await exactCount(client, table);
      const { schema, name } = table;
      emit({ type: 'table-start', schema, name, rowCount: entry.rowCount, method: 'stream' });
      const result = await exportTable(client, {
        table,
        forms: columnForms(info.columns),
        dir,
        file: entry.file,
        format,
        compression,
        expectedRows: entry.rowCount,
        onRows: (rows) => emit({ type: 'table-progress', schema, name, rows, rowCount: entry.rowCount }),
      });
      markFileComplete(entry, result);
      emit({ type: 'table-done', schema, name, result });
    } catch (err) {
      markFailed(entry, describeError(err));
      failed(table, describeError(err));
    }
  }
}
