/*
 * Scanning export files byte by byte, without JSON.parse: the row reader (src/format/row-reader.ts) finds
 * each row, and the importer and the verifier find each value's exact bytes within a complete row
 * (UTF-8 multi-byte sequences never contain these ASCII bytes). On a complete row, INCOMPLETE means the
 * row is malformed.
 */

export const Ch = {
  Tab: 9,
  Nl: 10,
  Cr: 13,
  Space: 32,
  Quote: 34,
  Comma: 44,
  Colon: 58,
  LBracket: 91,
  Backslash: 92,
  RBracket: 93,
  LBrace: 123,
  RBrace: 125,
} as const;

/** Returned when the buffer ends before the value does: wait for more bytes. */
export const INCOMPLETE = -1;

export const isWs = (c: number): boolean => c === Ch.Space || c === Ch.Nl || c === Ch.Cr || c === Ch.Tab;

export function skipWs(buf: Buffer, pos: number): number {
  while (pos < buf.length && isWs(buf[pos]!)) pos++;
  return pos;
}

/**
 * End (exclusive) of the string starting at pos, or INCOMPLETE. Quotes are found with indexOf, at native
 * speed on huge values: a quote closes the string when an even number of backslashes precede it (each
 * pair is an escaped backslash; the run cannot start before `i`, which follows a quote).
 */
export function stringEnd(buf: Buffer, pos: number): number {
  let i = pos + 1;
  for (;;) {
    const quote = buf.indexOf(Ch.Quote, i);
    if (quote === -1) return INCOMPLETE;
    let k = quote;
    while (k > i && buf[k - 1] === Ch.Backslash) k--;
    if ((quote - k) % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** End (exclusive) of the JSON value starting at pos, or INCOMPLETE when the buffer ends first. */
export function valueEnd(buf: Buffer, pos: number): number {
  const c = buf[pos]!;
  if (c === Ch.Quote) return stringEnd(buf, pos);
  if (c === Ch.LBrace || c === Ch.LBracket) {
    let depth = 0;
    for (let i = pos; i < buf.length; i++) {
      const b = buf[i]!;
      if (b === Ch.Quote) {
        const e = stringEnd(buf, i);
        if (e === INCOMPLETE) return INCOMPLETE;
        i = e - 1;
      } else if (b === Ch.LBrace || b === Ch.LBracket) depth++;
      else if (b === Ch.RBrace || b === Ch.RBracket) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return INCOMPLETE;
  }
  // Literal or number: up to the next delimiter.
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === Ch.Comma || b === Ch.RBrace || b === Ch.RBracket || isWs(b)) {
      if (i === pos) throw new Error(`unexpected ${String.fromCharCode(b)}`);
      return i;
    }
  }
  return INCOMPLETE;
}

/** valueEnd on a complete row: a value that does not end in it, or does not start as a value, is `bad`. */
export function valueEndOr(buf: Buffer, pos: number, bad: (what: string) => never): number {
  let end: number;
  try {
    end = valueEnd(buf, pos);
  } catch (err) {
    return bad((err as Error).message);
  }
  return end === INCOMPLETE ? bad('a value does not end in its row') : end;
}
