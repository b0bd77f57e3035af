import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { HeliosClient } from '../client.js';
import { recordRequest, REQUEST_ERROR, REQUEST_ROUTE, RouteTemplates } from './request-event.js';

/** performance.now() when the request arrived, on the response object. */
const REQUEST_START = Symbol('helios.request.start');

export { routeFromPath, UNMATCHED_ROUTE } from './request-event.js';

export interface HttpMiddlewareOptions {
  /** Route template for a request; default: `setRoute` if the handler called it, else `routeFromPath(req.url)`. */
  route?: (req: IncomingMessage) => string | undefined;
}

type Handler<Req extends IncomingMessage, Res extends ServerResponse> = (req: Req, res: Res) => unknown;

/** Tell the middleware the route template of this request (for apps with their own router). */
export function setRoute(req: IncomingMessage, template: string): void {
  (req as unknown as Record<symbol, string>)[REQUEST_ROUTE] = template;
}

/**
 * Wraps a node:http request listener: each request becomes one Helios `span` event with endpoint, status,
 * latency and, if the handler threw or rejected, its error code. The error is re-thrown unchanged.
 *
 *     http.createServer(withHelios(helios, (req, res) => { ... }))
 */
export function withHelios<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  client: HeliosClient,
  handler: Handler<Req, Res>,
  options: HttpMiddlewareOptions = {},
): Handler<Req, Res> {
  if (typeof handler !== 'function') throw new TypeError('withHelios(client, handler): handler must be a function');
  const routeOf = options.route;
  if (!client.enabled) return handler;
  // Per wrapped server: its guessed templates, interned (one string per route, found without allocating).
  const guessedRoutes = new RouteTemplates();

  // One close listener for every request of this server, reading its state from the response: no
  // closure per request. `res.req` is the request this response answers (Node >= 15.7).
  function heliosResponseClosed(this: ServerResponse): void {
    const res = this;
    const req = res.req as IncomingMessage & Record<symbol, unknown>;
    const endpoint = (req[REQUEST_ROUTE] as string | undefined) ?? routeOf?.(req) ?? guessedRoutes.of(req.url);
    // No end time: the clock is read only for the requests whose events are sent.
    recordRequest(client, req.method ?? 'GET', endpoint, res.writableFinished ? res.statusCode : 499, (res as unknown as Record<symbol, number>)[REQUEST_START] as number, undefined, req[REQUEST_ERROR]);
  }

  return function heliosHttpListener(req, res) {
    (res as unknown as Record<symbol, number>)[REQUEST_START] = performance.now();
    // `on`, not `once`: a response closes once, and `once` would allocate a wrapper per request.
    res.on('close', heliosResponseClosed);
    let result: unknown;
    try {
      result = handler(req, res);
    } catch (error) {
      (req as unknown as Record<symbol, unknown>)[REQUEST_ERROR] = error;
      throw error;
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      // The derived promise rejects like the original, so an unhandled rejection stays unhandled.
      return (result as Promise<unknown>).then(undefined, (error: unknown) => {
        (req as unknown as Record<symbol, unknown>)[REQUEST_ERROR] = error;
        throw error;
      });
    }
    return result;
  };
}
