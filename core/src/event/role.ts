import type { HeliosEvent } from './schema.js';

/**
 * What an event stands for when Helios counts: a request the service served, a call it made to a
 * dependency, internal work, a log record, or a metric data point. Only requests are a service's
 * requests (windows, report context, rollups); calls to dependencies form dependency series per peer,
 * log records a log series, internal spans are stored but not counted, metric points form metric series.
 *
 * Derived from the event alone (no extra field, so the store needs no column; store/src/event-role-sql.ts
 * is the same rule in SQL):
 * - kind `metric` and `log` are what they say;
 * - otherwise the `span.kind` attribute (OTLP span kind, lower case, as the gateway writes it): `server`
 *   and `consumer` are requests, `client` and `producer` dependency calls, `internal` internal work;
 * - without it, an `event` (Helios JSON) is a request, and a `span` is a request when it is a root span
 *   (no `parent_span_id`: a client that sends only its entry spans without a kind) and internal otherwise.
 */
export type EventRole = 'request' | 'dependency' | 'internal' | 'log' | 'metric';

export const SPAN_KIND_ATTRIBUTE = 'span.kind';
export const PARENT_SPAN_ATTRIBUTE = 'parent_span_id';
/** The peer a dependency call went to (`inventory`, `postgresql orders`), stamped by the gateway for client/producer spans. */
export const PEER_ATTRIBUTE = 'peer.name';
/** What kind of peer: `http`, `db`, `messaging`, `rpc` or `other`. */
export const PEER_TYPE_ATTRIBUTE = 'peer.type';

export function eventRole(event: Pick<HeliosEvent, 'kind' | 'attributes'>): EventRole {
  if (event.kind === 'metric') return 'metric';
  if (event.kind === 'log') return 'log';
  const spanKind = event.attributes[SPAN_KIND_ATTRIBUTE];
  if (spanKind === 'server' || spanKind === 'consumer') return 'request';
  if (spanKind === 'client' || spanKind === 'producer') return 'dependency';
  if (spanKind === 'internal') return 'internal';
  if (event.kind === 'event') return 'request';
  return event.attributes[PARENT_SPAN_ATTRIBUTE] !== undefined ? 'internal' : 'request';
}

/** The peer of a dependency call: the first non-empty text of the gateway's `peer.name`, `peer.service`, `server.address`; else `unknown`. */
export function peerOf(event: Pick<HeliosEvent, 'attributes'>): string {
  for (const key of [PEER_ATTRIBUTE, 'peer.service', 'server.address']) {
    const named = event.attributes[key];
    if (typeof named === 'string' && named !== '') return named;
  }
  return 'unknown';
}
