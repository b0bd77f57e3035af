import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { HeliosClient } from '../client.js';
import { recordRequest, REQUEST_ERROR, REQUEST_ROUTE, routeFromPath } from './request-event.js';

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

  return function heliosHttpListener(req, res) {
    const start = performance.now();
    res.once('close', () => {
      const holder = req as unknown as Record<symbol, unknown>;
      const endpoint = (holder[REQUEST_ROUTE] as string | undefined) ?? routeOf?.(req) ?? routeFromPath(req.url);
      recordRequest(client, req.method ?? 'GET', endpoint, res.writableFinished ? res.statusCode : 499, performance.now() - start, holder[REQUEST_ERROR]);
    });
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
