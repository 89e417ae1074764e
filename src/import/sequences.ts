import type pg from 'pg';
import { readSequenceState } from '../catalog/read-catalog.js';
import { qualifiedName, quoteIdent } from '../pg/sql.js';
import type { TablePlan } from './preflight.js';

/**
 * Sets every sequence behind the table's columns (owned, or called by a default) past the data, so the
 * application's next insert gets a new key: to the column's maximum (minimum for a descending sequence),
 * or to where the source's sequence stood, or where the target's already is, whichever is furthest.
 * A sequence is never moved backwards, nor outside its bounds.
 */
export async function resetSequences(
  client: pg.Client,
  plan: TablePlan,
): Promise<{ sequence: string; value: string }[]> {
  const done: { sequence: string; value: string }[] = [];
  for (const seq of plan.target.ownedSequences) {
    const state = await readSequenceState(client, seq);
    if (!state) continue;
    const ascending = state.increment > 0n;
    const { rows } = await client.query<{ v: string | null }>(
      `SELECT ${ascending ? 'max' : 'min'}(${quoteIdent(seq.column)})::text AS v FROM ${qualifiedName(plan.target)}`,
    );
    const fromSource = plan.entry.ownedSequences.find(
      (s) => s.schema === seq.schema && s.name === seq.name,
    )?.lastValue;
    // A sequence never used would hand out its start next: never set it below that.
    const current = state.lastValue ?? state.start - state.increment;
    const candidates = [rows[0]?.v, fromSource, current.toString()]
      .filter((v): v is string => typeof v === 'string' && /^-?\d+$/.test(v))
      .map((v) => BigInt(v));
    if (candidates.length === 0) continue;
    const value = candidates.reduce((a, b) => (ascending ? (b > a ? b : a) : b < a ? b : a));
    if (value < state.min || value > state.max) continue;
    if (value === current) continue;
    await client.query('SELECT setval($1::regclass, $2::int8, true)', [qualifiedName(seq), value.toString()]);
    done.push({ sequence: `${seq.schema}.${seq.name}`, value: value.toString() });
  }
  return done;
}
