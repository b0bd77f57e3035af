import type { Bus, HeliosConfig } from '@helios/core';
import type { RequestHeaders } from '../http/transport.js';
import type { DecodedBodyRunner } from '../ingest-body.js';
import type { GatewayMetrics } from '../ingest-metrics.js';
import type { ErrorResponder } from '../responses.js';

/** What the ingest routes (Helios JSON, OTLP over HTTP and gRPC) share, built once by the gateway. */
export interface IngestContext {
  config: Pick<HeliosConfig['gateway'], 'maxEventsPerRequest'>;
  bus: Bus;
  now: () => number;
  /** The tenant of the request's API key (throws HLS_ERR_UNAUTHORIZED). */
  authenticate(headers: RequestHeaders): string;
  metrics: GatewayMetrics;
  errors: ErrorResponder;
  withDecodedBody: DecodedBodyRunner;
  /** True once stop() began: new requests are refused with HLS_ERR_SHUTTING_DOWN. */
  isStopping(): boolean;
}
