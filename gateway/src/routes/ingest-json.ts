import { HeliosError, Topics, eventRecords, newEventId, normalizeEventBatch, parseEventsBody, type EventRequestBatch, type HeliosEvent } from '@helios/core';
import type { GatewayRequest, GatewayResponse } from '../http/transport.js';
import { jsonBodyKind } from '../ingest-body.js';
import { acceptedBody, JSON_HEADERS } from '../responses.js';
import type { IngestContext } from './ingest-context.js';

export const HELIOS_JSON_PATH = '/api/v1/events';

/**
 * POST /api/v1/events, Helios JSON (one event, an array, or NDJSON): 202 with the ids once the bus
 * took every event. The returned function is not async: it may throw synchronously (method, auth,
 * content type), and with a synchronous bus and an identity body it answers without any promise. Its
 * only caller (the gateway's handler) handles both.
 */
export function createJsonIngest(ctx: IngestContext): (request: GatewayRequest) => GatewayResponse | Promise<GatewayResponse> {
  const { config, bus, now, authenticate, metrics, withDecodedBody } = ctx;

  /**
   * A bus that takes records synchronously (the in-process one) lets an identity-encoded Helios JSON
   * request complete within the transport's callback: the 2xx is still built only after publishSync
   * returned, i.e. after the bus took every event, exactly as after an awaited publish.
   */
  const publishSync = bus.publishSync?.bind(bus);
  /** The same, for a bus that takes the request's bytes (a gateway thread's: publishEventsSync reads a borrowed body before returning). */
  const publishEventsSync = bus.publishEventsSync?.bind(bus);

  /**
   * A 2xx is a promise: the caller answers only once this settles, i.e. the bus has taken every event
   * of the request. With the request's bytes for a bus that forwards those instead of writing the
   * events again (Kafka).
   */
  function publishRequest(batch: EventRequestBatch): Promise<void> {
    return bus.publishEvents === undefined ? bus.publish(Topics.events, eventRecords(batch.events)) : bus.publishEvents(Topics.events, batch);
  }

  function accepted(events: readonly HeliosEvent[]): GatewayResponse {
    return { status: 202, headers: JSON_HEADERS, body: acceptedBody(events) };
  }

  return function ingestHeliosJson(request) {
    if (request.method !== 'POST') throw new HeliosError('HLS_ERR_METHOD_NOT_ALLOWED', 'use POST (ingest) or GET (search) for /api/v1/events');
    if (ctx.isStopping()) throw new HeliosError('HLS_ERR_SHUTTING_DOWN');
    const tenant = authenticate(request.headers);
    const kind = jsonBodyKind(request.headers['content-type']);
    if (kind === undefined) throw new HeliosError('HLS_ERR_UNSUPPORTED_MEDIA_TYPE', `content-type "${request.headers['content-type']}" is not supported here; use application/json or application/x-ndjson`);
    if (publishEventsSync !== undefined && request.headers['content-encoding'] === '') {
      // A gateway thread: the request's bytes go to the pipeline thread, which reads them into the same events.
      const values = parseEventsBody(request.body, kind, config.maxEventsPerRequest);
      const receivedAt = now();
      const idBase = newEventId();
      const events = normalizeEventBatch(values, { tenant, now: receivedAt, idBase });
      publishEventsSync(Topics.events, { events, body: request.body, kind, tenant, receivedAt, idBase });
      metrics.countIngested(events);
      return accepted(events);
    }
    if (publishSync !== undefined && request.headers['content-encoding'] === '') {
      const values = parseEventsBody(request.body, kind, config.maxEventsPerRequest);
      const events = normalizeEventBatch(values, { tenant, now: now() });
      publishSync(Topics.events, eventRecords(events));
      metrics.countIngested(events);
      return accepted(events);
    }
    return withDecodedBody(request, (body) => {
      const values = parseEventsBody(body, kind, config.maxEventsPerRequest);
      const receivedAt = now();
      const idBase = newEventId();
      const events = normalizeEventBatch(values, { tenant, now: receivedAt, idBase });
      const response = accepted(events);
      // A borrowed body is only valid during the transport's callback; the bus may hold it longer.
      const owned = body === request.body && request.bodyBorrowed === true ? Buffer.from(body) : body;
      return metrics.countWhenPublished(events, publishRequest({ events, body: owned, kind, tenant, receivedAt, idBase })).then(() => response);
    });
  };
}
