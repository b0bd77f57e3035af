import { HeliosError } from '../errors.js';

/** How a Helios JSON body holds its events: `json` (one event or an array of events) or `ndjson` (one event per line). */
export type EventsBodyKind = 'json' | 'ndjson';

/**
 * The event values of a Helios JSON body, in body order: one event, an array of events, or NDJSON (blank
 * lines skipped). The gateway reads requests with it, and Kafka consumers read the request bytes the gateway
 * forwarded (bus/kafka-event-batch.ts) with it again, so both sides see the same events in the same order.
 */
export function parseEventsBody(body: Buffer, kind: EventsBodyKind, maxEvents: number): unknown[] {
  if (body.length === 0) throw new HeliosError('HLS_ERR_BODY_EMPTY', 'request body is empty; send an event, an array of events, or NDJSON');
  const text = body.toString('utf8');
  if (kind === 'ndjson') {
    const values: unknown[] = [];
    let line = 0;
    for (const raw of text.split('\n')) {
      line++;
      if (raw.trim() === '') continue;
      if (values.length >= maxEvents) throw new HeliosError('HLS_ERR_TOO_MANY_EVENTS', `more than ${maxEvents} events in one request`);
      try {
        values.push(JSON.parse(raw));
      } catch (err) {
        throw new HeliosError('HLS_ERR_BODY_MALFORMED', `line ${line}: invalid JSON: ${(err as Error).message}`);
      }
    }
    if (values.length === 0) throw new HeliosError('HLS_ERR_BODY_EMPTY', 'request body has no events');
    return values;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new HeliosError('HLS_ERR_BODY_MALFORMED', `invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) return [parsed];
  if (parsed.length === 0) throw new HeliosError('HLS_ERR_BODY_EMPTY', 'the array has no events');
  if (parsed.length > maxEvents) throw new HeliosError('HLS_ERR_TOO_MANY_EVENTS', `${parsed.length} events in one request; the limit is ${maxEvents}`);
  return parsed;
}
