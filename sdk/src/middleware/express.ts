import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { HeliosClient } from '../client.js';
import { recordRequest, REQUEST_ERROR, UNMATCHED_ROUTE } from './request-event.js';

export { UNMATCHED_ROUTE } from './request-event.js';

/** The parts of Express's request the middleware reads; structural, so the SDK needs no Express types. */
export interface ExpressRequestLike extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: unknown };
}
type Next = (error?: unknown) => void;

export type ExpressMiddleware = (req: ExpressRequestLike, res: ServerResponse, next: Next) => void;
export type ExpressErrorMiddleware = (error: unknown, req: ExpressRequestLike, res: ServerResponse, next: Next) => void;

/** `req.baseUrl` + `req.route.path`, the template of the route that answered: `/api` + `/users/:id`. */
export function expressRoute(req: ExpressRequestLike): string {
  const path = req.route?.path;
  if (path === undefined) return UNMATCHED_ROUTE;
  const routePath = typeof path === 'string' ? path : String(path);
  const base = req.baseUrl ?? '';
  if (base === '') return routePath === '' ? '/' : routePath;
  return routePath === '/' ? base : `${base}${routePath}`;
}

/**
 * Express middleware: `app.use(heliosExpress(helios))` before the routes. Records endpoint as the route
 * template (`req.baseUrl` + `req.route.path`, captured when the router matches), status, latency. Add `app.use(heliosExpressErrors())` after
 * the routes to record the thrown error's code (otherwise a 5xx is recorded as `HTTP_<status>`).
 */
export function heliosExpress(client: HeliosClient): ExpressMiddleware {
  if (client === undefined || typeof client.event !== 'function') throw new TypeError('heliosExpress(client): client must be the value init() returned');
  if (!client.enabled) return function heliosExpressDisabled(_req, _res, next) { next(); };
  return function heliosExpressMiddleware(req, res, next) {
    const start = performance.now();
    // The template must be read when the router assigns `req.route`: by the time the response closes (or an
    // error reaches the app's error handlers) a sub-router has already reset `req.baseUrl` to its parent's.
    let route: unknown;
    let template = UNMATCHED_ROUTE;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set(value: { path?: unknown } | undefined) {
        route = value;
        template = expressRoute(req);
      },
    });
    res.once('close', () => {
      recordRequest(client, req.method ?? 'GET', template, res.writableFinished ? res.statusCode : 499, start, undefined, (req as unknown as Record<symbol, unknown>)[REQUEST_ERROR]);
    });
    next();
  };
}

/** Express error middleware that notes the error for the request event and passes it on unchanged. */
export function heliosExpressErrors(): ExpressErrorMiddleware {
  // Four parameters: Express recognises error middleware by its arity.
  return function heliosExpressErrorRecorder(error, req, _res, next) {
    (req as unknown as Record<symbol, unknown>)[REQUEST_ERROR] = error;
    next(error);
  };
}
