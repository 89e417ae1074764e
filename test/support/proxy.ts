import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterAll } from 'vitest';

/**
 * A fault-injecting TCP proxy for the tests: 127.0.0.1:<random port> → the test server's host:port. It
 * forwards bytes as they come and, when armed, cuts every connection after N bytes (or at once), stalls one
 * connection (stops forwarding in one direction and stops reading, sockets left open), delays every chunk,
 * or lets a COMMIT reach the server and drops its reply, then cuts. Every fault fires once. Only loopback,
 * and every proxy is closed after the file's tests.
 */

export type Direction = 'toServer' | 'toClient';

/** What the proxy knows of one client connection (accept order from 0; the SQL of its simple queries). */
export interface ProxiedConnection {
  readonly index: number;
  readonly bytes: Record<Direction, number>;
  /** Whether the client has sent a COPY (in a simple query message). */
  sawCopy: boolean;
  /** The last COPY statement the client sent, if any. */
  lastCopy?: string;
  /** The last statement the client sent as a simple query. */
  lastQuery?: string;
  /** The simple query before that. */
  previousQuery?: string;
}

interface Conn extends ProxiedConnection {
  client: Socket;
  server: Socket;
  held: Record<Direction, boolean>;
}

interface StallRule {
  direction: Direction;
  afterBytes: number;
  where: (c: ProxiedConnection) => boolean;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * Finds the simple-query ('Q') messages in the client → server byte stream: the startup packet (and
 * SSL/GSS requests) first, then typed messages. Only a query's first 64 bytes are kept; bounded memory.
 */
class QueryScanner {
  private header: number[] = [];
  private skip = 0;
  private startup = true;
  private capture: Buffer[] | null = null;
  private captured = 0;
  constructor(private readonly onQuery: (sql: string) => void) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        if (this.capture && this.captured < 64) {
          this.capture.push(chunk.subarray(i, i + Math.min(n, 64 - this.captured)));
          this.captured += n;
        }
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.endMessage();
        continue;
      }
      this.header.push(chunk[i]!);
      i++;
      const want = this.startup ? 8 : 5;
      if (this.header.length < want) continue;
      const h = Buffer.from(this.header);
      this.header = [];
      if (this.startup) {
        const code = h.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.startup = false;
        this.skip = h.readInt32BE(0) - 8;
      } else {
        this.skip = h.readInt32BE(1) - 4;
        if (h[0] === 0x51 /* Q */) {
          this.capture = [];
          this.captured = 0;
        }
      }
      if (this.skip === 0) this.endMessage();
    }
  }

  private endMessage(): void {
    if (!this.capture) return;
    const sql = Buffer.concat(this.capture).toString('utf8');
    this.capture = null;
    this.onQuery(sql);
  }
}

export class FaultProxy {
  private server: Server;
  private readonly conns = new Set<Conn>();
  private accepted = 0;
  private cutAt: number | null = null;
  private counted = 0;
  private stallRule: StallRule | null = null;
  private dropCommit: ((c: ProxiedConnection) => boolean) | null = null;
  private dropCommitKeepsOpen = false;
  private delayMs = 0;
  /** What happened, for a failing test's message. */
  readonly log: string[] = [];
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  /** A proxy in front of the server of `url` (a loopback address), listening on 127.0.0.1. */
  static async start(url: string): Promise<FaultProxy> {
    const u = new URL(url);
    const host = u.hostname || '127.0.0.1';
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(host)) {
      throw new Error(`the fault proxy only forwards to loopback, not ${host}`);
    }
    const proxy = new FaultProxy(host === '[::1]' ? '::1' : host, Number(u.port || 5432));
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.port = (proxy.server.address() as { port: number }).port;
    proxies.add(proxy);
    return proxy;
  }

  /** `url` pointed at the proxy, without TLS (so the proxy can read the protocol). */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.searchParams.set('sslmode', 'disable');
    return u.toString();
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.accepted;
  }

  /** Bytes forwarded so far, both directions, all connections. */
  get bytes(): number {
    let n = this.counted;
    for (const c of this.conns) n += c.bytes.toClient + c.bytes.toServer;
    return n;
  }

  /** Cuts every open connection once `bytes` more bytes (both directions, all connections) have passed. */
  cutAfter(bytes: number): void {
    this.cutAt = this.bytes + bytes;
  }

  /** Cuts every open connection now. */
  cutAll(reason = 'cut on demand'): void {
    this.log.push(`${reason}: ${this.conns.size} connections`);
    for (const c of [...this.conns]) this.drop(c);
  }

  /**
   * The first connection `where` accepts stops forwarding `direction` (and reading it) once `afterBytes` would
   * be passed in it; its sockets stay open.
   */
  stall(rule: { direction: Direction; afterBytes?: number; where?: (c: ProxiedConnection) => boolean }) {
    this.stallRule = { afterBytes: 0, where: () => true, ...rule };
  }

  /** Every chunk waits this long before it is forwarded (order kept). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /**
   * The next COMMIT a connection accepted by `where` sends reaches the server; its reply is held, and the
   * connection is cut 200 ms later (or, with `keepOpen`, left open and silent: the backend lives on, idle).
   * The client cannot know whether its transaction committed.
   */
  dropCommitReply(
    where: (c: ProxiedConnection) => boolean = (c) => c.sawCopy,
    options: { keepOpen?: boolean } = {},
  ): void {
    this.dropCommit = where;
    this.dropCommitKeepsOpen = options.keepOpen === true;
  }

  async close(): Promise<void> {
    proxies.delete(this);
    for (const c of [...this.conns]) this.drop(c);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = tcpConnect(this.targetPort, this.targetHost);
    const conn: Conn = {
      index: this.accepted++,
      bytes: { toServer: 0, toClient: 0 },
      sawCopy: false,
      client,
      server,
      held: { toServer: false, toClient: false },
    };
    this.conns.add(conn);
    const scanner = new QueryScanner((sql) => {
      conn.previousQuery = conn.lastQuery;
      conn.lastQuery = sql;
      if (/^\s*copy\b/i.test(sql)) {
        conn.sawCopy = true;
        conn.lastCopy = sql;
      }
      if (this.dropCommit && /^\s*commit\b/i.test(sql) && this.dropCommit(conn)) {
        this.dropCommit = null;
        conn.held.toClient = true;
        server.pause();
        this.log.push(`connection ${conn.index}: COMMIT sent on, its reply dropped`);
        if (!this.dropCommitKeepsOpen) setTimeout(() => this.drop(conn), 200).unref();
      }
    });
    let chain = Promise.resolve();
    const pipe = (from: Socket, to: Socket, direction: Direction) => {
      from.on('data', (chunk: Buffer) => {
        if (conn.held[direction] || this.stalls(conn, direction, from, chunk.length)) return;
        chunk = this.limit(conn, chunk);
        if (direction === 'toServer') scanner.push(chunk);
        conn.bytes[direction] += chunk.length;
        const send = () => {
          if (!conn.held[direction] && !to.destroyed) to.write(chunk);
        };
        if (this.delayMs > 0) {
          const ms = this.delayMs;
          chain = chain.then(() => new Promise<void>((r) => setTimeout(r, ms).unref())).then(send);
        } else send();
        if (this.cutAt !== null && this.bytes >= this.cutAt) {
          this.cutAt = null;
          this.cutAll(`cut after ${this.bytes} bytes`);
        }
      });
      from.on('error', () => this.drop(conn));
      from.on('close', () => this.drop(conn));
    };
    pipe(client, server, 'toServer');
    pipe(server, client, 'toClient');
  }

  /** A cut forwards exactly up to its byte count. */
  private limit(conn: Conn, chunk: Buffer): Buffer {
    if (this.cutAt === null) return chunk;
    const room = this.cutAt - this.bytes;
    return room < chunk.length ? chunk.subarray(0, Math.max(0, room)) : chunk;
  }

  /** Whether this chunk starts a stall: it and everything after it in `direction` are held. */
  private stalls(conn: Conn, direction: Direction, from: Socket, size: number): boolean {
    const rule = this.stallRule;
    if (!rule || rule.direction !== direction || conn.bytes[direction] + size < rule.afterBytes) return false;
    if (!rule.where(conn)) return false;
    this.stallRule = null;
    conn.held[direction] = true;
    from.pause();
    this.log.push(`connection ${conn.index}: stalled ${direction} after ${conn.bytes[direction]} bytes`);
    return true;
  }

  private drop(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    this.counted += conn.bytes.toClient + conn.bytes.toServer;
    conn.client.destroy();
    conn.server.destroy();
  }
}

const proxies = new Set<FaultProxy>();

afterAll(async () => {
  for (const p of [...proxies]) await p.close();
});
