import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { backoff, retryPolicy, type RetryPolicy } from '../../src/pg/retry.js';
import { runPool } from '../../src/pg/worker-pool.js';
import { adminUrl } from '../support/db.js';

/** Real connections to the test server; the pool is what export and import run their work on. */
const open = async () => {
  const client = new pg.Client({ connectionString: adminUrl() });
  client.on('error', () => undefined);
  await client.connect();
  return client;
};
const fast: RetryPolicy = { retries: 2, delayMs: () => 10 };

describe('runPool (the one worker pool, with the one retry policy)', () => {
  it('retries a job whose connection is killed, on a new connection, then succeeds', async () => {
    const pidsOfB: number[] = [];
    const done: string[] = [];
    const retried: number[] = [];
    await runPool({
      lanes: 2,
      jobs: ['a', 'b', 'c'],
      connect: open,
      run: async (client, job) => {
        const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        if (job === 'b') pidsOfB.push(pid);
        if (job === 'b' && retried.length === 0) {
          // The server ends this very connection: a transient error (57P01).
          await client.query('select pg_terminate_backend(pg_backend_pid())');
        }
        done.push(job);
      },
      failed: (job, err) => {
        throw new Error(`${job} failed: ${String(err)}`);
      },
      retrying: (_job, _err, attempt) => retried.push(attempt),
      retry: fast,
    });
    expect(done.sort()).toEqual(['a', 'b', 'c']);
    expect(retried).toEqual([1]);
    // Tried twice, the second time on another connection than the one the server ended.
    expect(pidsOfB).toHaveLength(2);
    expect(pidsOfB[1]).not.toBe(pidsOfB[0]);
  });

  it('gives up after `retries` transient failures, and fails a job at once on any other error', async () => {
    const failed = new Map<string, string>();
    let attempts = 0;
    await runPool({
      lanes: 1,
      jobs: ['always-killed', 'bad-sql', 'fine'],
      connect: open,
      run: async (client, job) => {
        if (job === 'always-killed') {
          attempts++;
          await client.query('select pg_terminate_backend(pg_backend_pid())');
        }
        if (job === 'bad-sql') await client.query('select * from no_such_table_here');
      },
      failed: (job, err) => void failed.set(job, (err as Error).message),
      retry: fast,
    });
    expect(attempts).toBe(3); // the first try and two retries
    expect([...failed.keys()].sort()).toEqual(['always-killed', 'bad-sql']);
    expect(failed.get('bad-sql')).toMatch(/no_such_table_here/);
  });

  it('never starts a job before the jobs it depends on have finished', async () => {
    const order: string[] = [];
    const parents: Record<string, string[]> = { child: ['parent'], grandchild: ['child'], parent: [] };
    await runPool({
      lanes: 3,
      jobs: ['grandchild', 'child', 'parent'],
      dependsOn: (job) => parents[job]!,
      connect: open,
      run: async (client, job) => {
        await client.query('select pg_sleep(0.02)');
        order.push(job);
      },
      failed: (job, err) => {
        throw new Error(`${job} failed: ${String(err)}`);
      },
      retry: retryPolicy(0),
    });
    expect(order).toEqual(['parent', 'child', 'grandchild']);
  });

  it('reports jobs no lane could take when no connection can be opened', async () => {
    const abandoned: string[] = [];
    await runPool({
      lanes: 2,
      jobs: ['x', 'y'],
      connect: () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })),
      run: () => Promise.resolve(),
      failed: () => undefined,
      abandoned: (job) => abandoned.push(job),
      retry: fast,
    });
    expect(abandoned.sort()).toEqual(['x', 'y']);
  });

  it('stops taking jobs when its signal aborts, and reports none of them', async () => {
    const controller = new AbortController();
    const ran: number[] = [];
    const reported: number[] = [];
    await runPool({
      lanes: 1,
      jobs: [1, 2, 3, 4],
      connect: open,
      run: async (client, job) => {
        await client.query('select 1');
        ran.push(job);
        if (job === 2) controller.abort();
      },
      failed: (job) => void reported.push(job),
      abandoned: (job) => reported.push(job),
      retry: fast,
      signal: controller.signal,
    });
    expect(ran).toEqual([1, 2]);
    expect(reported).toEqual([]);
  });

  it('backs off 0.5 s, 1 s, 2 s … up to 30 s', () => {
    expect([1, 2, 3, 4, 10].map(backoff)).toEqual([500, 1000, 2000, 4000, 30_000]);
  });
});
