import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { createFixtureDatabase, tempDir } from '../support/db.js';
import { runInPty, screen } from '../support/pty.js';

/** The built CLI in an 80-column pseudo-terminal: what the user's screen shows. */
describe('the terminal (80 columns, a real pseudo-terminal)', () => {
  let url: string;
  beforeAll(async () => {
    url = await createFixtureDatabase('tty');
  });

  it('the demo: wrap never turned off, every line in full and in order, the cursor back, total time last', async () => {
    const out = `${await tempDir('tty-demo')}/demo`;
    const run = await runInPty(['demo', '--readings', '3000', '-o', out]);
    const view = screen(run.raw);
    expect(run.code, view.lines.join('\n')).toBe(0);
    expect(run.raw).not.toContain('\x1b[?7l');
    expect(view.wrapOff).toBe(false);
    expect(run.raw).toContain('\x1b[?25l');
    expect(view.cursorVisible).toBe(true);
    const lines = view.lines;
    // Lines longer than the terminal wrap onto the next rows and are all there.
    const mapped = lines.find((l) => l.startsWith('Mapped users to a generated new-provider list'));
    expect(mapped).toMatch(
      /^Mapped users to a generated new-provider list \(.+new-provider-users\.json\): \d+ matched by email, \d+ unmatched \(.+\); wrote user-map\.json$/,
    );
    expect(mapped!.length).toBeGreaterThan(80);
    // Nothing held back or dropped: every step, in order.
    const order = [
      /^Starting an embedded PostgreSQL/,
      /^Creating a Supabase-shaped sample database/,
      /^ {2}done in /,
      /^Exporting to /,
      /^ {2}exported public\.sensor_readings$/,
      /^Mapped users/,
      /^Importing into the target/,
      /^✓ public\.sensor_readings: 3,000 rows/,
      /^Verifying source, files and target/,
      /^All 23 tables match/,
      /^done in \d+(\.\d)? s$|^done in \d+ min/,
    ];
    let at = -1;
    for (const pattern of order) {
      const found = lines.findIndex((l, i) => i > at && pattern.test(l));
      expect(found, `${pattern} after line ${at}:\n${lines.join('\n')}`).toBeGreaterThan(at);
      at = found;
    }
    expect(lines.at(-1)).toMatch(/^done in /);
    // The status block is gone: no bar or overall line is left on the screen.
    expect(lines.filter((l) => /░|█|^\S.*\d+\/\d+ tables/.test(l))).toEqual([]);
  });

  it('Ctrl-C: the message on its own line, advice naming -o, exit 130, the cursor shown again', async () => {
    const out = `${await tempDir('tty-int')}/export`;
    // A lock holds the export in its counting phase until the test lets it go, after the Ctrl-C.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table public.sensors in access exclusive mode');
    let released = false;
    try {
      const run = await runInPty(['export', '--db-url', url, '-o', out, '--jobs', '12'], {}, [
        { waitFor: /counting rows/, type: '\x03' },
        {
          waitFor: /SIGINT received/,
          run: async () => {
            await locker.query('rollback');
            released = true;
          },
        },
      ]);
      const view = screen(run.raw);
      const text = view.lines.join('\n');
      expect(run.code, text).toBe(130);
      expect(run.raw).not.toContain('\x1b[?7l');
      expect(view.cursorVisible).toBe(true);
      expect(view.lines).toContain(
        'supamigrate: SIGINT received: stopping cleanly (press Ctrl-C again to force)…',
      );
      const advice = view.lines.find((l) => l.startsWith('supamigrate: export interrupted'));
      expect(advice, text).toMatch(
        /finish it with supamigrate export --resume -o \S+\/export and the same --db-url$/,
      );
      expect(text).not.toMatch(/MaxListenersExceededWarning/);
    } finally {
      if (!released) await locker.query('rollback').catch(() => undefined);
      await locker.end();
    }
  });

  it('a second Ctrl-C stops at once, and the terminal is still given back', async () => {
    const out = `${await tempDir('tty-int2')}/export`;
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table public.sensors in access exclusive mode');
    try {
      const run = await runInPty(['export', '--db-url', url, '-o', out], {}, [
        { waitFor: /counting rows/, type: '\x03' },
        { waitFor: /SIGINT received/, type: '\x03' },
      ]);
      const view = screen(run.raw);
      expect(run.code, view.lines.join('\n')).toBe(130);
      expect(run.raw).toContain('\x1b[?25l');
      expect(view.cursorVisible).toBe(true);
      expect(view.lines).toContain(
        'supamigrate: stopped at once (second Ctrl-C); unfinished files may remain as .partial',
      );
    } finally {
      await locker.query('rollback').catch(() => undefined);
      await locker.end();
    }
  });

  it('TERM=dumb and NO_COLOR: plain lines, not one escape sequence; --quiet: no progress at all', async () => {
    for (const env of [{ TERM: 'dumb' }, { NO_COLOR: '1' }] as Record<string, string>[]) {
      const out = `${await tempDir('tty-dumb')}/export`;
      const run = await runInPty(
        ['export', '--db-url', url, '-o', out, '--table', 'sensors', '--verbose'],
        env,
      );
      expect(run.code).toBe(0);
      expect(run.raw).not.toContain('\x1b');
      expect(run.raw).toMatch(/^connecting, reading the catalog, counting rows…\r?$/m);
      expect(run.raw).toMatch(/^Exporting 1 table \(180 rows\) in one snapshot/m);
      expect(run.raw).toMatch(/^done in /m);
    }
    const out = `${await tempDir('tty-quiet')}/export`;
    const quiet = await runInPty(['--quiet', 'export', '--db-url', url, '-o', out, '--table', 'sensors']);
    expect(quiet.code).toBe(0);
    expect(quiet.raw).not.toContain('\x1b');
    expect(quiet.raw).not.toMatch(/connecting|Exporting 1 table|done in/);
    expect(quiet.raw).toMatch(/Exported 1 table \(180 rows\)/);
  });

  it('not a terminal: plain lines on stderr, no escape sequences', async () => {
    const out = `${await tempDir('pipe')}/export`;
    const run = await cli(['export', '--db-url', url, '-o', out, '--table', 'sensors', '--verbose']);
    expect(run.code).toBe(0);
    expect(run.stderr + run.stdout).not.toContain('\x1b');
    expect(run.stderr).toMatch(/^source: \S+ \(from --db-url\)$/m);
    expect(run.stderr).toMatch(/^connected to \S+: (without TLS|TLS, .+)$/m);
    expect(run.stderr).toMatch(/^✓ public\.sensors: 180 rows/m);
  });
});

describe('command-line conventions', () => {
  it('-v and --version print the version; -V still does', async () => {
    const { VERSION } = await import('../../src/version.js');
    for (const flag of ['-v', '--version', '-V']) {
      const run = await cli([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(VERSION);
    }
  });

  it('no suggestion that destroys data; the database options named for what people type', async () => {
    const source = await cli(['export', '--source', 'x']);
    expect(source.code).toBe(2);
    expect(source.stderr).not.toMatch(/--force/);
    expect(source.stderr).toMatch(/unknown option '--source' \(the option is --db-url\)/);
    const forc = await cli(['export', '--forc']);
    expect(forc.stderr).not.toMatch(/--force/);
    const trunc = await cli(['import', '--truncat']);
    expect(trunc.stderr).not.toMatch(/Did you mean --truncate/);
    const harmless = await cli(['export', '--dry-ru']);
    expect(harmless.stderr).toMatch(/Did you mean --dry-run\?/);
  });

  it('--json: an error is one JSON object on stdout too', async () => {
    const run = await cli(['export', '--json', '--db-url', 'postgresql://u:secret@127.0.0.1:1/x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^supamigrate: Cannot connect to the source database u@127\.0\.0\.1:1\/x/m);
    const parsed = JSON.parse(run.stdout) as { error: { message: string; exitCode: number } };
    expect(parsed.error.exitCode).toBe(2);
    expect(parsed.error.message).toMatch(
      /^Cannot connect to the source database u@127\.0\.0\.1:1\/x: connection refused/,
    );
    expect(run.stdout).not.toContain('secret');
    const usage = await cli(['verify', '--json', '--bogus']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { message: "unknown option '--bogus'", exitCode: 2 } });
  });

  it('export --resume refuses --force in one line, before connecting', async () => {
    const run = await cli(['export', '--db-url', 'postgresql://u@127.0.0.1:1/x', '--resume', '--force']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'supamigrate: --resume cannot be combined with --force (which replaces the export instead of finishing it): leave one out',
    ]);
  });

  it('-o where no directory can be made: one line, at once', async () => {
    const run = await cli([
      'export',
      '--db-url',
      'postgresql://u@127.0.0.1:1/x',
      '-o',
      '/proc/supamigrate/x',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'supamigrate: Cannot write to output directory /proc/supamigrate/x: cannot create /proc/supamigrate: this file system does not allow creating it',
    ]);
  });
});
