/**
 * Runs `run` for every item on up to `concurrency` lanes, never starting an item before all the items it
 * depends on have finished (successfully or not). Items whose dependencies are not in the list run freely.
 */
export async function runInDependencyOrder<T>(
  items: readonly T[],
  dependsOn: (item: T) => readonly T[],
  concurrency: number,
  run: (item: T, lane: number) => Promise<void>,
): Promise<void> {
  const pending = new Set(items);
  const finished = new Set<T>();
  const running = new Set<T>();
  let wake: (() => void) | null = null;
  const ready = () =>
    [...pending].find((item) => dependsOn(item).every((d) => finished.has(d) || !items.includes(d)));
  const lane = async (index: number) => {
    while (pending.size > 0) {
      const item = ready();
      if (item === undefined) {
        if (running.size === 0) throw new Error('dependency cycle among the tables to load');
        await new Promise<void>((resolve) => {
          const previous = wake;
          wake = () => {
            previous?.();
            resolve();
          };
        });
        continue;
      }
      pending.delete(item);
      running.add(item);
      try {
        await run(item, index);
      } finally {
        running.delete(item);
        finished.add(item);
        const w = wake;
        wake = null;
        w?.();
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, (_, i) => lane(i)),
  );
}
