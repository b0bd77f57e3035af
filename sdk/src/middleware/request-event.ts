import type { HeliosClient } from '../client.js';
import { errorCodeOf } from '../event.js';

/** Endpoint for requests no route matched (404s): one value, so scanners cannot explode cardinality. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** The error a handler failed with, parked on the request until the response closes (errors only). */
export const REQUEST_ERROR = Symbol.for('helios.request.error');
/** A route template set by the application itself (`setRoute`), used by the node:http middleware. */
export const REQUEST_ROUTE = Symbol.for('helios.request.route');

/**
 * Records one finished request as a `span` event: endpoint (route template), status, latency, and on
 * failure an error code (the thrown error's `code` or name, or `HTTP_<status>` for a 5xx without one).
 * 5xx and thrown errors are ERROR (never sampled away); everything else INFO. The method is in the
 * message (`GET /users/:id`); no per-request attributes object, to keep the hot path lean.
 */
export function recordRequest(client: HeliosClient, method: string, endpoint: string, statusCode: number, latencyMs: number, error: unknown): void {
  const failed = error !== undefined || statusCode >= 500;
  client.event({
    kind: 'span',
    level: failed ? 'ERROR' : 'INFO',
    message: `${method} ${endpoint}`,
    endpoint,
    status_code: statusCode,
    latency_ms: latencyMs,
    error_code: error !== undefined ? errorCodeOf(error) : statusCode >= 500 ? `HTTP_${statusCode}` : undefined,
  });
}

const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[0-9A-Za-z_-]{20,})$/i;

/**
 * A route template guessed from a raw path, for servers without a router: numeric, UUID, long hex and
 * long token segments become `:id` (`/users/42/orders/9f1c...` -> `/users/:id/orders/:id`). Query strings
 * are dropped. Apps with a router should pass the router's template (`setRoute` or the framework middleware).
 */
export function routeFromPath(url: string | undefined): string {
  if (url === undefined || url === '') return '/';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (path.indexOf('/', 1) < 0 && !ID_SEGMENT.test(path.slice(1))) return path;
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (ID_SEGMENT.test(segments[i] as string)) segments[i] = ':id';
  }
  return segments.join('/');
}
