import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HEADER_NAMES, type GatewayResponse, type HttpTransport, type RequestHeaders, type TransportOptions } from './transport.js';

/** node:http transport: the fallback where the uWebSockets.js binary does not load. */
export function createNodeTransport(options: TransportOptions): HttpTransport {
  const send = (res: ServerResponse, response: GatewayResponse) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(response.status, response.headers);
    res.end(response.body ?? '');
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const headers = {} as RequestHeaders;
    for (const name of HEADER_NAMES) {
      const v = req.headers[name];
      headers[name] = Array.isArray(v) ? v.join(',') : (v ?? '');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    req.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > options.maxBodyBytes) {
        rejected = true;
        send(res, { ...options.tooLarge(), headers: { ...options.tooLarge().headers, connection: 'close' } });
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (rejected) return;
      options
        .handler({ method: (req.method ?? 'GET').toUpperCase(), path: q === -1 ? url : url.slice(0, q), query: q === -1 ? '' : url.slice(q + 1), headers, body: Buffer.concat(chunks, size) })
        .then((r) => send(res, r), (err: unknown) => send(res, { status: 500, body: String(err) }));
    });
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 65_000;
  return {
    name: 'node',
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => resolve((server.address() as AddressInfo).port));
      }),
    stopListening: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
