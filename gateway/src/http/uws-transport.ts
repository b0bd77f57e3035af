import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import { STATUS_TEXT, type GatewayResponse, type HttpTransport, type RequestHeaders, type TransportOptions } from './transport.js';

/** Loads uWebSockets.js, or returns the reason it cannot load on this platform. */
export function loadUws(): { uws: typeof Uws } | { error: Error } {
  try {
    return { uws: createRequire(import.meta.url)('uWebSockets.js') as typeof Uws };
  } catch (err) {
    return { error: err as Error };
  }
}

const EMPTY_BODY = Buffer.alloc(0);

/** Upper-case method without a toUpperCase per request: uWS's getMethod() is already lower-case. */
function methodOf(req: Uws.HttpRequest): string {
  switch (req.getMethod()) {
    case 'post':
      return 'POST';
    case 'get':
      return 'GET';
    case 'head':
      return 'HEAD';
    default:
      return req.getCaseSensitiveMethod().toUpperCase();
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

  const { handler, maxBodyBytes } = options;
  const fail = (err: unknown): GatewayResponse => ({ status: 500, body: String(err) });

  app.any('/*', (res, req) => {
    // req is only valid inside this callback: copy what we need now.
    const method = methodOf(req);
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const headers: RequestHeaders = {
      'content-type': req.getHeader('content-type'),
      'content-encoding': req.getHeader('content-encoding'),
      authorization: req.getHeader('authorization'),
      'x-api-key': req.getHeader('x-api-key'),
    };
    // One state object per request instead of a closure per step; uWS still needs its two callbacks.
    const pending = { aborted: false, rejected: false, size: 0, first: undefined as Buffer | undefined, rest: undefined as Buffer[] | undefined };
    const respond = (response: GatewayResponse): void => {
      if (!pending.aborted) send(res, response);
    };
    res.onAborted(() => {
      pending.aborted = true;
    });
    if (method === 'GET' || method === 'HEAD') {
      handler({ method, path, query, headers, body: EMPTY_BODY }).then(respond, (err: unknown) => respond(fail(err)));
      return;
    }
    res.onData((chunk, isLast) => {
      if (pending.rejected) return;
      pending.size += chunk.byteLength;
      if (pending.size > maxBodyBytes) {
        // Answer now and stop buffering: memory per request stays bounded by the limit.
        pending.rejected = true;
        respond(options.tooLarge());
        return;
      }
      // The ArrayBuffer is only valid during this callback: copy it (small copies come from Buffer's pool).
      const copy = Buffer.from(new Uint8Array(chunk));
      if (pending.first === undefined) pending.first = copy;
      else (pending.rest ??= [pending.first]).push(copy);
      if (!isLast) return;
      const body = pending.rest === undefined ? pending.first : Buffer.concat(pending.rest, pending.size);
      handler({ method, path, query, headers, body }).then(respond, (err: unknown) => respond(fail(err)));
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
