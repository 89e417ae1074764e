import { spawn } from 'node:child_process';

const BIN = new URL('../../bin/supamigrate.js', import.meta.url).pathname;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface PtyRun {
  code: number | null;
  /** Every byte the terminal received. */
  raw: string;
}

/**
 * Runs the built CLI in a pseudo-terminal of 80×24 (util-linux `script`), stdout and stderr both on it, as
 * a user's terminal would. `steps` wait for text to appear on the terminal, then type something (`\x03` is
 * Ctrl-C) or run a function. The environment is clean (no PG*, *_URL, CI, NO_COLOR) but for `env`.
 */
export function runInPty(
  args: string[],
  env: Record<string, string> = {},
  steps: { waitFor: RegExp; type?: string; run?: () => Promise<void> }[] = [],
): Promise<PtyRun> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^PG|_URL$|^CI$|^NO_COLOR$|^TERM$/.test(k)),
  ) as Record<string, string>;
  const command = `stty cols 80 rows 24; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { TERM: 'xterm-256color', ...clean, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  let next = 0;
  let busy = false;
  const advance = async () => {
    if (busy) return;
    busy = true;
    try {
      while (next < steps.length && steps[next]!.waitFor.test(raw)) {
        const step = steps[next++]!;
        if (step.run) await step.run();
        if (step.type) child.stdin.write(step.type);
      }
    } finally {
      busy = false;
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    raw += chunk;
    void advance();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    raw += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin.end();
      resolve({ code, raw });
    });
  });
}

/**
 * What a terminal of `columns` shows after `raw`: a minimal emulator of what supamigrate may send (text,
 * \r, \n, cursor up/down, erase below, erase line, cursor visibility, line wrap on/off). Returns the
 * logical lines (rows joined where the terminal wrapped them) and the final cursor visibility.
 */
export function screen(
  raw: string,
  columns = 80,
): { lines: string[]; cursorVisible: boolean; wrapOff: boolean } {
  const rows: { text: string[]; wrapped: boolean }[] = [{ text: [], wrapped: false }];
  let row = 0;
  let col = 0;
  let cursorVisible = true;
  let wrap = true;
  let wrapOff = false;
  let pendingWrap = false;
  const ensure = (r: number) => {
    while (rows.length <= r) rows.push({ text: [], wrapped: false });
  };
  const chars = [...raw];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\x1b' && chars[i + 1] === '[') {
      let j = i + 2;
      let params = '';
      while (j < chars.length && /[0-9;?]/.test(chars[j]!)) params += chars[j++];
      const final = chars[j];
      i = j;
      const n = Number(params.replace('?', '')) || 1;
      if (final === 'A') row = Math.max(0, row - n);
      else if (final === 'B') {
        row += n;
        ensure(row);
      } else if (final === 'J') {
        rows[row]!.text.length = col;
        rows.length = row + 1;
      } else if (final === 'K') rows[row]!.text.length = Math.min(rows[row]!.text.length, col);
      else if (final === 'G') col = n - 1;
      else if (params === '?25' && final === 'l') cursorVisible = false;
      else if (params === '?25' && final === 'h') cursorVisible = true;
      else if (params === '?7' && final === 'l') {
        wrap = false;
        wrapOff = true;
      } else if (params === '?7' && final === 'h') wrap = true;
      pendingWrap = false;
      continue;
    }
    if (c === '\r') {
      col = 0;
      pendingWrap = false;
    } else if (c === '\n') {
      row++;
      ensure(row);
      pendingWrap = false;
    } else if (c === '\x1b') {
      i++; // a two-character escape: ignored
    } else if (c >= ' ') {
      if (pendingWrap) {
        row++;
        ensure(row);
        rows[row]!.wrapped = true;
        col = 0;
        pendingWrap = false;
      }
      const line = rows[row]!.text;
      while (line.length < col) line.push(' ');
      line[col] = c;
      if (col === columns - 1) {
        if (wrap) pendingWrap = true;
      } else col++;
    }
  }
  const lines: string[] = [];
  for (const r of rows) {
    const text = r.text.join('').replace(/\s+$/, '');
    if (r.wrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { lines, cursorVisible, wrapOff };
}
