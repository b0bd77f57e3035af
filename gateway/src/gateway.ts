import { Counter, Gauge, type Histogram } from 'prom-client';
import { performance } from 'node:perf_hooks';
import { deferredCounter, type CounterSeries } from './deferred-counter.js';
import { HeliosError, Topics, createRedactor, defaultConfig, serviceLabelGuard, eventRecords, newEventId, normalizeEventBatch, parseEventsBody, type EventRequestBatch, type Bus, type HeliosConfig, type HeliosEvent, type Level, type Logger, type RedactionOptions, type Registry } from '@helios/core';
import type { StoreReader } from '@helios/store';
import { createAuthenticator, createMetricsAuthenticator } from './auth.js';
import { createBodyBudget, type BodyBudget } from './body-budget.js';
import { decodeContentEncoding, jsonBodyKind } from './ingest-body.js';
import { createNodeTransport } from './http/node-transport.js';
import type { GatewayRequest, GatewayResponse, HttpTransport, TransportOptions } from './http/transport.js';
import { createUwsTransport, loadUws } from './http/uws-transport.js';
import { decodeOtlp, encodeOtlpResponse, type OtlpSignal } from './otlp/index.js';
import { matchPath, type ApiRoute } from './routes/api-route.js';
import { createConsoleRoutes } from './routes/console.js';
import { createEventsApi, type ReadApiContext } from './routes/events-api.js';
import { openApiDocument, openApiRoute } from './routes/openapi.js';
import { createReportsApi } from './routes/reports-api.js';
import { createServicesApi } from './routes/services-api.js';
import { OTLP_PATHS, otlpEncoding, otlpErrorResponse, otlpResponseHeaders, unsupportedOtlpContentType } from './otlp-http.js';
import { createOtlpGrpcTransport, OTLP_GRPC_ROUTES } from './otlp-grpc/index.js';

export interface GatewayOptions {
  config: HeliosConfig['gateway'];
  bus: Bus;
  /** Serves the anomalies/reports API when given. */
  store?: StoreReader;
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
const INGEST_PATHS: readonly string[] = ['/api/v1/events', ...OTLP_PATHS.keys()];

/** Routes whose time goes into helios_ingestion_latency_seconds (route label: events, logs, traces, metrics, and grpc_<signal> for OTLP/gRPC). */
const INGEST_ROUTES: ReadonlySet<string> = new Set(['events', 'logs', 'traces', 'metrics', ...Object.values(OTLP_GRPC_ROUTES)]);

/**
 * Most problems listed in an error body. Validation can report one per field, and a hostile body can
 * carry 100,000 unknown keys: the answer must not grow with it. The message still says how many.
 */
const MAX_ERROR_DETAILS = 100;

function errorBody(err: HeliosError): ReturnType<HeliosError['toJSON']> {
  const body = err.toJSON();
  return err.details.length > MAX_ERROR_DETAILS ? { ...body, details: err.details.slice(0, MAX_ERROR_DETAILS) } : body;
}

/** Frozen: transports may encode a shared header object once (see the uWS transport). */
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

function json(status: number, body: unknown, headers?: Readonly<Record<string, string>>): GatewayResponse {
  return { status, headers: headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** `{"accepted":n,"ids":[...]}` built directly: ids are UUIDs (nothing to escape), and this runs per request. */
function acceptedBody(events: readonly HeliosEvent[]): string {
  if (events.length === 1) return `{"accepted":1,"ids":["${events[0]!.id}"]}`;
  let ids = '';
  for (let i = 0; i < events.length; i++) ids += i === 0 ? `"${events[i]!.id}"` : `,"${events[i]!.id}"`;
  return `{"accepted":${events.length},"ids":[${ids}]}`;
}

/**
 * helios_ingestion_latency_seconds with per-route bucket counts kept as plain numbers: prom-client's
 * Histogram hashes and validates the label set on every observe (~0.24 µs, a tenth of a single-event
 * request). The registry reads this object like a prom-client Histogram (same name, type, series and
 * label order), so /metrics output is unchanged.
 */
interface LatencySeries {
  /** Non-cumulative counts per bucket; the last slot counts values above the largest bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

function deferredLatencyHistogram(config: { name: string; help: string; routes: Iterable<string>; buckets: readonly number[]; registers: Registry[] }): { series(route: string): LatencySeries | undefined } {
  const { name, help, buckets } = config;
  const byRoute = new Map<string, LatencySeries>();
  for (const route of config.routes) byRoute.set(route, { counts: new Float64Array(buckets.length + 1), sum: 0, count: 0 });
  const values = (splay: boolean) => {
    const out: { labels: Record<string, string | number>; sharedLabels?: Record<string, string>; value: number; metricName: string }[] = [];
    for (const [route, s] of byRoute) {
      if (s.count === 0) continue; // prom-client shows a labelled series only once observed
      const value = (labels: Record<string, string | number>, v: number, metricName: string) =>
        out.push(splay ? { labels: { ...labels, route }, value: v, metricName } : { labels, sharedLabels: { route }, value: v, metricName });
      let cumulative = 0;
      for (let i = 0; i < buckets.length; i++) value({ le: buckets[i]! }, (cumulative += s.counts[i]!), `${name}_bucket`);
      value({ le: '+Inf' }, s.count, `${name}_bucket`);
      value({}, s.sum, `${name}_sum`);
      value({}, s.count, `${name}_count`);
    }
    return out;
  };
  const metric = {
    name, help, type: 'histogram', aggregator: 'sum',
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values(true) }),
    getForPromString: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values(false) }),
    reset() {
      for (const s of byRoute.values()) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    },
  };
  // Not a prom-client class instance, but it has everything the registry calls (get, getForPromString, reset).
  for (const registry of config.registers) registry.registerMetric(metric as unknown as Histogram);
  return { series: (route) => byRoute.get(route) };
}

function observeLatency(series: LatencySeries, buckets: readonly number[], seconds: number): void {
  let i = 0;
  while (i < buckets.length && seconds > buckets[i]!) i++;
  series.counts[i]!++;
  series.sum += seconds;
  series.count++;
}

const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createGateway(options: GatewayOptions): Gateway {
  const { config, bus, store, logger } = options;
  const now = options.now ?? Date.now;
  const authenticate = createAuthenticator(config.auth);
  const reportRedactor = createRedactor(options.redaction);
  const retryAfter = String(config.retryAfterSeconds);
  const retryAfterHeaders: Readonly<Record<string, string>> = Object.freeze({ 'retry-after': retryAfter });
  const unauthorizedHeaders: Readonly<Record<string, string>> = Object.freeze({ 'www-authenticate': 'Bearer' });
  const metricsConfig = options.metricsConfig ?? defaultConfig().metrics;
  const authenticateMetrics = createMetricsAuthenticator(metricsConfig, config.auth.enabled);
  if (authenticateMetrics !== undefined && metricsConfig.keys.length === 0) logger.warn('/metrics requires a key (metrics.auth) but metrics.keys is empty: every scrape gets 401');
  const serviceLabels = serviceLabelGuard({ registry: options.metrics, maxServicesPerTenant: metricsConfig.maxServicesPerTenant, idleMs: metricsConfig.seriesIdleMs, now });
  const bodyBudget = createBodyBudget(config.maxInFlightBodyBytes);
  new Gauge({
    name: 'helios_gateway_inflight_body_bytes', help: 'Bytes of request bodies (raw as received, plus decoded) held by requests in flight; refused with 503 beyond gateway.maxInFlightBodyBytes', registers: [options.metrics],
    collect() {
      this.set(bodyBudget.inUse);
    },
  });
  let inFlight = 0;
  let stopping = false;
  let idle: (() => void) | undefined;

  const ingested = deferredCounter({ name: 'helios_events_ingested_total', help: 'Events accepted by the gateway (published to the bus)', labelNames: ['service', 'level'], registers: [options.metrics] });
  const rejected = new Counter({ name: 'helios_events_rejected_total', help: 'Requests or events refused by the gateway, by error code', labelNames: ['code'], registers: [options.metrics] });
  const latency = deferredLatencyHistogram({
    name: 'helios_ingestion_latency_seconds', help: 'Time from a complete request body to the response (includes the bus acknowledgement)', routes: INGEST_ROUTES, registers: [options.metrics],
    buckets: LATENCY_BUCKETS,
  });
  const requests = deferredCounter({ name: 'helios_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [options.metrics] });

  /** Headers an error status asks for: Retry-After on the retryable 429/503 (OTLP and Helios JSON alike). */
  function errorHeaders(status: number): Readonly<Record<string, string>> | undefined {
    if (status === 429 || status === 503) return retryAfterHeaders;
    if (status === 401) return unauthorizedHeaders;
    return undefined;
  }

  const CAPACITY_CODES: ReadonlySet<string> = new Set(['HLS_ERR_BUS_FULL', 'HLS_ERR_BUS_CLOSED', 'HLS_ERR_OVERLOADED']);
  function countRefusal(err: HeliosError): void {
    rejected.inc({ code: err.code });
    if (CAPACITY_CODES.has(err.code)) options.onCapacityRefusal?.(now(), err.code);
  }

  function errorResponse(err: unknown): GatewayResponse {
    if (err instanceof HeliosError) {
      countRefusal(err);
      return json(err.status, { error: errorBody(err) }, errorHeaders(err.status));
    }
    logger.error({ err }, 'unexpected error handling a request');
    rejected.inc({ code: 'HLS_ERR_INTERNAL' });
    return json(500, { error: { code: 'HLS_ERR_INTERNAL', message: 'internal error' } });
  }

  /** Per route: its latency series (ingest routes only) and its request counter series by status, found with one lookup per request. */
  interface RouteStats {
    route: string;
    latency: LatencySeries | undefined;
    byStatus: Map<number, CounterSeries>;
  }
  const routeStats = new Map<string, RouteStats>();
  function statsOf(route: string): RouteStats {
    let stats = routeStats.get(route);
    if (stats === undefined) routeStats.set(route, (stats = { route, latency: latency.series(route), byStatus: new Map() }));
    return stats;
  }
  const eventsStats = statsOf('events');
  const unknownStats = statsOf('unknown');

  function countRequest(stats: RouteStats, status: number): void {
    let series = stats.byStatus.get(status);
    if (series === undefined) stats.byStatus.set(status, (series = requests.series({ route: stats.route, status: String(status) })));
    series.n++;
  }

  /**
   * Counter series per service label, then per level (a closed set): no key string built per event.
   * Service labels go through the cardinality guard; an expired one is forgotten here too.
   */
  interface ServiceSeries {
    label: string;
    byLevel: Partial<Record<Level, CounterSeries>>;
  }
  const ingestedByService = new Map<string, ServiceSeries>();
  serviceLabels.onExpired((service) => {
    ingestedByService.delete(service);
    ingested.removeWhere('service', service);
  });
  /** The series of a tenant's service, by the label the guard gives it. */
  function serviceSeriesOf(tenant: string, service: string, at: number): ServiceSeries {
    const label = serviceLabels.label(tenant, service, at);
    let found = ingestedByService.get(label);
    if (found === undefined) ingestedByService.set(label, (found = { label, byLevel: {} }));
    return found;
  }

  /** Whether events[i] starts a new run of one tenant and service (the guard is asked once per run, not per event). */
  function startsRun(events: readonly HeliosEvent[], i: number): boolean {
    return i === 0 || events[i]!.service !== events[i - 1]!.service || events[i]!.tenant !== events[i - 1]!.tenant;
  }

  function levelSeries(current: ServiceSeries, level: Level): CounterSeries {
    return (current.byLevel[level] ??= ingested.series({ service: current.label, level }));
  }

  /** Count accepted events per service and level (plain additions; prom-client sees them at scrape time). */
  function countIngested(events: readonly HeliosEvent[]): void {
    const at = now();
    let current: ServiceSeries | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (startsRun(events, i)) current = serviceSeriesOf(event.tenant, event.service, at);
      levelSeries(current!, event.level).n++;
    }
  }

  /**
   * Count events once `publishing` resolved. Their counter series are looked up first, so nothing holds
   * the events while the bus acknowledges: events alive across a Kafka round trip outlive the young
   * generation, and promoting them made garbage collection a quarter of the gateway's time there.
   */
  function countWhenPublished(events: readonly HeliosEvent[], publishing: Promise<void>): Promise<void> {
    const at = now();
    const series = new Array<CounterSeries>(events.length);
    let current: ServiceSeries | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (startsRun(events, i)) current = serviceSeriesOf(event.tenant, event.service, at);
      series[i] = levelSeries(current!, event.level);
    }
    return publishing.then(() => {
      for (let i = 0; i < series.length; i++) series[i]!.n++;
    });
  }

  /**
   * A 2xx is a promise: callers answer only once this settles, i.e. the bus has taken every event of
   * the request. Not an async function: the caller's await is the only promise layer on the hot path.
   */
  function publish(events: readonly HeliosEvent[]): Promise<void> {
    return bus.publish(Topics.events, eventRecords(events));
  }

  /** A Helios JSON request's events, with its bytes for a bus that forwards those instead of writing the events again (Kafka). */
  function publishRequest(batch: EventRequestBatch): Promise<void> {
    return bus.publishEvents === undefined ? publish(batch.events) : bus.publishEvents(Topics.events, batch);
  }

  /**
   * A bus that takes records synchronously (the in-process one) lets an identity-encoded Helios JSON
   * request complete within the transport's callback: the 2xx is still built only after publishSync
   * returned, i.e. after the bus took every event, exactly as after an awaited publish.
   */
  const publishSync = bus.publishSync?.bind(bus);

  /**
   * Decoded bodies count against the same budget as raw ones (the transport reserved those as they
   * arrived): inflation reserves its output chunk by chunk, so a gzip request holds what it decoded,
   * not a worst-case cap, and gzip and identity requests of the same size are refused alike.
   */
  function withDecodedBody<T>(request: GatewayRequest, use: (body: Buffer) => Promise<T>): Promise<T> {
    // Identity bodies (the common case) go straight to `use`, without a promise layer of their own.
    // `use` reads the body before its first await, so a borrowed identity body is still valid then;
    // inflation reads it later, on the thread pool, so it gets a copy.
    const header = request.headers['content-encoding'];
    if (header === '') return use(request.body);
    const encoding = header.trim().toLowerCase();
    if (encoding === '' || encoding === 'identity') return use(request.body);
    return withInflatedBody(request.bodyBorrowed === true ? Buffer.from(request.body) : request.body, encoding, use);
  }

  async function withInflatedBody<T>(compressed: Buffer, encoding: string, use: (body: Buffer) => Promise<T>): Promise<T> {
    let held = 0;
    const reserve = (bytes: number): boolean => {
      if (!bodyBudget.tryReserve(bytes)) return false;
      held += bytes;
      return true;
    };
    try {
      const body = await decodeContentEncoding(compressed, encoding, config.maxInflatedBytes, reserve);
      return await use(body);
    } finally {
      bodyBudget.release(held);
    }
  }

  /**
   * Not async: it may throw synchronously (auth, content type), and with a synchronous bus and an
   * identity body it answers without any promise. Its only caller handles both.
   */
  function ingestHeliosJson(request: GatewayRequest): GatewayResponse | Promise<GatewayResponse> {
    const tenant = authenticate(request.headers);
    const kind = jsonBodyKind(request.headers['content-type']);
    if (kind === undefined) throw new HeliosError('HLS_ERR_UNSUPPORTED_MEDIA_TYPE', `content-type "${request.headers['content-type']}" is not supported here; use application/json or application/x-ndjson`);
    if (publishSync !== undefined && request.headers['content-encoding'] === '') {
      const values = parseEventsBody(request.body, kind, config.maxEventsPerRequest);
      const events = normalizeEventBatch(values, { tenant, now: now() });
      publishSync(Topics.events, eventRecords(events));
      countIngested(events);
      return { status: 202, headers: JSON_HEADERS, body: acceptedBody(events) };
    }
    return withDecodedBody(request, (body) => {
      const values = parseEventsBody(body, kind, config.maxEventsPerRequest);
      const receivedAt = now();
      const idBase = newEventId();
      const events = normalizeEventBatch(values, { tenant, now: receivedAt, idBase });
      const response: GatewayResponse = { status: 202, headers: JSON_HEADERS, body: acceptedBody(events) };
      // A borrowed body is only valid during the transport's callback; the bus may hold it longer.
      const owned = body === request.body && request.bodyBorrowed === true ? Buffer.from(body) : body;
      return countWhenPublished(events, publishRequest({ events, body: owned, kind, tenant, receivedAt, idBase })).then(() => response);
    });
  }

  /**
   * OTLP/HTTP export: 200 with an Export*ServiceResponse (partial_success when some records were
   * rejected, the rest published); errors as google.rpc.Status in the request's encoding with the
   * status the specification gives them (400 bad data, 415 content type, 413 limits, 429/503 with
   * Retry-After, which OTLP exporters retry).
   */
  async function ingestOtlp(request: GatewayRequest, signal: OtlpSignal): Promise<GatewayResponse> {
    const encoding = otlpEncoding(request.headers['content-type']);
    try {
      if (request.method !== 'POST') throw new HeliosError('HLS_ERR_METHOD_NOT_ALLOWED', `use POST for ${request.path}`);
      if (stopping) throw new HeliosError('HLS_ERR_SHUTTING_DOWN');
      const tenant = authenticate(request.headers);
      if (encoding === undefined) throw unsupportedOtlpContentType(request.headers['content-type']);
      return await withDecodedBody(request, (body) => {
        const result = decodeOtlp(signal, body, encoding, { tenant, now: now(), maxRecords: config.maxEventsPerRequest });
        if (result.rejected > 0) rejected.inc({ code: 'HLS_ERR_EVENT_INVALID' }, result.rejected);
        // Built before the bus's acknowledgement, so that nothing of the decoded request waits with it (see countWhenPublished).
        const response: GatewayResponse = { status: 200, headers: otlpResponseHeaders(encoding), body: encodeOtlpResponse(signal, result, encoding) };
        if (result.events.length === 0) return Promise.resolve(response);
        return countWhenPublished(result.events, publish(result.events)).then(() => response);
      });
    } catch (err) {
      if (!(err instanceof HeliosError)) throw err;
      countRefusal(err);
      return otlpErrorResponse(err, encoding, errorHeaders(err.status));
    }
  }

  /**
   * The read API (routes/): with auth on, the key's tenant scopes every read and a `tenant` parameter
   * naming another is refused; with auth off there is no tenant to scope by, so every tenant's data is
   * served unless one is asked for (the README's Security section says so).
   */
  const readApi: ReadApiContext = {
    store, now, logger, metrics: options.metrics, config: config.readApi,
    tenantOf(request, requested) {
      if (!config.auth.enabled) return requested;
      const tenant = authenticate(request.headers);
      if (requested !== undefined && requested !== tenant) throw new HeliosError('HLS_ERR_QUERY_INVALID', 'tenant: this API key reads its own tenant only', { details: ['tenant'] });
      return tenant;
    },
  };
  const eventsApi = createEventsApi(readApi);
  const consoleRoutes = createConsoleRoutes(options.console);
  const apiRoutes: ApiRoute[] = [...createReportsApi(readApi, reportRedactor).routes, ...eventsApi.routes, ...createServicesApi(readApi).routes];
  let openApiText: string | undefined;
  apiRoutes.push(openApiRoute(() => (openApiText ??= JSON.stringify(openApiDocument(apiRoutes)))));

  async function serveApiRoute(request: GatewayRequest): Promise<[string, GatewayResponse] | undefined> {
    for (const apiRoute of apiRoutes) {
      const params = matchPath(apiRoute.path, request.path);
      if (params === undefined) continue;
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new HeliosError('HLS_ERR_METHOD_NOT_ALLOWED', `use GET for ${apiRoute.path}`);
      if (apiRoute.public !== true && config.auth.enabled) authenticate(request.headers);
      return [apiRoute.name, await apiRoute.handle(request, params)];
    }
    return undefined;
  }

  /** Why the gateway would refuse events now, or undefined when it accepts them. */
  function notReadyReason(): string | undefined {
    if (stopping) return 'shutting down';
    if (!bus.isReady()) return `bus: ${bus.notReadyReason?.() ?? 'not ready'}`;
    if (options.isReady !== undefined && !options.isReady()) return 'store not ready';
    return undefined;
  }

  async function serveMetrics(request: GatewayRequest): Promise<GatewayResponse> {
    authenticateMetrics?.(request.headers);
    return { status: 200, headers: { 'content-type': options.metrics.contentType }, body: await options.metrics.metrics() };
  }

  async function route(request: GatewayRequest): Promise<[string, GatewayResponse]> {
    const { method, path } = request;
    const signal = OTLP_PATHS.get(path);
    if (signal !== undefined) return [request.protocol === 'grpc' ? OTLP_GRPC_ROUTES[signal] : signal, await ingestOtlp(request, signal)];
    if (method === 'GET' || method === 'HEAD') {
      switch (path) {
        case '/healthz':
          return ['healthz', json(200, { status: 'ok' })];
        case '/readyz': {
          const reason = notReadyReason();
          return ['readyz', reason === undefined ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reason, bus: bus.isReady() }, { 'retry-after': retryAfter })];
        }
        case '/metrics':
          return ['metrics', await serveMetrics(request)];
      }
      const consoleFile = consoleRoutes.serve(path);
      if (consoleFile !== undefined) return ['console', consoleFile];
    }
    const served = await serveApiRoute(request);
    if (served !== undefined) return served;
    throw new HeliosError('HLS_ERR_NOT_FOUND', `no route ${method} ${path}`);
  }

  /** errorResponse that cannot throw: the request's accounting in finish() must always run. */
  function failure(err: unknown): GatewayResponse {
    try {
      return errorResponse(err);
    } catch {
      return { status: 500, headers: JSON_HEADERS, body: '{"error":{"code":"HLS_ERR_INTERNAL","message":"internal error"}}' };
    }
  }

  /** The end of every request: in-flight count, latency and request metrics. */
  function finish(started: number, stats: RouteStats, response: GatewayResponse): GatewayResponse {
    inFlight--;
    // After the transport's send (a synchronous answer is sent right after this returns; an async one in
    // the microtask after the promise settles), both before setImmediate.
    if (inFlight === 0 && idle !== undefined) setImmediate(idle);
    if (stats.latency !== undefined) observeLatency(stats.latency, LATENCY_BUCKETS, (performance.now() - started) / 1000);
    countRequest(stats, response.status);
    return response;
  }

  /**
   * The handler the transports call: a plain response when the request completed synchronously (Helios
   * JSON on a synchronous bus, errors found before any await), else a promise. Transports send a plain
   * response from the callback that delivered the body, as a bare uWS server does.
   */
  function handleRequest(request: GatewayRequest): GatewayResponse | Promise<GatewayResponse> {
    const started = performance.now();
    inFlight++;
    try {
      // Helios JSON, the hot path, is routed here: one promise layer less than through route().
      if (request.path === '/api/v1/events' && request.method !== 'GET' && request.method !== 'HEAD') {
        if (request.method !== 'POST') throw new HeliosError('HLS_ERR_METHOD_NOT_ALLOWED', 'use POST (ingest) or GET (search) for /api/v1/events');
        if (stopping) throw new HeliosError('HLS_ERR_SHUTTING_DOWN');
        const response = ingestHeliosJson(request);
        if (!(response instanceof Promise)) return finish(started, eventsStats, response);
        return response.then(
          (r) => finish(started, eventsStats, r),
          (err: unknown) => finish(started, unknownStats, failure(err)),
        );
      }
      // Only the Helios JSON path above reads a borrowed body in time; every other route gets its own copy.
      return route(request.bodyBorrowed === true ? { ...request, body: Buffer.from(request.body), bodyBorrowed: false } : request).then(
        ([routeName, r]) => finish(started, statsOf(routeName), r),
        (err: unknown) => finish(started, unknownStats, failure(err)),
      );
    } catch (err) {
      return finish(started, unknownStats, failure(err));
    }
  }

  function handle(request: GatewayRequest): Promise<GatewayResponse> {
    const response = handleRequest(request);
    return response instanceof Promise ? response : Promise.resolve(response);
  }

  const transportOptions = (port: number): TransportOptions => ({
    host: config.host, port, reusePort: config.reusePort, maxBodyBytes: config.maxBodyBytes, readsCredentials: config.auth.enabled || authenticateMetrics !== undefined, postPaths: INGEST_PATHS, handler: handleRequest,
    tooLarge: () => errorResponse(new HeliosError('HLS_ERR_BODY_TOO_LARGE', `request body exceeds ${config.maxBodyBytes} bytes`)),
    bodyBudget,
    overBudget: () => errorResponse(new HeliosError('HLS_ERR_OVERLOADED', `request bodies in flight hold ${bodyBudget.inUse} bytes (gateway.maxInFlightBodyBytes ${bodyBudget.limit})`)),
  });

  let transportName: 'uws' | 'node' = 'node';
  const makeTransport = (port: number): HttpTransport => {
    if (config.transport !== 'node') {
      const loaded = loadUws();
      if ('uws' in loaded) {
        transportName = 'uws';
        return createUwsTransport(loaded.uws, transportOptions(port));
      }
      if (config.transport === 'uws') throw loaded.error;
      // E.g. uWS's binaries for Node 22 and 24 need glibc 2.38: on an older distribution, auto serves
      // over node:http rather than not at all, and says so once with the loader's reason.
      logger.warn(
        { err: loaded.error.message, node: process.version, abi: process.versions.modules },
        'uWebSockets.js did not load on this platform; gateway.transport auto falls back to node:http (set it to uws to make this an error)',
      );
    }
    transportName = 'node';
    return createNodeTransport(transportOptions(port));
  };

  let transports: Array<Pick<HttpTransport, 'listen' | 'stopListening' | 'close'>> = [];
  let stopped: Promise<void> | undefined;
  return {
    get transport() {
      return transportName;
    },
    handle,
    bodyBudget,
    async start() {
      const main = makeTransport(config.port);
      transports = [main];
      const port = await main.listen();
      let otlpPort: number | undefined;
      if (config.otlpPort >= 0 && config.otlpPort !== port) {
        const otlp = makeTransport(config.otlpPort);
        try {
          otlpPort = await otlp.listen();
          transports.push(otlp);
        } catch (err) {
          logger.warn({ err: (err as Error).message, port: config.otlpPort }, 'could not bind the OTLP default port; OTLP is still served on the main port');
        }
      }
      let otlpGrpcPort: number | undefined;
      if (config.otlpGrpcPort >= 0) {
        const grpc = createOtlpGrpcTransport({ host: config.host, port: config.otlpGrpcPort, maxMessageBytes: config.maxInflatedBytes, retryAfterSeconds: config.retryAfterSeconds, handler: handleRequest });
        try {
          otlpGrpcPort = await grpc.listen();
          transports.push(grpc);
        } catch (err) {
          await grpc.close();
          logger.warn({ err: (err as Error).message, port: config.otlpGrpcPort }, 'could not bind the OTLP/gRPC port; OTLP/gRPC exporters cannot deliver to this process');
        }
      }
      return { port, otlpPort, otlpGrpcPort };
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        await Promise.all(transports.map((t) => t.stopListening()));
        eventsApi.close(); // live tails end with a final event instead of being cut
        if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
        await Promise.all(transports.map((t) => t.close()));
      })();
      return stopped;
    },
  };
}
