/**
 * Runs `work` on every item, at most `jobs` at once, in the items' order; stops taking new items once
 * `signal` is aborted (those not started are left undone). `work` handles its own failures: one that
 * throws stops the run (after the items under way finish) and the first error is thrown.
 */
export async function forEachParallel<T>(
  items: readonly T[],
  jobs: number,
  work: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async () => {
    // Bounded: each turn takes the next item, and there are items.length of them.
    while (next < items.length && !failure && !signal?.aborted) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, lane));
  if (failure) throw (failure as { err: unknown }).err;
}
