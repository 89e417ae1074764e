import { describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/export/export-database.js';
import { importDatabase } from '../../src/import/import-database.js';
import { readManifest } from '../../src/format/manifest.js';
import { connectTo, createDatabase, tempDir } from '../support/db.js';

/*
 * A type of the same name is not always the same type: metadata.json records the definition of every type
 * its columns use that is not built in, and import refuses a target that defines one otherwise (its values'
 * text would be read there as other values, and a checksum of that text could not tell).
 */

const TYPES = `create type pair as (x int, y int); create domain pairs as pair[];
  create type mood as enum ('sad', 'ok');
  create table uses (id int primary key, p pair, dp pairs, m mood);`;

describe('import: the types of the export against the target’s', () => {
  it('records each type’s definition; refuses a target whose type of the same name is defined otherwise', async () => {
    const sourceUrl = await createDatabase('typedef_src');
    const source = await connectTo(sourceUrl);
    await source.query(`${TYPES} insert into uses values (1, '(1,2)', '{"(3,4)"}', 'ok');`);
    const dir = await tempDir('typedef');
    const exported = await exportDatabase({ dbUrl: sourceUrl, outputDir: dir, skipAuth: true });
    expect(exported.failures).toEqual([]);
    const manifest = await readManifest(dir);
    expect(manifest.typeDefinitions).toEqual({
      'public.mood': 'public.mood {enum}',
      'public.pair': 'public.pair {x integer, y integer} integer integer',
      'public.pairs':
        'public.pairs {public.pair[]} public.pair[] of public.pair {x integer, y integer} integer integer',
    });

    // The same definitions: loaded, value for value.
    const sameUrl = await createDatabase('typedef_same');
    const same = await connectTo(sameUrl);
    await same.query(TYPES);
    const loaded = await importDatabase({ targetUrl: sameUrl, inputDir: dir });
    expect(loaded.failures).toEqual([]);
    expect(loaded.problems).toEqual([]);
    expect((await same.query('select (p).x, (p).y, m::text from uses')).rows).toEqual([
      { x: 1, y: 2, m: 'ok' },
    ]);

    // The fields the other way round: refused before a row is written, naming the column and both definitions.
    const otherUrl = await createDatabase('typedef_other');
    const other = await connectTo(otherUrl);
    await other.query(
      TYPES.replace('(x int, y int)', '(y int, x int)').replace("('sad', 'ok')", "('ok', 'sad')"),
    );
    const refused = await importDatabase({ targetUrl: otherUrl, inputDir: dir }).then(
      (r) => r.problems,
      (err: Error & { problems?: string[] }) => err.problems ?? [err.message],
    );
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^public\.uses: column "p" is of type public\.pair, which the target defines otherwise \(public\.pair \{y integer, x integer\} .*; in the export: public\.pair \{x integer, y integer\} .*\): its values would be read there as other values/,
        ),
        expect.stringMatching(
          /^public\.uses: column "dp" is of type public\.pairs, which the target defines otherwise/,
        ),
      ]),
    );
    // An enum's values go by label: its labels in another order are no reason to refuse.
    expect(refused.join('\n')).not.toMatch(/column "m"/);
    expect((await other.query('select count(*)::int as n from uses')).rows[0].n).toBe(0);
    for (const c of [source, same, other]) await c.end();
  });
});
