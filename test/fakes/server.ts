import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake saw (tests assert the rate a client really produced). */
export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  /** The operation, when the fake knows it (a GraphQL field, a listings call). */
  operation?: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  operation?: string;
}

/**
 * A node:http server on 127.0.0.1 (port 0) with the knobs both fakes share: `fail(n)` answers
 * the next n requests 503, `down()` closes the port (connection refused) until `up()` listens on
 * the same port again, and every request is logged with its time.
 */
export class FakeServer {
  readonly log: LoggedRequest[] = [];
  private server: Server;
  private port = 0;
  private failing = 0;

  constructor(private readonly handle: (req: IncomingMessage, body: string, url: URL) => Reply | Promise<Reply>) {
    this.server = this.create();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await this.listen(0);
    return this;
  }

  /** 503 the next `n` requests. */
  fail(n: number): void {
    this.failing = n;
  }

  /** Stop listening: clients see connection refused. */
  async down(): Promise<void> {
    await this.close();
  }

  async up(): Promise<void> {
    this.server = this.create();
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    if (this.server.listening) await this.close();
  }

  /** Requests (optionally of one operation) since `since`. */
  requests(operation?: string, since = 0): LoggedRequest[] {
    return this.log.filter((r) => r.at >= since && (operation === undefined || r.operation === operation));
  }

  private create(): Server {
    const server = createServer((req, res) => void this.serve(req, res));
    server.keepAliveTimeout = 1000;
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    let reply: Reply;
    if (this.failing > 0) {
      this.failing -= 1;
      reply = { status: 503, body: { errors: [{ code: 'ServiceUnavailable', message: 'injected failure' }] } };
    } else {
      try {
        reply = await this.handle(req, Buffer.concat(chunks).toString('utf8'), url);
      } catch (error) {
        reply = { status: 500, body: { errors: [{ code: 'InternalFailure', message: String(error) }] } };
      }
    }
    this.log.push({ at: Date.now(), method: req.method ?? '', path: url.pathname, status: reply.status, ...(reply.operation ? { operation: reply.operation } : {}) });
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }
}

/**
 * A leaky/token bucket refilled continuously at `rate` per second up to `capacity`. `now` is the
 * fake's clock (a test that steers time steers the refill with it).
 */
export class Bucket {
  private level: number;
  private at: number;
  constructor(
    public capacity: number,
    public rate: number,
    private readonly now: () => number = Date.now,
  ) {
    this.level = capacity;
    this.at = now();
  }
  available(): number {
    const now = this.now();
    this.level = Math.min(this.capacity, this.level + (Math.max(0, now - this.at) / 1000) * this.rate);
    this.at = now;
    return this.level;
  }
  take(n: number): boolean {
    if (this.available() < n) return false;
    this.level -= n;
    return true;
  }
  set(level: number): void {
    this.available();
    this.level = Math.min(this.capacity, level);
  }
}

/**
 * What both platform fakes are around their own wire format: a FakeServer answering through
 * `handleRequest`, its URL, and its knobs (fail, down/up, stop).
 */
export abstract class PlatformFake {
  readonly server: FakeServer;

  constructor() {
    // Called per request, long after the subclass is built.
    this.server = new FakeServer((req, body, url) => this.handleRequest(req, body, url));
  }

  protected abstract handleRequest(req: IncomingMessage, body: string, url: URL): Reply;

  get url(): string {
    return this.server.url;
  }
  fail(n: number): void {
    this.server.fail(n);
  }
  down(): Promise<void> {
    return this.server.down();
  }
  up(): Promise<void> {
    return this.server.up();
  }
  stop(): Promise<void> {
    return this.server.stop();
  }
}
