import { describe, expect, it } from 'vitest';
import type { ExportResult } from '../../src/export/export-database.js';
import type { ExportManifest, ManifestTable } from '../../src/format/manifest.js';
import { ExportPipeline } from '../../src/migrate/pipeline.js';

const table = (name: string, state: ManifestTable['state']) =>
  ({ schema: 'public', name, state }) as ManifestTable;

/** A pipeline whose export wrote its manifest (tables a and b pending) and told nothing more. */
function started() {
  const manifest = { tables: [table('a', 'pending'), table('b', 'pending')] } as unknown as ExportManifest;
  const pipeline = new ExportPipeline();
  pipeline.onEvent({ type: 'manifest', manifest });
  const feed = pipeline.feed(manifest, 'export-id');
  return {
    manifest,
    pipeline,
    a: feed.tableReady(manifest.tables[0]!),
    b: feed.tableReady(manifest.tables[1]!),
  };
}

describe('ExportPipeline', () => {
  it("a table whose record was written only by the export's last save is ready once the export returns", async () => {
    const { manifest, pipeline, a, b } = started();
    manifest.tables[0]!.state = 'complete';
    pipeline.end({
      manifest,
      failures: [{ table: 'public.b', error: 'disk full' }],
    } as unknown as ExportResult);
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toThrow(/not exported: the export ended without it/);
  });

  it('not when that last save failed: metadata.json does not record it', async () => {
    const { manifest, pipeline, a, b } = started();
    manifest.tables[0]!.state = 'complete';
    pipeline.end({
      manifest,
      failures: [{ table: 'metadata.json', error: 'disk full' }],
    } as unknown as ExportResult);
    await expect(a).rejects.toThrow(/not exported/);
    await expect(b).rejects.toThrow(/not exported/);
  });
});
