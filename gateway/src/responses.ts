import { HeliosError, type HeliosEvent, type Logger } from '@helios/core';
import type { GatewayResponse } from './http/transport.js';
import type { GatewayMetrics } from './ingest-metrics.js';

/** Frozen: transports may encode a shared header object once (see the uWS transport). */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

export function json(status: number, body: unknown, headers?: Readonly<Record<string, string>>): GatewayResponse {
  return { status, headers: headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** `{"accepted":n,"ids":[...]}` built directly: ids are UUIDs (nothing to escape), and this runs per request. */
export function acceptedBody(events: readonly HeliosEvent[]): string {
  if (events.length === 1) return `{"accepted":1,"ids":["${events[0]!.id}"]}`;
  let ids = '';
  for (let i = 0; i < events.length; i++) ids += i === 0 ? `"${events[i]!.id}"` : `,"${events[i]!.id}"`;
  return `{"accepted":${events.length},"ids":[${ids}]}`;
}

/**
 * Most problems listed in an error body. Validation can report one per field, and a hostile body can
 * carry 100,000 unknown keys: the answer must not grow with it. The message still says how many.
 */
const MAX_ERROR_DETAILS = 100;

function errorBody(err: HeliosError): ReturnType<HeliosError['toJSON']> {
  const body = err.toJSON();
  return err.details.length > MAX_ERROR_DETAILS ? { ...body, details: err.details.slice(0, MAX_ERROR_DETAILS) } : body;
}

/** Refusals that say the gateway had no capacity (not that the input was bad): telemetry of that moment may be missing. */
const CAPACITY_CODES: ReadonlySet<string> = new Set(['HLS_ERR_BUS_FULL', 'HLS_ERR_BUS_CLOSED', 'HLS_ERR_OVERLOADED']);

export interface ErrorResponder {
  /** Headers an error status asks for: Retry-After on the retryable 429/503 (OTLP and Helios JSON alike), WWW-Authenticate on 401. */
  headersFor(status: number): Readonly<Record<string, string>> | undefined;
  /** Count a refusal in helios_events_rejected_total and report capacity refusals. */
  countRefusal(err: HeliosError): void;
  /** A Helios JSON error response; anything but a HeliosError is logged and becomes 500. */
  response(err: unknown): GatewayResponse;
  /** `response` that cannot throw: a request's accounting must always run after it. */
  failure(err: unknown): GatewayResponse;
}

export function createErrorResponder(options: { logger: Logger; metrics: Pick<GatewayMetrics, 'rejected'>; retryAfterSeconds: number; now: () => number; onCapacityRefusal?: (at: number, code: string) => void }): ErrorResponder {
  const { logger, metrics, now } = options;
  const retryAfterHeaders: Readonly<Record<string, string>> = Object.freeze({ 'retry-after': String(options.retryAfterSeconds) });
  const unauthorizedHeaders: Readonly<Record<string, string>> = Object.freeze({ 'www-authenticate': 'Bearer' });

  function headersFor(status: number): Readonly<Record<string, string>> | undefined {
    if (status === 429 || status === 503) return retryAfterHeaders;
    if (status === 401) return unauthorizedHeaders;
    return undefined;
  }

  function countRefusal(err: HeliosError): void {
    metrics.rejected.inc({ code: err.code });
    if (CAPACITY_CODES.has(err.code)) options.onCapacityRefusal?.(now(), err.code);
  }

  function response(err: unknown): GatewayResponse {
    if (err instanceof HeliosError) {
      countRefusal(err);
      return json(err.status, { error: errorBody(err) }, headersFor(err.status));
    }
    logger.error({ err }, 'unexpected error handling a request');
    metrics.rejected.inc({ code: 'HLS_ERR_INTERNAL' });
    return json(500, { error: { code: 'HLS_ERR_INTERNAL', message: 'internal error' } });
  }

  return {
    headersFor,
    countRefusal,
    response,
    failure(err) {
      try {
        return response(err);
      } catch {
        return { status: 500, headers: JSON_HEADERS, body: '{"error":{"code":"HLS_ERR_INTERNAL","message":"internal error"}}' };
      }
    },
  };
}
