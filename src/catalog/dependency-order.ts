import { displayName } from '../pg/sql.js';
import type { TableInfo } from './types.js';

/** A foreign key whose referenced table comes after its table in the order, because it closed a cycle. */
export interface BrokenEdge {
  schema: string;
  table: string;
  foreignKey: string;
  references: { schema: string; table: string };
}

export interface DependencyOrder<T> {
  /** Referenced tables before referencing ones. */
  order: T[];
  /** The foreign keys that had to be set aside to break cycles (the importer needs them). */
  brokenEdges: BrokenEdge[];
}

const keyOf = (t: { schema: string; name: string }) => JSON.stringify([t.schema, t.name]);

/**
 * Orders tables so that every table comes after the tables its foreign keys reference. Foreign keys to
 * tables outside the set (such as auth.users) and self-references do not constrain. Ties go by
 * schema and name, so the order is the same on every run. When only cycles remain, the remaining table
 * with the fewest unplaced dependencies (then the first by name) is placed next, and its foreign keys
 * into the unplaced tables are recorded in `brokenEdges`.
 */
export function dependencyOrder<T extends Pick<TableInfo, 'schema' | 'name' | 'foreignKeys'>>(
  tables: readonly T[],
): DependencyOrder<T> {
  const byKey = new Map(tables.map((t) => [keyOf(t), t]));
  const remaining = new Map(
    [...byKey.entries()].sort(([a], [b]) => compareTables(byKey.get(a)!, byKey.get(b)!)),
  );
  const placed = new Set<string>();
  const order: T[] = [];
  const brokenEdges: BrokenEdge[] = [];

  const unplacedDeps = (t: T) =>
    new Set(
      t.foreignKeys
        .map((fk) => keyOf({ schema: fk.references.schema, name: fk.references.table }))
        .filter((k) => k !== keyOf(t) && byKey.has(k) && !placed.has(k)),
    );

  while (remaining.size > 0) {
    let next: T | undefined;
    for (const t of remaining.values()) {
      if (unplacedDeps(t).size === 0) {
        next = t;
        break;
      }
    }
    if (!next) {
      // Only cycles are left. Take a cycle that depends on nothing outside itself, and place its table
      // with the fewest dependencies (then the first by name): its references into the cycle are broken.
      const component = independentCycle([...remaining.values()], (t) => [...unplacedDeps(t)]);
      let best: { t: T; deps: number } | undefined;
      for (const t of component) {
        const deps = unplacedDeps(t).size;
        if (!best || deps < best.deps) best = { t, deps };
      }
      next = best!.t;
      const blockers = unplacedDeps(next);
      for (const fk of next.foreignKeys) {
        const ref = { schema: fk.references.schema, name: fk.references.table };
        if (blockers.has(keyOf(ref))) {
          brokenEdges.push({
            schema: next.schema,
            table: next.name,
            foreignKey: fk.name,
            references: { schema: ref.schema, table: ref.name },
          });
        }
      }
    }
    order.push(next);
    placed.add(keyOf(next));
    remaining.delete(keyOf(next));
  }
  return { order, brokenEdges };
}

/**
 * The first (in the given order) strongly connected component that has no dependency outside itself,
 * found with Tarjan's algorithm. Its members are returned in the given order.
 */
function independentCycle<T extends { schema: string; name: string }>(
  nodes: T[],
  deps: (t: T) => string[],
): T[] {
  const byKey = new Map(nodes.map((t) => [keyOf(t), t]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const componentOf = new Map<string, number>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (key: string) => {
    index.set(key, counter);
    low.set(key, counter++);
    stack.push(key);
    onStack.add(key);
    for (const dep of deps(byKey.get(key)!)) {
      if (!index.has(dep)) {
        visit(dep);
        low.set(key, Math.min(low.get(key)!, low.get(dep)!));
      } else if (onStack.has(dep)) low.set(key, Math.min(low.get(key)!, index.get(dep)!));
    }
    if (low.get(key) === index.get(key)) {
      const members: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        componentOf.set(member, components.length);
        members.push(member);
      } while (member !== key);
      components.push(members);
    }
  };
  for (const t of nodes) if (!index.has(keyOf(t))) visit(keyOf(t));
  for (const t of nodes) {
    const c = componentOf.get(keyOf(t))!;
    const members = components[c]!;
    if (members.every((m) => deps(byKey.get(m)!).every((d) => componentOf.get(d) === c))) {
      return nodes.filter((n) => componentOf.get(keyOf(n)) === c);
    }
  }
  return nodes;
}

function compareTables(a: { schema: string; name: string }, b: { schema: string; name: string }): number {
  return a.schema < b.schema ? -1 : a.schema > b.schema ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** `a.b → c.d (fk)` for messages. */
export const describeEdge = (e: BrokenEdge) =>
  `${displayName({ schema: e.schema, name: e.table })} → ${displayName({ schema: e.references.schema, name: e.references.table })} (${e.foreignKey})`;
