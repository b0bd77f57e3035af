import { HeliosError, Topics, eventRecords } from '@helios/core';
import type { GatewayRequest, GatewayResponse } from '../http/transport.js';
import { decodeOtlp, encodeOtlpResponse, type OtlpSignal } from '../otlp/index.js';
import { otlpEncoding, otlpErrorResponse, otlpResponseHeaders, unsupportedOtlpContentType } from '../otlp-http.js';
import type { IngestContext } from './ingest-context.js';

/**
 * OTLP export, over HTTP (POST /v1/logs, /v1/traces, /v1/metrics) and over gRPC (the receiver in
 * ../otlp-grpc turns each call into a request with `protocol: 'grpc'` for this same handler): 200 with
 * an Export*ServiceResponse (partial_success when some records were rejected, the rest published);
 * errors as google.rpc.Status in the request's encoding with the status the specification gives them
 * (400 bad data, 415 content type, 413 limits, 429/503 with Retry-After, which OTLP exporters retry).
 * Expected refusals are answered here, never thrown: only a fault escapes.
 */
export function createOtlpIngest(ctx: IngestContext): (request: GatewayRequest, signal: OtlpSignal) => Promise<GatewayResponse> {
  const { config, bus, now, authenticate, metrics, errors, withDecodedBody } = ctx;
  return async function ingestOtlp(request, signal) {
    const encoding = otlpEncoding(request.headers['content-type']);
    try {
      if (request.method !== 'POST') throw new HeliosError('HLS_ERR_METHOD_NOT_ALLOWED', `use POST for ${request.path}`);
      if (ctx.isStopping()) throw new HeliosError('HLS_ERR_SHUTTING_DOWN');
      const tenant = authenticate(request.headers);
      if (encoding === undefined) throw unsupportedOtlpContentType(request.headers['content-type']);
      return await withDecodedBody(request, (body) => {
        const result = decodeOtlp(signal, body, encoding, { tenant, now: now(), maxRecords: config.maxEventsPerRequest });
        if (result.rejected > 0) metrics.rejected.inc({ code: 'HLS_ERR_EVENT_INVALID' }, result.rejected);
        // Built before the bus's acknowledgement, so that nothing of the decoded request waits with it (see countWhenPublished).
        const response: GatewayResponse = { status: 200, headers: otlpResponseHeaders(encoding), body: encodeOtlpResponse(signal, result, encoding) };
        if (result.events.length === 0) return Promise.resolve(response);
        // A 2xx is a promise: answered only once the bus took every event of the request.
        return metrics.countWhenPublished(result.events, bus.publish(Topics.events, eventRecords(result.events))).then(() => response);
      });
    } catch (err) {
      if (!(err instanceof HeliosError)) throw err;
      errors.countRefusal(err);
      return otlpErrorResponse(err, encoding, errors.headersFor(err.status));
    }
  };
}
