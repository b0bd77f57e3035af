import type { Bus, Registry } from '@helios/core';
import type { GatewayRequest, GatewayResponse, RequestHeaders } from '../http/transport.js';
import { json } from '../responses.js';

/** GET /healthz, /readyz and /metrics: the operational routes, outside the read API and its OpenAPI document. */
export interface HealthRoutes {
  /** Liveness: the process answers. */
  healthz(): GatewayResponse;
  /** Readiness: 503 with the reason while stopping, while the bus refuses, or while the extra condition (notReadyReason) fails. */
  readyz(): GatewayResponse;
  /** Prometheus exposition, behind the metrics key when configured (throws HLS_ERR_UNAUTHORIZED). */
  metrics(request: GatewayRequest): Promise<GatewayResponse>;
}

export function createHealthRoutes(options: {
  bus: Bus;
  registry: Registry;
  /** What /metrics serves instead of `registry.metrics()` (a gateway thread: every thread's metrics merged with the pipeline thread's). */
  scrapeMetrics?: (() => Promise<string>) | undefined;
  retryAfterSeconds: number;
  isStopping(): boolean;
  /** Extra readiness condition with its reason (e.g. another gateway thread's bus), undefined when met. */
  notReadyReason?: () => string | undefined;
  /** Undefined: /metrics is open. */
  authenticateMetrics: ((headers: Pick<RequestHeaders, 'authorization'>) => void) | undefined;
}): HealthRoutes {
  const { bus, registry, authenticateMetrics } = options;
  const notReadyHeaders: Readonly<Record<string, string>> = Object.freeze({ 'retry-after': String(options.retryAfterSeconds) });

  /** Why the gateway would refuse events now, or undefined when it accepts them. */
  function notReadyReason(): string | undefined {
    if (options.isStopping()) return 'shutting down';
    if (!bus.isReady()) return `bus: ${bus.notReadyReason?.() ?? 'not ready'}`;
    return options.notReadyReason?.();
  }

  return {
    healthz: () => json(200, { status: 'ok' }),
    readyz() {
      const reason = notReadyReason();
      return reason === undefined ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reason, bus: bus.isReady() }, notReadyHeaders);
    },
    async metrics(request) {
      authenticateMetrics?.(request.headers);
      return { status: 200, headers: { 'content-type': registry.contentType }, body: await (options.scrapeMetrics ?? (() => registry.metrics()))() };
    },
  };
}
