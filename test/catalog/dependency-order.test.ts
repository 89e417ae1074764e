import { describe, expect, it } from 'vitest';
import { dependencyOrder } from '../../src/catalog/dependency-order.js';
import type { ForeignKey } from '../../src/catalog/types.js';

const fk = (name: string, table: string, schema = 'public'): ForeignKey => ({
  name,
  columns: ['x'],
  references: { schema, table, columns: ['id'] },
  deferrable: false,
});
const table = (name: string, ...foreignKeys: ForeignKey[]) => ({ schema: 'public', name, foreignKeys });
const names = (tables: { name: string }[]) => tables.map((t) => t.name);

describe('dependencyOrder', () => {
  it('puts referenced tables first, ties by name', () => {
    const { order, brokenEdges } = dependencyOrder([
      table('readings', fk('r_sensor', 'sensors')),
      table('sensors', fk('s_device', 'devices')),
      table('devices'),
      table('alpha'),
    ]);
    expect(names(order)).toEqual(['alpha', 'devices', 'sensors', 'readings']);
    expect(brokenEdges).toEqual([]);
  });

  it('ignores self-references and references outside the set', () => {
    const { order, brokenEdges } = dependencyOrder([
      table('locations', fk('parent', 'locations'), fk('owner', 'users', 'auth')),
      table('a', fk('a_loc', 'locations')),
    ]);
    expect(names(order)).toEqual(['locations', 'a']);
    expect(brokenEdges).toEqual([]);
  });

  it('breaks a cycle deterministically and records the edge it broke', () => {
    const input = [
      table('sites', fk('sites_org', 'organizations')),
      table('organizations', fk('org_primary_site', 'sites')),
      table('devices', fk('dev_site', 'sites')),
    ];
    const first = dependencyOrder(input);
    expect(names(first.order)).toEqual(['organizations', 'sites', 'devices']);
    expect(first.brokenEdges).toEqual([
      {
        schema: 'public',
        table: 'organizations',
        foreignKey: 'org_primary_site',
        references: { schema: 'public', table: 'sites' },
      },
    ]);
    // Same result whatever order the catalog listed the tables in.
    expect(dependencyOrder([...input].reverse())).toEqual(first);
  });

  it('every foreign key points backwards except the broken ones, on a random graph', () => {
    for (let seed = 1; seed <= 30; seed++) {
      let state = seed;
      const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const tables = Array.from({ length: 15 }, (_, i) => table(`t${i}`));
      for (const t of tables) {
        for (let k = 0; k < 2; k++)
          if (rand() < 0.5) t.foreignKeys.push(fk(`${t.name}_fk${k}`, `t${Math.floor(rand() * 15)}`));
      }
      const { order, brokenEdges } = dependencyOrder(tables);
      expect(order).toHaveLength(15);
      const position = new Map(order.map((t, i) => [t.name, i]));
      for (const t of order) {
        for (const f of t.foreignKeys) {
          const broken = brokenEdges.some((e) => e.table === t.name && e.foreignKey === f.name);
          if (f.references.table !== t.name && !broken) {
            expect(position.get(f.references.table)!).toBeLessThan(position.get(t.name)!);
          }
        }
      }
    }
  });
});
