import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeliosError } from '@helios/core';
import { HEADER_NAMES, type GatewayResponse, type ResponseStream, type HttpTransport, type RequestHeaders, type TransportOptions } from './transport.js';

/** A streamed response over node:http: backpressure is the socket's (write() false until 'drain'). */
function nodeStream(res: ServerResponse): ResponseStream {
  let backpressured = false;
  let ended = false;
  const listeners: Array<() => void> = [];
  res.on('drain', () => (backpressured = false));
  res.on('close', () => {
    if (ended) return;
    ended = true;
    for (const listener of listeners.splice(0)) listener();
  });
  return {
    write(chunk) {
      if (ended || res.destroyed) return false;
      if (!res.write(chunk)) backpressured = true;
      return !backpressured;
    },
    get backpressured() {
      return backpressured || res.destroyed;
    },
    end() {
      if (ended) return;
      ended = true;
      listeners.length = 0;
      res.end();
    },
    onClose(listener) {
      if (ended) return;
      listeners.push(listener);
    },
  };
}

/** node:http transport: the fallback where the uWebSockets.js binary does not load. */
export function createNodeTransport(options: TransportOptions): HttpTransport {
  const { bodyBudget } = options;
  // Once listening stopped, answers close their connection: keep-alive clients move on instead of
  // holding the server open until close() cuts them.
  let draining = false;
  /** Resolves when the server has closed: not listening, and every connection ended. */
  let serverClosed: Promise<void> | undefined;
  // Responses handed to a socket but not yet flushed: close() waits for them before cutting connections.
  let unflushed = 0;
  let flushed: (() => void) | undefined;
  const onFlushed = () => {
    unflushed--;
    if (unflushed === 0) flushed?.();
  };
  const send = (res: ServerResponse, response: GatewayResponse) => {
    if (res.headersSent || res.destroyed) return;
    if (draining) res.shouldKeepAlive = false;
    if (response.stream !== undefined) {
      // Not counted in `unflushed`: a stream lasts until its writer ends it, and close() cuts it (its onClose runs).
      res.writeHead(response.status, response.headers);
      res.flushHeaders();
      response.stream(nodeStream(res));
      return;
    }
    res.writeHead(response.status, response.headers);
    unflushed++;
    res.end(response.body ?? '', onFlushed);
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
    // Bytes of this request reserved in the body budget; released once, when the request ends.
    let held = 0;
    let dispatched = false;
    const release = () => {
      bodyBudget.release(held);
      held = 0;
    };
    /**
     * Stop buffering: the rest of the body is read and dropped. A body over the size limit is answered at
     * once and closes the connection (it will never be taken). One over the budget is answered when its
     * body has been read: node:http would otherwise close the connection under a client still sending,
     * which then sees a broken pipe instead of the 503 it should retry on.
     */
    let answerAtEnd: GatewayResponse | undefined;
    const refuse = (response: GatewayResponse, close: boolean) => {
      rejected = true;
      chunks.length = 0;
      release();
      if (close) send(res, { ...response, headers: { ...response.headers, connection: 'close' } });
      else answerAtEnd = response;
      req.resume();
    };
    req.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > options.maxBodyBytes) return refuse(options.tooLarge(), true);
      if (!bodyBudget.tryReserve(chunk.length)) return refuse(options.overBudget(), false);
      held += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (answerAtEnd !== undefined) send(res, answerAtEnd);
      if (rejected) return;
      dispatched = true;
      const body = Buffer.concat(chunks, size);
      chunks.length = 0;
      let response: ReturnType<typeof options.handler>;
      try {
        response = options.handler({ method: (req.method ?? 'GET').toUpperCase(), path: q === -1 ? url : url.slice(0, q), query: q === -1 ? '' : url.slice(q + 1), headers, body });
      } catch (err) {
        response = { status: 500, body: String(err) };
      }
      if (response instanceof Promise) {
        response.then(
          (r) => {
            release();
            send(res, r);
          },
          (err: unknown) => {
            release();
            send(res, { status: 500, body: String(err) });
          },
        );
      } else {
        release();
        send(res, response);
      }
    });
    // A client gone before its body was complete: nothing will read what it sent.
    res.on('close', () => {
      if (!dispatched) release();
    });
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 65_000;
  return {
    name: 'node',
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          reject(err.code === 'EADDRINUSE'
            ? new HeliosError('HLS_ERR_PORT_IN_USE', `could not listen on ${options.host}:${options.port}: the port is in use by another process; choose another with --port or gateway.port`, { cause: err })
            : err);
        });
        // node:http binds exclusively unless reusePort is given (honoured from Node 22.12; older Nodes ignore it).
        server.listen({ port: options.port, host: options.host, ...(options.reusePort === true ? { reusePort: true } : {}) }, () => resolve((server.address() as AddressInfo).port));
      }),
    // Resolves once no new connection is accepted. Connections with requests in flight stay open;
    // close() ends them once the gateway has drained and every response is flushed.
    async stopListening() {
      serverClosed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      draining = true;
    },
    async close() {
      draining = true;
      serverClosed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      if (unflushed > 0) await new Promise<void>((resolve) => (flushed = resolve));
      server.closeAllConnections();
      await serverClosed;
    },
  };
}
