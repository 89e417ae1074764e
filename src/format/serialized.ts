/**
 * Wraps an async function so that its calls run one after another, never two at once, each after the
 * previous one settles: metadata.json and import-state.json are rewritten after every table, from
 * several connections' work at the same time, and two writes must not interleave.
 */
export function serialized(fn: () => Promise<void>): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return () => (last = last.then(fn, fn));
}
