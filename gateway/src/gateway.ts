import { performance } from 'node:perf_hooks';
import { HeliosError, defaultConfig, type Bus, type HeliosConfig, type Logger, type RedactionOptions, type Registry } from '@helios/core';
import { createAuthenticator, createKeyIdentifier, createMetricsAuthenticator } from './auth.js';
import { createBodyBudget, type BodyBudget } from './body-budget.js';
import type { GatewayRequest, GatewayResponse } from './http/transport.js';
import { createBodyDecoder } from './ingest-body.js';
import { createGatewayMetrics, type RouteStats } from './ingest-metrics.js';
import { createGatewayLifecycle } from './lifecycle.js';
import { OTLP_PATHS } from './otlp-http.js';
import { OTLP_GRPC_ROUTES } from './otlp-grpc/index.js';
import { createErrorResponder } from './responses.js';
import { createConsoleRoutes } from './routes/console.js';
import { createHealthRoutes } from './routes/health.js';
import type { IngestContext } from './routes/ingest-context.js';
import { createJsonIngest, HELIOS_JSON_PATH } from './routes/ingest-json.js';
import { createOtlpIngest } from './routes/ingest-otlp.js';
import type { IncidentApiStore } from './routes/incidents-api.js';
import { createReadApi } from './routes/read-api.js';

export interface GatewayOptions {
  config: HeliosConfig['gateway'];
  bus: Bus;
  /** Serves the anomalies/reports/incidents/silences API when given; changing incidents and silences needs its writes. */
  store?: IncidentApiStore;
  logger: Logger;
  metrics: Registry;
  /** /metrics access and service-label cardinality (the `metrics` config section); defaults when absent. */
  metricsConfig?: HeliosConfig['metrics'];
  /** Extra readiness condition (e.g. the store is reachable). */
  isReady?: () => boolean;
  now?: () => number;
  /**
   * Called when events are refused for capacity (bus full or unavailable, body budget spent): telemetry
   * of that moment may be missing, so detection can treat the span as a gap rather than a traffic drop.
   */
  onCapacityRefusal?: (at: number, code: string) => void;
  /**
   * Config `redaction`. Reports are redacted before they are stored; the reports API passes them through the
   * same stage again on the way out, so a report stored before redaction existed (or under other rules)
   * still leaves without secrets. Per response, not per event.
   */
  redaction?: RedactionOptions;
  /**
   * What /metrics serves; default `metrics.metrics()`. A gateway thread serves the process's metrics:
   * every gateway thread's merged with the pipeline thread's.
   */
  scrapeMetrics?: () => Promise<string>;
  /** The web console's package folder (default: @helios/console found next to the gateway; null: serve none). */
  console?: { root?: string | null };
}

export interface Gateway {
  readonly transport: 'uws' | 'node';
  /** Bound ports: the main one, the OTLP/HTTP default port and the OTLP/gRPC port when enabled. */
  start(): Promise<{ port: number; otlpPort: number | undefined; otlpGrpcPort: number | undefined }>;
  /** Stop accepting, finish requests in flight (their events reach the bus), close. Idempotent. */
  stop(): Promise<void>;
  /** The request handler, transport-free (used by tests and benchmarks). */
  handle(request: GatewayRequest): Promise<GatewayResponse>;
  /** Memory held by request bodies in flight, against gateway.maxInFlightBodyBytes (also helios_gateway_inflight_body_bytes). */
  readonly bodyBudget: Pick<BodyBudget, 'limit' | 'inUse' | 'peak'>;
}

/** Paths that take POST: Helios JSON and OTLP. */
const INGEST_PATHS: readonly string[] = [HELIOS_JSON_PATH, ...OTLP_PATHS.keys()];

/** Routes whose time goes into helios_ingestion_latency_seconds (route label: events, logs, traces, metrics, and grpc_<signal> for OTLP/gRPC). */
const INGEST_ROUTES: ReadonlySet<string> = new Set(['events', 'logs', 'traces', 'metrics', ...Object.values(OTLP_GRPC_ROUTES)]);

/**
 * The gateway is a composition: ingest routes (routes/ingest-json.ts, routes/ingest-otlp.ts), the read
 * API (routes/read-api.ts), health and metrics (routes/health.ts), metrics of its own
 * (ingest-metrics.ts), the body budget and the listeners (lifecycle.ts). What stays here is the one
 * request handler every transport calls: routing and the accounting every request ends with.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, bus, store, logger } = options;
  const now = options.now ?? Date.now;
  const authenticate = createAuthenticator(config.auth);
  const metricsConfig = options.metricsConfig ?? defaultConfig().metrics;
  const authenticateMetrics = createMetricsAuthenticator(metricsConfig, config.auth.enabled);
  if (authenticateMetrics !== undefined && metricsConfig.keys.length === 0) logger.warn('/metrics requires a key (metrics.auth) but metrics.keys is empty: every scrape gets 401');
  const bodyBudget = createBodyBudget(config.maxInFlightBodyBytes);
  const metrics = createGatewayMetrics({ registry: options.metrics, metricsConfig, now, bodyBudget, ingestRoutes: INGEST_ROUTES });
  const errors = createErrorResponder({ logger, metrics, retryAfterSeconds: config.retryAfterSeconds, now, onCapacityRefusal: options.onCapacityRefusal });
  const readApi = createReadApi({ store, bus, identify: createKeyIdentifier(config.auth), config: config.readApi, authEnabled: config.auth.enabled, authenticate, now, logger, metrics: options.metrics, redaction: options.redaction });
  const lifecycle = createGatewayLifecycle({
    config, logger, handler: handleRequest, bodyBudget, postPaths: INGEST_PATHS, errorResponse: errors.response,
    readsCredentials: config.auth.enabled || authenticateMetrics !== undefined,
    beforeDrain: () => readApi.close(), // live tails end with a final event instead of being cut
  });
  const requests = lifecycle.requests;
  const isStopping = (): boolean => requests.stopping;
  const consoleRoutes = createConsoleRoutes(options.console);
  const health = createHealthRoutes({ bus, registry: options.metrics, retryAfterSeconds: config.retryAfterSeconds, isStopping, isReady: options.isReady, authenticateMetrics, scrapeMetrics: options.scrapeMetrics });
  const ingest: IngestContext = { config, bus, now, authenticate, metrics, errors, isStopping, withDecodedBody: createBodyDecoder(bodyBudget, config.maxInflatedBytes) };
  const ingestHeliosJson = createJsonIngest(ingest);
  const ingestOtlp = createOtlpIngest(ingest);
  const eventsStats = metrics.statsOf('events');
  const unknownStats = metrics.statsOf('unknown');

  /** Every route but Helios JSON ingestion: [route label, response]. */
  async function route(request: GatewayRequest): Promise<[string, GatewayResponse]> {
    const { method, path } = request;
    const signal = OTLP_PATHS.get(path);
    if (signal !== undefined) return [request.protocol === 'grpc' ? OTLP_GRPC_ROUTES[signal] : signal, await ingestOtlp(request, signal)];
    if (method === 'GET' || method === 'HEAD') {
      switch (path) {
        case '/healthz':
          return ['healthz', health.healthz()];
        case '/readyz':
          return ['readyz', health.readyz()];
        case '/metrics':
          return ['metrics', await health.metrics(request)];
      }
      const consoleFile = consoleRoutes.serve(path, request.headers['accept-encoding'] ?? '');
      if (consoleFile !== undefined) return ['console', consoleFile];
    }
    const served = await readApi.serve(request);
    if (served !== undefined) return served;
    throw new HeliosError('HLS_ERR_NOT_FOUND', `no route ${method} ${path}`);
  }

  /** The end of every request: in-flight count, latency and request metrics. */
  function finish(started: number, stats: RouteStats, response: GatewayResponse): GatewayResponse {
    requests.ended();
    metrics.recordRequest(stats, response.status, (performance.now() - started) / 1000);
    return response;
  }

  /**
   * The handler the transports call: a plain response when the request completed synchronously (Helios
   * JSON on a synchronous bus, errors found before any await), else a promise. Transports send a plain
   * response from the callback that delivered the body, as a bare uWS server does.
   */
  function handleRequest(request: GatewayRequest): GatewayResponse | Promise<GatewayResponse> {
    const started = performance.now();
    requests.count++;
    try {
      // Helios JSON, the hot path, is routed here: one promise layer less than through route().
      if (request.path === HELIOS_JSON_PATH && request.method !== 'GET' && request.method !== 'HEAD') {
        const response = ingestHeliosJson(request);
        if (!(response instanceof Promise)) return finish(started, eventsStats, response);
        return response.then(
          (r) => finish(started, eventsStats, r),
          (err: unknown) => finish(started, unknownStats, errors.failure(err)),
        );
      }
      // Only the Helios JSON path above reads a borrowed body in time; every other route gets its own copy.
      return route(request.bodyBorrowed === true ? { ...request, body: Buffer.from(request.body), bodyBorrowed: false } : request).then(
        ([routeName, r]) => finish(started, metrics.statsOf(routeName), r),
        (err: unknown) => finish(started, unknownStats, errors.failure(err)),
      );
    } catch (err) {
      return finish(started, unknownStats, errors.failure(err));
    }
  }

  return {
    get transport() {
      return lifecycle.transport;
    },
    handle(request) {
      const response = handleRequest(request);
      return response instanceof Promise ? response : Promise.resolve(response);
    },
    bodyBudget,
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
  };
}
