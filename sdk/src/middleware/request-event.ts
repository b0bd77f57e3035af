import type { HeliosClient } from '../client.js';
import { errorCodeOf, RECORD_REQUEST, type RequestRecorder } from '../event.js';
import { latencySince } from '../request-sampler.js';

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
 * Latency is `(endMs ?? performance.now()) - startMs`: pass `endMs` undefined when the request ends now,
 * so the clock is read only if its event is sent (`RequestRecorder`).
 */
export function recordRequest(client: HeliosClient, method: string, endpoint: string, statusCode: number, startMs: number, endMs: number | undefined, error: unknown): void {
  const errorCode = error !== undefined ? errorCodeOf(error) : statusCode >= 500 ? `HTTP_${statusCode}` : undefined;
  const fast = (client as unknown as { [RECORD_REQUEST]?: RequestRecorder })[RECORD_REQUEST];
  if (fast !== undefined) {
    fast(method, endpoint, statusCode, startMs, endMs, errorCode);
    return;
  }
  client.event({
    kind: 'span',
    level: errorCode !== undefined ? 'ERROR' : 'INFO',
    message: `${method} ${endpoint}`,
    endpoint,
    status_code: statusCode,
    latency_ms: latencySince(startMs, endMs),
    error_code: errorCode,
  });
}

const SLASH = 47;

/**
 * A route template guessed from a raw path, for servers without a router: numeric, UUID, long hex and
 * long token segments become `:id` (`/users/42/orders/9f1c...` -> `/users/:id/orders/:id`). Query strings
 * are dropped. Apps with a router should pass the router's template (`setRoute` or the framework middleware).
 * A character scan rather than a regular expression per segment: it runs once per request.
 */
export function routeFromPath(url: string | undefined): string {
  if (url === undefined || url === '') return '/';
  const query = url.indexOf('?');
  const end = query < 0 ? url.length : query;
  let template = '';
  let copiedTo = 0;
  // Like the segments after the first '/': text before it (not a path in practice) is kept as it is.
  let start = url.indexOf('/') + 1;
  if (start === 0 || start > end) start = end;
  while (start < end) {
    let stop = start;
    while (stop < end && url.charCodeAt(stop) !== SLASH) stop++;
    if (stop > start && isIdSegment(url, start, stop)) {
      template += `${url.slice(copiedTo, start)}:id`;
      copiedTo = stop;
    }
    start = stop + 1;
  }
  if (copiedTo === 0) return query < 0 ? url : url.slice(0, end);
  return template + url.slice(copiedTo, end);
}

/** All digits; or 16+ hex digits; or 20+ of [0-9A-Za-z_-] (UUIDs, base64url tokens). */
function isIdSegment(text: string, start: number, stop: number): boolean {
  const length = stop - start;
  let digits = true;
  let hex = true;
  for (let i = start; i < stop; i++) {
    const c = text.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    if (isDigit) continue;
    digits = false;
    const lower = c | 0x20;
    const isLetter = lower >= 97 && lower <= 122;
    if (!(isLetter && lower <= 102)) hex = false;
    if (!isLetter && c !== 45 && c !== 95) return false; // not [0-9A-Za-z_-]: a word, never an id
    if (length < 20 && !hex) return false;
  }
  return digits || (hex && length >= 16) || length >= 20;
}
