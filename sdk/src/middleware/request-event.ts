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
const COLON = 58;
const LOWER_I = 105;
const LOWER_D = 100;

/**
 * The last `scanPath`: where the path ends (before any query) and its id segments, as [start, stop)
 * pairs in `idRanges[0 .. 2 * idCount)`. Module state rather than a returned object, so that scanning
 * allocates nothing; every caller reads it right after the scan.
 */
let scanEnd = 0;
let idCount = 0;
const idRanges: number[] = [];

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Scan a raw path for the template `routeFromPath` makes of it: the path without its query, each id
 * segment replaced by `:id`. Records the id segments and returns an FNV-1a hash of the template's
 * characters, so a known template can be found without building it.
 */
function scanPath(url: string): number {
  const query = url.indexOf('?');
  const end = query < 0 ? url.length : query;
  let hash = FNV_OFFSET;
  // Like the segments after the first '/': text before it (not a path in practice) is kept as it is.
  let start = url.indexOf('/') + 1;
  if (start === 0 || start > end) start = end;
  for (let i = 0; i < start; i++) hash = Math.imul(hash ^ url.charCodeAt(i), FNV_PRIME);
  idCount = 0;
  while (start < end) {
    let stop = start;
    while (stop < end && url.charCodeAt(stop) !== SLASH) stop++;
    if (stop > start && isIdSegment(url, start, stop)) {
      idRanges[2 * idCount] = start;
      idRanges[2 * idCount + 1] = stop;
      idCount++;
      hash = Math.imul(Math.imul(Math.imul(hash ^ COLON, FNV_PRIME) ^ LOWER_I, FNV_PRIME) ^ LOWER_D, FNV_PRIME);
    } else {
      for (let i = start; i < stop; i++) hash = Math.imul(hash ^ url.charCodeAt(i), FNV_PRIME);
    }
    if (stop < end) hash = Math.imul(hash ^ SLASH, FNV_PRIME);
    start = stop + 1;
  }
  scanEnd = end;
  return hash;
}

/** The hash `RouteTemplates` files a path's template under (exported for tests of colliding templates). */
export function routeTemplateHash(url: string): number {
  return scanPath(url);
}

/** The template of the last scanned path, built. */
function buildTemplate(url: string): string {
  if (idCount === 0) return scanEnd === url.length ? url : url.slice(0, scanEnd);
  let template = '';
  let copiedTo = 0;
  for (let k = 0; k < idCount; k++) {
    template += `${url.slice(copiedTo, idRanges[2 * k])}:id`;
    copiedTo = idRanges[2 * k + 1]!;
  }
  return template + url.slice(copiedTo, scanEnd);
}

/** Whether `template` is the template of the last scanned path, compared character by character. */
function isTemplateOf(url: string, template: string): boolean {
  let t = 0;
  let copiedTo = 0;
  for (let k = 0; k <= idCount; k++) {
    const literalEnd = k < idCount ? idRanges[2 * k]! : scanEnd;
    for (let i = copiedTo; i < literalEnd; i++, t++) if (template.charCodeAt(t) !== url.charCodeAt(i)) return false;
    if (k === idCount) break;
    if (template.charCodeAt(t) !== COLON || template.charCodeAt(t + 1) !== LOWER_I || template.charCodeAt(t + 2) !== LOWER_D) return false;
    t += 3;
    copiedTo = idRanges[2 * k + 1]!;
  }
  return t === template.length;
}

/**
 * A route template guessed from a raw path, for servers without a router: numeric, UUID, long hex and
 * long token segments become `:id` (`/users/42/orders/9f1c...` -> `/users/:id/orders/:id`). Query strings
 * are dropped. Apps with a router should pass the router's template (`setRoute` or the framework middleware).
 * A character scan rather than a regular expression per segment: it runs once per request.
 */
export function routeFromPath(url: string | undefined): string {
  if (url === undefined || url === '') return '/';
  scanPath(url);
  return buildTemplate(url);
}

/**
 * `routeFromPath` with its results interned: every request of a route gets the same template string.
 * A fresh template per request costs a build, and then a hash computation in each Map it is looked up in
 * (the request sampler's): together 2.5 % of a small server's throughput in a same-run A/B (bench/RESULTS.md). Here a
 * known template is found by the hash `scanPath` computes while scanning, verified against the path, and
 * returned without allocating. At most `maxTemplates` are kept (the first ones seen); paths of further
 * templates are built each time, as by `routeFromPath`.
 */
export class RouteTemplates {
  private readonly byHash = new Map<number, string[]>();
  private size = 0;

  constructor(private readonly maxTemplates = 2000) {}

  of(url: string | undefined): string {
    if (url === undefined || url === '') return '/';
    const hash = scanPath(url);
    const candidates = this.byHash.get(hash);
    if (candidates !== undefined) {
      for (let i = 0; i < candidates.length; i++) if (isTemplateOf(url, candidates[i]!)) return candidates[i]!;
    }
    const template = buildTemplate(url);
    if (this.size < this.maxTemplates) {
      // A flat copy: the template may be a slice of the request's URL, which must not stay alive with it.
      const own = Buffer.from(template, 'utf16le').toString('utf16le');
      if (candidates === undefined) this.byHash.set(hash, [own]);
      else candidates.push(own);
      this.size++;
      return own;
    }
    return template;
  }
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
