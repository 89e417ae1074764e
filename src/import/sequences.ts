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

/**
 * Sets the sequences no column uses (recorded in metadata.json `sequences`) to where the source's stood, so
 * the next value they hand out is the source's next one. Never moves one backwards; a sequence the target
 * lacks is reported, not created.
 */
export async function setStandaloneSequences(
  client: pg.Client,
  sequences: readonly { schema: string; name: string; lastValue: string; isCalled: boolean }[],
): Promise<{ done: { sequence: string; value: string }[]; notes: string[] }> {
  const done: { sequence: string; value: string }[] = [];
  const notes: string[] = [];
  for (const seq of sequences) {
    const name = `${seq.schema}.${seq.name}`;
    const { rows } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
      qualifiedName(seq),
    ]);
    const state = rows[0]?.found ? await readSequenceState(client, seq) : null;
    if (!state) {
      notes.push(
        `sequence ${name} (used by no column) is not in the target: its position (${seq.lastValue}) was not set`,
      );
      continue;
    }
    // The relation itself, not pg_sequence_last_value: a target set with is_called = false reads as null there.
    const now = (
      await client.query<{ last_value: string; is_called: boolean }>(
        `SELECT last_value::text, is_called FROM ${qualifiedName(seq)}`,
      )
    ).rows[0]!;
    const ascending = state.increment > 0n;
    const last = BigInt(seq.lastValue);
    const sourceNext = seq.isCalled ? last + state.increment : last;
    const targetNext = BigInt(now.last_value) + (now.is_called ? state.increment : 0n);
    const further = ascending ? sourceNext > targetNext : sourceNext < targetNext;
    if (!further || last < state.min || last > state.max) continue;
    await client.query('SELECT setval($1::regclass, $2::int8, $3)', [
      qualifiedName(seq),
      seq.lastValue,
      seq.isCalled,
    ]);
    done.push({ sequence: name, value: seq.lastValue });
  }
  return { done, notes };
}
