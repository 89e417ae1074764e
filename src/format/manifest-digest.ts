import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { ExportManifest } from './manifest-schema.js';

/*
 * metadata.json's integrity record: at completion, export writes the sha256 of each entry that import,
 * verify and `users` act on (every table, the auth files, the format, the options, the sequences), and one
 * sha256 over all of them. A reader recomputes them before it acts, so a manifest whose table entry was
 * removed, added, or edited (its encoding, its row count, its file…) is refused, naming the entry.
 *
 * It detects damage and edits, not an attacker: anyone who can write metadata.json can recompute it. A
 * complete manifest without the record (written by supamigrate before it had one) is accepted with a note
 * (integrityNote); an incomplete one never has it (its entries are still changing).
 */

/** JSON with the keys of every object sorted (and undefined left out): one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The entries protected, by name: `table public.devices`, `authUsers`, `format`, … */
export function protectedEntries(manifest: ExportManifest): Map<string, unknown> {
  const entries = new Map<string, unknown>([
    ['format', manifest.format],
    ['options', manifest.options],
    ['brokenForeignKeys', manifest.brokenForeignKeys],
    ['authUsers', manifest.authUsers],
    ['authIdentities', manifest.authIdentities],
    ['sequences', manifest.sequences ?? null],
  ]);
  // Absent from older exports: protected only when there, so that their integrity records still hold.
  if (manifest.typeDefinitions) entries.set('typeDefinitions', manifest.typeDefinitions);
  for (const table of manifest.tables) {
    const name = `table ${table.schema}.${table.name}`;
    // A second entry for one table is refused by the schema already; here it is a changed entry.
    entries.set(entries.has(name) ? `${name} (again)` : name, table);
  }
  return entries;
}

/** The integrity record of a complete manifest (what export writes as `integrity`). */
export function manifestIntegrity(manifest: ExportManifest): NonNullable<ExportManifest['integrity']> {
  const entries = Object.fromEntries(
    [...protectedEntries(manifest)].map(([name, value]) => [name, sha256(canonicalJson(value))]),
  );
  return { sha256: sha256(canonicalJson(entries)), entries };
}

/**
 * Refuses (UsageError, every problem at once) a manifest whose entries are not those its integrity record
 * was computed over. Nothing to check without a record.
 */
export function checkIntegrity(manifest: ExportManifest, path: string): void {
  const recorded = manifest.integrity;
  if (!recorded) {
    if (manifest.completedAt !== null && !writtenBefore(manifest.tool.version, FIRST_WITH_RECORD)) {
      throw new UsageError(
        `${path}: its integrity record was removed (supamigrate ${manifest.tool.version} writes one in every complete export): export again (or restore the file)`,
      );
    }
    return;
  }
  const now = manifestIntegrity(manifest).entries;
  const problems: string[] = [];
  if (sha256(canonicalJson(recorded.entries)) !== recorded.sha256) {
    problems.push(`${path}: its integrity record was edited (its sha256 does not match its entries)`);
  }
  for (const name of Object.keys(recorded.entries)) {
    if (!(name in now)) problems.push(`${path}: the ${name} entry export wrote is missing`);
    else if (now[name] !== recorded.entries[name])
      problems.push(`${path}: the ${name} entry differs from what export wrote (changed since export)`);
  }
  for (const name of Object.keys(now)) {
    if (!(name in recorded.entries)) problems.push(`${path}: the ${name} entry was not written by export`);
  }
  if (problems.length > 0) {
    problems.push(`${path} was changed after the export: export again (or restore the file)`);
    throw new UsageError(problems);
  }
}

/** The first supamigrate version that writes the integrity record in every complete export. */
const FIRST_WITH_RECORD = '0.2.0';

/** Whether `version` (x.y.z) comes before `than`. */
function writtenBefore(version: string, than: string): boolean {
  const a = version.split(/[.+-]/).map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** A note for a complete manifest without an integrity record (one written before supamigrate had it). */
export function integrityNote(manifest: ExportManifest, path: string): string | null {
  if (manifest.completedAt === null)
    // Only a complete export has the record: the files are checked against their entries alone.
    return `${path}: the export did not finish (no completedAt, so no integrity record): each file is checked against its entry, the entries against nothing; finish it with supamigrate export --resume`;
  return !manifest.integrity
    ? `${path} has no integrity record (written by supamigrate ${manifest.tool.version}, before it had one): its entries could not be checked against what export wrote`
    : null;
}
