import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import { HEADER_NAMES, STATUS_TEXT, type GatewayResponse, type HttpTransport, type RequestHeaders, type TransportOptions } from './transport.js';

/** Loads uWebSockets.js, or returns the reason it cannot load on this platform. */
export function loadUws(): { uws: typeof Uws } | { error: Error } {
  try {
    return { uws: createRequire(import.meta.url)('uWebSockets.js') as typeof Uws };
  } catch (err) {
    return { error: err as Error };
  }
}

/** Status lines built once, not per response. */
const STATUS_LINES = new Map(Object.entries(STATUS_TEXT).map(([code, text]) => [Number(code), `${code} ${text}`]));

function send(res: Uws.HttpResponse, response: GatewayResponse): void {
  res.cork(() => {
    res.writeStatus(STATUS_LINES.get(response.status) ?? String(response.status));
    if (response.headers !== undefined) for (const name in response.headers) res.writeHeader(name, response.headers[name]!);
    res.end(response.body ?? '');
  });
}

export function createUwsTransport(uws: typeof Uws, options: TransportOptions): HttpTransport {
  const app = uws.App();
  let listenSocket: Uws.us_listen_socket | false = false;

  app.any('/*', (res, req) => {
    // req is only valid inside this callback: copy what we need now.
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const headers = {} as RequestHeaders;
    for (const name of HEADER_NAMES) headers[name] = req.getHeader(name);
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const respond = (response: GatewayResponse) => {
      if (!aborted) send(res, response);
    };
    const dispatch = (body: Buffer) => {
      options.handler({ method, path, query, headers, body }).then(respond, (err: unknown) => respond({ status: 500, body: String(err) }));
    };
    if (method === 'GET' || method === 'HEAD') {
      dispatch(Buffer.alloc(0));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    res.onData((chunk, isLast) => {
      if (rejected) return;
      size += chunk.byteLength;
      if (size > options.maxBodyBytes) {
        // Answer now and stop buffering: memory per request stays bounded by the limit.
        rejected = true;
        respond(options.tooLarge());
        return;
      }
      // The ArrayBuffer is only valid during this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) dispatch(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  });

  return {
    name: 'uws',
    listen: () =>
      new Promise((resolve, reject) => {
        app.listen(options.host, options.port, (socket) => {
          if (socket === false) reject(new Error(`uWebSockets.js could not listen on ${options.host}:${options.port}`));
          else {
            listenSocket = socket;
            resolve(uws.us_socket_local_port(socket));
          }
        });
      }),
    async stopListening() {
      if (listenSocket !== false) uws.us_listen_socket_close(listenSocket);
      listenSocket = false;
    },
    async close() {
      await this.stopListening();
      app.close();
    },
  };
}
