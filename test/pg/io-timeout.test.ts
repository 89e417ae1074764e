import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from, to } from 'pg-copy-streams';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/pg/connect.js';
import { IoTimeoutError } from '../../src/pg/io-timeout.js';
import { isTransient } from '../../src/pg/retry.js';
import { openSharedSnapshot } from '../../src/pg/snapshot.js';
import { adminUrl } from '../support/db.js';
import { FaultProxy } from '../support/proxy.js';

/** Generous: "did not hang", not a timing assertion. */
const HANG = 20_000;

describe('--io-timeout: a connection carrying no data is closed, one moving data never is', () => {
  let proxy: FaultProxy;
  const opened: pg.Client[] = [];
  const open = async (ioTimeout: number) => {
    const client = await connect(proxy.url(adminUrl()), { role: 'source', ioTimeout });
    opened.push(client);
    return client;
  };
  beforeAll(async () => {
    proxy = await FaultProxy.start(adminUrl());
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.end().catch(() => undefined);
  });

  it(
    'a query whose reply stalls fails with a transient, one-line error naming --io-timeout',
    async () => {
      const client = await open(1);
      proxy.stall({ direction: 'toClient', where: (c) => c.index === proxy.connections - 1 });
      const err = await client.query('SELECT 1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(IoTimeoutError);
      expect(isTransient(err)).toBe(true);
      expect((err as Error).message).toMatch(
        /^no data from the source database \S+ for 1 s \(--io-timeout\): the connection was closed$/,
      );
    },
    HANG,
  );

  it(
    'a statement the server computes silently for longer than the timeout is left to finish',
    async () => {
      const client = await open(1);
      const { rows } = await client.query<{ n: number }>('SELECT 7 AS n FROM pg_sleep(3.5)');
      expect(rows[0]!.n).toBe(7);
    },
    HANG,
  );

  it(
    'a COPY FROM whose bytes the server stops taking fails the same way',
    async () => {
      const client = await open(1);
      await client.query('CREATE TEMP TABLE sink (t text)');
      proxy.stall({ direction: 'toServer', where: (c) => c.index === proxy.connections - 1 });
      const rows = (function* () {
        for (let i = 0; i < 2000; i++) yield `${'y'.repeat(1000)}\n`;
      })();
      const err = await pipeline(Readable.from(rows), client.query(from('COPY sink FROM STDIN'))).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isTransient(err), String(err)).toBe(true);
    },
    HANG,
  );

  it(
    'an idle connection outlives the timeout, and a 3 s COPY that keeps sending does not time out at 1 s',
    async () => {
      const client = await open(1);
      await new Promise((r) => setTimeout(r, 1500));
      expect((await client.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
      // Rows larger than the server's 8 KB send buffer are flushed one by one, 0.25 s apart.
      let text = '';
      const copy = client.query(
        to(`COPY (SELECT repeat('x', 20000), pg_sleep(0.25) FROM generate_series(1, 12)) TO STDOUT`),
      );
      for await (const chunk of copy as AsyncIterable<Buffer>) text += chunk.toString();
      expect(text.split('\n').filter(Boolean)).toHaveLength(12);
    },
    HANG,
  );

  it(
    'a worker joining a snapshot whose coordinator died is told the snapshot was lost, and to resume',
    async () => {
      const snapshot = await openSharedSnapshot(proxy.url(adminUrl()), { ioTimeout: 5 });
      expect(snapshot.id).not.toBeNull();
      await snapshot.close();
      // The server ends the coordinator's backend just after it closed: try until it is gone (bounded).
      let err: Error | null = null;
      for (let i = 0; i < 50 && !err; i++) {
        err = await snapshot.openWorker().then(
          async (worker) => {
            await worker.end();
            await new Promise((r) => setTimeout(r, 100));
            return null;
          },
          (e: unknown) => e as Error,
        );
      }
      expect(err?.message).toMatch(
        /snapshot .* was lost \(the connection holding it.*ended\).*export --resume/,
      );
      expect(err?.message).not.toMatch(/\n/);
      expect(isTransient(err)).toBe(false);
    },
    HANG,
  );
});
