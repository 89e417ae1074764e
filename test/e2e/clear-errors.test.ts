import { symlinkSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { readManifest } from '../../src/format/manifest.js';
import { importDatabase } from '../../src/import/import-database.js';
import { verify } from '../../src/verify/verify.js';
import { cli, noStack } from '../support/cli.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

const SCHEMA = `create table things (id int primary key, name text);`;

describe('clear errors', () => {
  let sourceUrl: string;
  let dir: string;

  beforeAll(async () => {
    sourceUrl = await createDatabase('errors_src');
    await (
      await connectTo(sourceUrl)
    ).query(`${SCHEMA} insert into things select i, 't' || i from generate_series(1, 100) i;`);
    dir = join(await tempDir('errors'), 'out');
    expect((await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true })).failures).toEqual([]);
  });

  it('a file whose count matches but whose rows the target did not all take says so, not "holds 100 rows but … says 100"', async () => {
    const targetUrl = await createDatabase('errors_tgt');
    await (
      await connectTo(targetUrl)
    ).query(`${SCHEMA}
      create function skip_even() returns trigger language plpgsql as $$
        begin if new.id % 2 = 0 then return null; end if; return new; end $$;
      create trigger skip_even before insert on things for each row execute function skip_even();
      alter table things enable always trigger skip_even;`);
    const result = await importDatabase({ targetUrl, inputDir: dir });
    const error = result.failures.map((f) => f.error).join('\n');
    expect(error).not.toMatch(/holds 100 rows but metadata\.json says 100/);
    expect(error).toMatch(/public\.things\.json: the target stored 50 of its 100 rows/);
  });

  it('a directory where an export file should be is reported as a directory, not "truncated"', async () => {
    const copy = join(await tempDir('errors_dir'), 'out');
    await mkdir(copy);
    const manifest = await readManifest(dir);
    await import('node:fs/promises').then((fs) => fs.cp(dir, copy, { recursive: true }));
    const file = join(copy, manifest.tables[0]!.file!);
    await rm(file);
    await mkdir(file);
    const report = await verify({ inputDir: copy });
    expect(report.ok).toBe(false);
    const problems = report.tables.flatMap((t) => t.problems).join('\n');
    expect(problems).toMatch(
      /public\.things\.json \(public\.things\) in .* is a directory, not the exported file/,
    );
    expect(problems).not.toMatch(/truncated/);
    // metadata.json itself a directory
    const odd = join(await tempDir('errors_meta'), 'out');
    await mkdir(join(odd, 'metadata.json'), { recursive: true });
    const run = await cli(['verify', '-i', odd]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/metadata\.json: it is a directory, not a file/);
    noStack(run.stderr);
  });

  it('metadata.json that cannot be written at the end: a failure naming the file, with the summary', async () => {
    const out = join(await tempDir('errors_full'), 'out');
    // The disk fills up just before the last write of metadata.json (its temporary file is /dev/full).
    const result = await exportDatabase({
      dbUrl: sourceUrl,
      outputDir: out,
      onEvent: (e) => {
        if (e.type === 'phase' && /auth users/.test(e.phase))
          symlinkSync('/dev/full', join(out, '.metadata.json.partial'));
      },
    });
    expect(result.manifest!.tables[0]!.state).toBe('complete');
    expect(result.failures).toEqual([
      {
        table: 'metadata.json',
        error: expect.stringMatching(
          /^cannot write .*out\/metadata\.json: the disk is full \(ENOSPC\); the export is not recorded as complete/,
        ) as string,
      },
    ]);
    // What is on disk is the last good metadata.json: not complete, so --resume finishes it.
    expect(JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8'))).toMatchObject({
      completedAt: null,
    });
  });
});
