import { describe, expect, it } from 'vitest';
import { compareShapes, type Shape } from '../../src/schema/existing.js';
import { lacksPrivilege } from '../../src/schema/versions.js';

const table = (columns: [string, string, boolean][]): Shape => ({
  key: 'public\u0001todos',
  kind: 'table',
  columns,
  shape: null,
});

describe('objects the target has already', () => {
  it('says how a table differs: missing, extra and retyped columns', () => {
    const source = table([
      ['id', 'bigint', true],
      ['user_id', 'text', true],
      ['task', 'text', false],
    ]);
    expect(compareShapes(source, table([...source.columns!]))).toEqual({ same: true });
    const target = table([
      ['id', 'bigint', true],
      ['user_id', 'uuid', true],
      ['note', 'text', false],
    ]);
    expect(compareShapes(source, target)).toEqual({
      same: false,
      how: "column(s) task missing, column(s) note extra (not in the source), column user_id is uuid not null (the source's: text not null)",
    });
  });

  it("compares an enum's labels, other kinds' definitions, and knows what it could not compare", () => {
    const e = (labels: string): Shape => ({ key: 'k', kind: 'enum', columns: null, shape: labels });
    expect(compareShapes(e("'a', 'b'"), e("'a'"))).toEqual({
      same: false,
      how: "labels 'a' in the target, 'a', 'b' in the source",
    });
    const v = { key: 'k', kind: 'view', columns: null, shape: 'select 1' };
    expect(compareShapes(v, { ...v, shape: 'select 2' }).same).toBe(false);
    expect(compareShapes(v, { ...v, kind: 'table', columns: [] })).toEqual({
      same: false,
      how: 'it is a table in the target',
    });
    expect(compareShapes(undefined, v)).toEqual({ same: undefined });
  });

  it('knows which privileges an older target lacks', () => {
    expect(lacksPrivilege('MAINTAIN', 150008)).toBe(true);
    expect(lacksPrivilege('maintain', 170004)).toBe(false);
    expect(lacksPrivilege('MAINTAIN', 0)).toBe(false);
    expect(lacksPrivilege('SELECT', 150008)).toBe(false);
  });
});
