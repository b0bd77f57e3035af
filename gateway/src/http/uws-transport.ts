import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import { HeliosError } from '@helios/core';
import { STATUS_TEXT, type GatewayResponse, type ResponseStream, type HttpTransport, type RequestHeaders, type TransportOptions } from './transport.js';

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

/**
 * Status lines, header names and values handed to uWS as bytes, encoded once: a JS string argument
 * costs uWS a UTF-8 length pass, a malloc, a copy and a free on every call.
 */
const STATUS_LINES = new Map(Object.entries(STATUS_TEXT).map(([code, text]) => [Number(code), Buffer.from(`${code} ${text}`, 'latin1')]));
const HEADER_KEYS = { contentType: Buffer.from('content-type'), contentEncoding: Buffer.from('content-encoding'), authorization: Buffer.from('authorization'), apiKey: Buffer.from('x-api-key'), lastEventId: Buffer.from('last-event-id'), acceptEncoding: Buffer.from('accept-encoding') };

/** Encoded name/value pairs of the frozen header objects responses share (e.g. the JSON content type); built on first use. */
const encodedHeaders = new WeakMap<object, Buffer[]>();
function sharedHeaders(headers: Record<string, string>): Buffer[] | undefined {
  let pairs = encodedHeaders.get(headers);
  if (pairs === undefined && Object.isFrozen(headers)) {
    pairs = Object.entries(headers).flatMap(([name, value]) => [Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1')]);
    encodedHeaders.set(headers, pairs);
  }
  return pairs;
}

/** What a request's uWS callbacks share with a response: whether the client went away, and who to tell when it does. */
interface ResponseState {
  aborted: boolean;
  onAbort?: (() => void) | undefined;
}

/**
 * A streamed response over uWS: every write is corked (it runs from timers, outside uWS callbacks), and a
 * write uWS could not pass on at once is held by uWS until onWritable says the client took it.
 */
function uwsStream(res: Uws.HttpResponse, state: ResponseState): ResponseStream {
  let backpressured = false;
  let ended = false;
  const listeners: Array<() => void> = [];
  state.onAbort = () => {
    if (ended) return;
    ended = true;
    for (const listener of listeners.splice(0)) listener();
  };
  const writable = () => {
    backpressured = false;
    return true;
  };
  return {
    write(chunk) {
      if (ended || state.aborted) return false;
      let ok = true;
      res.cork(() => (ok = res.write(chunk)));
      if (!ok && !backpressured) {
        backpressured = true;
        res.onWritable(writable);
      }
      return ok;
    },
    get backpressured() {
      return backpressured || state.aborted;
    },
    end() {
      if (ended) return;
      ended = true;
      listeners.length = 0;
      if (!state.aborted) res.cork(() => res.end());
    },
    onClose(listener) {
      if (ended) return;
      listeners.push(listener);
    },
  };
}

/** Write a whole response. Inside a uWS callback (handler, onData) uWS corks by itself. */
function write(res: Uws.HttpResponse, response: GatewayResponse, state: ResponseState): void {
  res.writeStatus(STATUS_LINES.get(response.status) ?? String(response.status));
  const headers = response.headers;
  if (headers !== undefined) {
    const pairs = sharedHeaders(headers);
    if (pairs !== undefined) for (let i = 0; i < pairs.length; i += 2) res.writeHeader(pairs[i]!, pairs[i + 1]!);
    else for (const name in headers) res.writeHeader(name, headers[name]!);
  }
  const stream = response.stream;
  if (stream !== undefined) {
    const out = uwsStream(res, state);
    queueMicrotask(() => stream(out));
    return;
  }
  res.end(response.body ?? '');
}

/** Answer from outside any uWS callback (a promise continuation): cork so the response goes out in one write. */
function sendLater(res: Uws.HttpResponse, state: ResponseState, response: GatewayResponse): void {
  if (!state.aborted) res.cork(() => write(res, response, state));
}

/** One request's state; uWS still needs its two callbacks. */
interface RequestState extends ResponseState {
  rejected: boolean;
  /** The handler has the body: from then on its response settling releases the bytes held. */
  dispatched: boolean;
  size: number;
  /** Bytes reserved in the body budget for this request. */
  held: number;
  first: Buffer | undefined;
  rest: Buffer[] | undefined;
  /** A refusal sent once the rest of the body arrived (over the budget). */
  answerAtEnd: GatewayResponse | undefined;
}

const fail = (err: unknown): GatewayResponse => ({ status: 500, body: String(err) });

/** uWS.js 20.x takes `listen(host, port, options, cb)`; its typings only declare the form without host. */
type ListenWithHost = (host: string, port: number, options: number, cb: (socket: Uws.us_listen_socket | false) => void) => unknown;
function listenWithOptions(app: Uws.TemplatedApp, host: string, port: number, options: number, cb: (socket: Uws.us_listen_socket | false) => void): void {
  (app.listen as unknown as ListenWithHost).call(app, host, port, options, cb);
}

export function createUwsTransport(uws: typeof Uws, options: TransportOptions): HttpTransport {
  const app = uws.App();
  let listenSocket: Uws.us_listen_socket | false = false;

  const { handler, maxBodyBytes, bodyBudget } = options;
  const readsCredentials = options.readsCredentials !== false;

  /**
   * Run the handler and answer: a plain response (the request completed synchronously) is written from
   * the current uWS callback, like a bare uWS server; a promise is answered when it settles, unless the
   * client went away meanwhile.
   */
  function dispatch(res: Uws.HttpResponse, state: RequestState, request: Parameters<typeof handler>[0]): void {
    state.dispatched = true;
    let response: ReturnType<typeof handler>;
    try {
      response = handler(request);
    } catch (err) {
      response = fail(err);
    }
    if (response instanceof Promise) {
      response.then(
        (r) => {
          release(state);
          sendLater(res, state, r);
        },
        (err: unknown) => {
          release(state);
          sendLater(res, state, fail(err));
        },
      );
    } else {
      release(state);
      if (!state.aborted) write(res, response, state);
    }
  }

  function release(state: RequestState): void {
    bodyBudget.release(state.held);
    state.held = 0;
  }

  /**
   * Stop buffering the body; what was reserved goes back to the budget. A body over the size limit is
   * answered at once (uWS then closes the connection: it will never be taken). One over the budget is
   * answered once the rest has arrived and been dropped: a connection closed under a client still
   * sending resets it, and it would see a reset instead of the 503 it should retry on.
   */
  function refuse(res: Uws.HttpResponse, state: RequestState, response: GatewayResponse, atEnd: boolean, isLast: boolean): void {
    state.rejected = true;
    state.first = undefined;
    state.rest = undefined;
    release(state);
    if (atEnd && !isLast) state.answerAtEnd = response;
    else if (!state.aborted) write(res, response, state);
  }

  /**
   * One request: read what the handler can use, then its body. `req` is only valid inside the uWS
   * callback, so everything is copied now; each read crosses into C++ and makes a string, so only
   * what a route of this method can use is read.
   */
  function serve(res: Uws.HttpResponse, req: Uws.HttpRequest, method: string, path: string): void {
    const get = method === 'GET' || method === 'HEAD';
    const query = get ? (req.getQuery() ?? '') : '';
    const headers: RequestHeaders = {
      'content-type': req.getHeader(HEADER_KEYS.contentType),
      'content-encoding': req.getHeader(HEADER_KEYS.contentEncoding),
      authorization: readsCredentials ? req.getHeader(HEADER_KEYS.authorization) : '',
      'x-api-key': readsCredentials ? req.getHeader(HEADER_KEYS.apiKey) : '',
      'last-event-id': get ? req.getHeader(HEADER_KEYS.lastEventId) : '',
      'accept-encoding': get ? req.getHeader(HEADER_KEYS.acceptEncoding) : '',
    };
    // One state object per request; uWS still needs its two callbacks.
    const state: RequestState = { aborted: false, onAbort: undefined, rejected: false, dispatched: false, size: 0, held: 0, first: undefined, rest: undefined, answerAtEnd: undefined };
    res.onAborted(() => {
      state.aborted = true;
      state.onAbort?.();
      // Gone before its body was complete: nothing will read what it sent. After dispatch, the handler
      // still holds the body until its response settles, which releases it.
      if (!state.dispatched) release(state);
    });
    if (get) {
      dispatch(res, state, { method, path, query, headers, body: EMPTY_BODY });
      return;
    }
    res.onData((chunk, isLast) => {
      if (state.rejected) {
        if (isLast && state.answerAtEnd !== undefined && !state.aborted) write(res, state.answerAtEnd, state);
        return;
      }
      state.size += chunk.byteLength;
      // Answer now and stop buffering: memory per request stays bounded by the limit, and memory of all
      // requests together by the budget (a chunk is reserved as it arrives, before the body is complete).
      if (state.size > maxBodyBytes) return refuse(res, state, options.tooLarge(), false, isLast);
      if (!bodyBudget.tryReserve(chunk.byteLength)) return refuse(res, state, options.overBudget(), true, isLast);
      state.held += chunk.byteLength;
      if (isLast && state.first === undefined) {
        // The whole body in one chunk (the common case): lend the handler a view of uWS's memory rather
        // than a copy; the handler copies it if it needs the bytes after returning.
        dispatch(res, state, { method, path, query, headers, body: Buffer.from(chunk), bodyBorrowed: true });
        return;
      }
      // The ArrayBuffer is only valid during this callback: copy it (small copies come from Buffer's pool).
      const copy = Buffer.from(new Uint8Array(chunk));
      if (state.first === undefined) state.first = copy;
      else (state.rest ??= [state.first]).push(copy);
      if (!isLast) return;
      const body = state.rest === undefined ? state.first! : Buffer.concat(state.rest, state.size);
      // The state lives as long as the connection's callbacks: it must not keep the chunks alive.
      state.first = undefined;
      state.rest = undefined;
      dispatch(res, state, { method, path, query, headers, body });
    });
  }

  // The ingest paths are routed by uWS itself (method and path known without asking per request);
  // everything else, including other methods on those paths, goes through the catch-all.
  for (const path of options.postPaths ?? []) app.post(path, (res, req) => serve(res, req, 'POST', path));
  app.any('/*', (res, req) => serve(res, req, methodOf(req), req.getUrl()));

  return {
    name: 'uws',
    listen: () =>
      new Promise((resolve, reject) => {
        // uSockets listens with SO_REUSEPORT unless told LIBUS_LISTEN_EXCLUSIVE_PORT (1): without it a second
        // Helios on the same port starts fine and the kernel splits connections between two separate stores.
        listenWithOptions(app, options.host, options.port, options.reusePort === true ? 0 : 1, (socket) => {
          // uSockets gives no reason; a port taken by another process is by far the usual one.
          if (socket === false) reject(new HeliosError('HLS_ERR_PORT_IN_USE', `could not listen on ${options.host}:${options.port}: the port is in use by another process (or binding it is not permitted); choose another with --port or gateway.port${options.reusePort === true ? '' : ', or set gateway.reusePort: true to share it on purpose'}`));
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
