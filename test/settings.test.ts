import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { parseExportSettings } from '../src/export/settings.js';
import { parseImportSettings } from '../src/import/settings.js';
import { checkVerifyOptions } from '../src/verify/settings.js';

/** The library owns every default and every check: the CLI passes its flags' text through. */
describe('settings', () => {
  const url = 'postgresql://u@127.0.0.1:5432/db';

  it('fills the same defaults for export and import, whoever calls', () => {
    const exp = parseExportSettings({ dbUrl: url });
    expect(exp).toMatchObject({
      outputDir: './migration-data',
      // The source's application schemas, read once connected (src/catalog/app-schemas.ts).
      schemas: [],
      appSchemas: true,
      largeTables: [],
      streamingThreshold: 10_000,
      format: 'json',
      jobs: Math.max(1, availableParallelism()),
      splitRows: 250_000,
      retries: 2,
    });
    expect(parseExportSettings({ dbUrl: url, schemas: ['billing'] })).toMatchObject({
      schemas: ['billing'],
      appSchemas: false,
    });
    const imp = parseImportSettings({ targetUrl: url });
    expect(imp).toMatchObject({ jobs: exp.jobs, retries: 2, onConflict: 'error', unmatched: 'error' });
    // Flags arrive as text; numbers as numbers.
    expect(parseExportSettings({ dbUrl: url, jobs: '3', retries: 0 })).toMatchObject({ jobs: 3, retries: 0 });
  });

  it('reports every problem at once, before anything connects', () => {
    const attempt = () =>
      parseExportSettings({
        dbUrl: 'mysql://x',
        jobs: '0',
        format: 'csv',
        streamingThreshold: '-1',
        skipLarge: true,
        resume: true,
        force: true,
      });
    expect(attempt).toThrow(UsageError);
    const problems = (() => {
      try {
        attempt();
      } catch (err) {
        return (err as UsageError).problems;
      }
      return [];
    })();
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/postgresql:\/\//);
    expect(problems.join('\n')).toMatch(/--jobs must be a whole number of at least 1 \(got "0"\)/);
    expect(problems.join('\n')).toMatch(/--format must be one of json, ndjson/);
    expect(problems.join('\n')).toMatch(/--skip-large needs --large-tables/);
    expect(problems.join('\n')).toMatch(/--resume .* --force/);
    expect(() => parseImportSettings({ targetUrl: '', userColumns: ['a.b.c'], unmatched: 'drop' })).toThrow(
      /no database given.*; --unmatched must be one of error, keep, null.*; --user-columns needs --user-map/,
    );
    expect(() => checkVerifyOptions({ userColumns: ['public.t.c'] })).toThrow(
      /--user-columns needs --user-map/,
    );
  });
});
