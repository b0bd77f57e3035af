import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

export type GatewayMode = { kind: 'ok' } | { kind: 'status'; status: number; retryAfter?: string } | { kind: 'hang' };

export interface ReceivedRequest {
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  events: Array<Record<string, unknown>>;
  /** What the gateway answered. */
  status: number;
}

/**
 * A stand-in for the Helios gateway's `POST /api/v1/events` on loopback: records every request (gunzipped),
 * answers per `mode`, and can be stopped and restarted on the same port to play "gateway down".
 */
export class FakeGateway {
  mode: GatewayMode = { kind: 'ok' };
  readonly requests: ReceivedRequest[] = [];
  port = 0;
  private server: http.Server | undefined;
  private readonly hanging = new Set<http.ServerResponse>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Helios JSON events from requests answered 2xx. */
  get accepted(): Array<Record<string, unknown>> {
    return this.requests.filter((r) => r.status === 202 && r.path === '/api/v1/events').flatMap((r) => r.events);
  }

  async start(port = this.port): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const parsed = JSON.parse(body.toString('utf8')) as unknown;
        const events = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
        const mode = this.mode;
        const status = mode.kind === 'ok' ? 202 : mode.kind === 'status' ? mode.status : 0;
        this.requests.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, events, status });
        if (mode.kind === 'hang') {
          this.hanging.add(res);
          return;
        }
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (mode.kind === 'status' && mode.retryAfter !== undefined) headers['retry-after'] = mode.retryAfter;
        res.writeHead(status, headers);
        res.end(status === 202 ? JSON.stringify({ accepted: events.length, ids: events.map((e) => e['id']) }) : JSON.stringify({ code: 'X', message: 'no' }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Polls until `check` holds; the limit is only a guard against hanging forever, not a timing assertion. */
export async function waitFor(check: () => boolean, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
