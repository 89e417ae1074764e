import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { serialized } from '../../src/format/serialized.js';

describe('serialized', () => {
  it('never runs twice at once; calls made during a run share one run after it, which sees their state', async () => {
    let state = 0;
    let active = 0;
    const written: number[] = [];
    const save = serialized(async () => {
      active++;
      expect(active).toBe(1);
      const seen = state;
      await sleep(5);
      written.push(seen);
      active--;
    });
    const calls: Promise<void>[] = [];
    const settledWith: number[] = [];
    for (let i = 1; i <= 10; i++) {
      state = i;
      const call = save();
      const wanted = i;
      // Each call settles only once a write holding its change is done.
      calls.push(call.then(() => void settledWith.push(written.at(-1)! - wanted)));
      await sleep(i % 3 === 0 ? 7 : 0);
    }
    await Promise.all(calls);
    expect(settledWith.every((d) => d >= 0)).toBe(true);
    expect(written.at(-1)).toBe(10);
    expect(written.length).toBeLessThan(10);
  });

  it('a failed run fails the calls it served, and the next call runs again', async () => {
    let fail = true;
    const save = serialized(async () => {
      await sleep(1);
      if (fail) throw new Error('disk full');
    });
    await expect(save()).rejects.toThrow('disk full');
    fail = false;
    await expect(save()).resolves.toBeUndefined();
  });

  it('with spacing, runs begin that far apart and the calls between share one', async () => {
    const begun: number[] = [];
    const save = serialized(async () => {
      begun.push(performance.now());
      await sleep(1);
    }, 40);
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      calls.push(save());
      await sleep(5);
    }
    await Promise.all(calls);
    expect(begun.length).toBeGreaterThanOrEqual(2);
    expect(begun.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < begun.length; i++) expect(begun[i]! - begun[i - 1]!).toBeGreaterThanOrEqual(39);
  });
});
