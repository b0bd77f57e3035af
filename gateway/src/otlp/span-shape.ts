import type { AttributeValue } from '@helios/core';

/**
 * What the gateway reads from auto-instrumented spans beyond their fields (see ./README.md, "Spans, requests
 * and dependencies"): the peer a client/producer span called, its endpoint, templated paths, a short stack.
 */

type Attributes = Record<string, AttributeValue>;

const text = (a: Attributes, key: string): string | null => {
  const v = a[key];
  return typeof v === 'string' && v !== '' ? v : null;
};

export type PeerType = 'http' | 'db' | 'messaging' | 'rpc' | 'other';

/**
 * The peer of a client/producer span, by the semantic conventions: `peer.service` when the instrumentation
 * names it; a database as `db.system` + `db.namespace` (`db.name` before 1.26); a broker as
 * `messaging.system` + destination; else the host called (`server.address`, `net.peer.name`, the host of
 * `url.full`/`http.url`), or the RPC service. `unknown` when nothing says.
 */
export function peerOfSpan(a: Attributes): { name: string; type: PeerType } {
  const type: PeerType = text(a, 'db.system') !== null || text(a, 'db.system.name') !== null ? 'db'
    : text(a, 'messaging.system') !== null ? 'messaging'
    : text(a, 'rpc.system') !== null ? 'rpc'
    : text(a, 'http.request.method') !== null || text(a, 'http.method') !== null || text(a, 'url.full') !== null || text(a, 'http.url') !== null ? 'http'
    : 'other';
  const named = text(a, 'peer.service');
  if (named !== null) return { name: named, type };
  if (type === 'db') {
    const system = text(a, 'db.system') ?? text(a, 'db.system.name')!;
    const namespace = text(a, 'db.namespace') ?? text(a, 'db.name');
    return { name: namespace === null ? system : `${system} ${namespace}`, type };
  }
  if (type === 'messaging') {
    const destination = text(a, 'messaging.destination.name') ?? text(a, 'messaging.destination');
    return { name: destination === null ? text(a, 'messaging.system')! : `${text(a, 'messaging.system')} ${destination}`, type };
  }
  const host = text(a, 'server.address') ?? text(a, 'net.peer.name') ?? hostOf(text(a, 'url.full') ?? text(a, 'http.url')) ?? text(a, 'rpc.service');
  return { name: host ?? 'unknown', type };
}

function hostOf(url: string | null): string | null {
  if (url === null) return null;
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]+)/i.exec(url);
  return match === null ? null : match[1]!;
}

function pathOf(url: string | null): string | null {
  if (url === null) return null;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url);
  return match === null ? null : match[1] ?? '/';
}

/**
 * A dependency call's endpoint: the peer and what was asked of it, `inventory GET /api/items/:id`,
 * `postgresql orders SELECT orders`, `kafka payments publish`; the span name when the attributes say nothing.
 */
export function dependencyEndpoint(peer: string, a: Attributes, spanName: string): string {
  const method = text(a, 'http.request.method') ?? text(a, 'http.method');
  const route = text(a, 'http.route');
  const path = route ?? (() => {
    const raw = text(a, 'url.path') ?? pathOf(text(a, 'url.full') ?? text(a, 'http.url')) ?? text(a, 'http.target');
    return raw === null ? null : templatePath(raw);
  })();
  let operation: string | null = null;
  if (method !== null || path !== null) operation = [method, path].filter((x) => x !== null).join(' ');
  else {
    const dbOperation = text(a, 'db.operation.name') ?? text(a, 'db.operation');
    const collection = text(a, 'db.collection.name') ?? text(a, 'db.sql.table');
    const messaging = text(a, 'messaging.operation.name') ?? text(a, 'messaging.operation.type') ?? text(a, 'messaging.operation');
    const rpc = text(a, 'rpc.method');
    if (dbOperation !== null) operation = collection === null ? dbOperation : `${dbOperation} ${collection}`;
    else if (messaging !== null) operation = messaging;
    else if (rpc !== null) operation = [text(a, 'rpc.service'), rpc].filter((x) => x !== null).join('/');
    else operation = spanName === '' ? null : spanName;
  }
  const endpoint = operation === null ? peer : `${peer} ${operation}`;
  return endpoint.length > 1024 ? endpoint.slice(0, 1024) : endpoint;
}

const DIGITS = /^\d+$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HEX = /^(?=.*\d)[0-9a-f]{8,}$/i;
/** A long token: 20+ URL-safe characters with a digit (base64 ids, hashes, session tokens). */
const TOKEN = /^(?=.*\d)[A-Za-z0-9_~.=-]{20,}$/;

/**
 * A raw path as an endpoint template: query and fragment cut, and every segment that is an id (numbers,
 * UUIDs, hex of 8+ digits, long tokens) replaced by `:id`, so `/api/items/123` and `/api/items/456` are
 * one endpoint `/api/items/:id`.
 */
export function templatePath(raw: string): string {
  let end = raw.length;
  const q = raw.indexOf('?'), h = raw.indexOf('#');
  if (q >= 0) end = q;
  if (h >= 0 && h < end) end = h;
  const path = raw.slice(0, end);
  return path.split('/').map((segment) => (segment !== '' && (DIGITS.test(segment) || UUID.test(segment) || HEX.test(segment) || TOKEN.test(segment)) ? ':id' : segment)).join('/');
}

const STACK_LINES = 8;

/** `exception.stacktrace` to its first lines: the throw site and its callers, not a page of framework frames. */
export function trimStacktrace(a: Attributes): void {
  const stack = a['exception.stacktrace'];
  if (typeof stack !== 'string') return;
  let at = -1;
  for (let i = 0; i < STACK_LINES; i++) {
    at = stack.indexOf('\n', at + 1);
    if (at < 0) return;
  }
  a['exception.stacktrace'] = stack.slice(0, at);
}
