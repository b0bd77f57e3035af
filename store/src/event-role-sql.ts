/**
 * core/src/event/role.ts's `eventRole` and `peerOf` in SQL over helios_events' columns, so the store counts
 * what the windows count (a test checks the two agree on generated events). Immutable expressions: they may
 * appear in a TimescaleDB continuous aggregate.
 */
export const EVENT_ROLE_SQL = `(CASE
  WHEN kind = 'metric' THEN 'metric'
  WHEN kind = 'log' THEN 'log'
  WHEN attributes->>'span.kind' IN ('server', 'consumer') AND jsonb_typeof(attributes->'span.kind') = 'string' THEN 'request'
  WHEN attributes->>'span.kind' IN ('client', 'producer') AND jsonb_typeof(attributes->'span.kind') = 'string' THEN 'dependency'
  WHEN attributes->>'span.kind' = 'internal' AND jsonb_typeof(attributes->'span.kind') = 'string' THEN 'internal'
  WHEN kind = 'event' THEN 'request'
  WHEN attributes ? 'parent_span_id' THEN 'internal'
  ELSE 'request' END)`;

export const REQUEST_PREDICATE = `${EVENT_ROLE_SQL} = 'request'`;
export const DEPENDENCY_PREDICATE = `${EVENT_ROLE_SQL} = 'dependency'`;
/** What the per-minute rollups count: requests and log records (not dependency calls, internal spans or metric points). */
export const ROLLUP_PREDICATE = `${EVENT_ROLE_SQL} IN ('request', 'log')`;

const textAttribute = (key: string): string => `CASE WHEN jsonb_typeof(attributes->'${key}') = 'string' THEN NULLIF(attributes->>'${key}', '') END`;
export const PEER_SQL = `COALESCE(${textAttribute('peer.name')}, ${textAttribute('peer.service')}, ${textAttribute('server.address')}, 'unknown')`;
export const PEER_TYPE_SQL = `COALESCE(${textAttribute('peer.type')}, 'other')`;
