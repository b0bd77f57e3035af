import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { resolveConfig, SDK_NAME, SDK_VERSION, type HeliosOptions, type ResolvedConfig } from './config.js';
import { createDefaultDiagnosticHandler, type DiagnosticHandler } from './errors.js';
import {
  clampEndpoint, clampErrorCode, errorCodeOf, isErrorLevel, LEVEL_RANK, MAX_MESSAGE_LENGTH, parseLevel, RECORD_REQUEST, toAttributes,
  type Attributes, type RequestRecorder, type EventKind, type Level, type LevelInput, type WireEvent,
} from './event.js';
import { uuidv7 } from './event-id.js';
import { createEventExporter, type EventExporter, type ExporterCounters } from './event-exporter.js';
import { createHttpTransport, type Transport } from './http-transport.js';
import { createThreadTransport } from './thread-transport.js';
import { openOfflineBuffer } from './offline-buffer.js';
import { createRequestSampler, latencySince, type RequestSampler } from './request-sampler.js';
import { startOtel, type OtelHandle } from './otel-setup.js';

export interface EventOptions {
  message: string;
  /** Default INFO; any case, `warning` and `fatal` accepted. */
  level?: LevelInput;
  /** Default `event`. */
  kind?: EventKind;
  /** Route template (`/users/:id`), not the raw path. */
  endpoint?: string;
  latency_ms?: number;
  status_code?: number;
  error_code?: string;
  /**
   * The original design's envelope: `endpoint`, `latency_ms`, `status_code`, `error_code` are lifted to
   * their fields, every other key becomes an attribute.
   */
  metadata?: Record<string, unknown>;
  /** Flat key/values; nested values are sent as JSON text. */
  attributes?: Record<string, unknown>;
  /** Epoch ms or a Date. Default now. */
  timestamp?: number | Date;
}

export type LogMethod = (message: string | Error, attributes?: Record<string, unknown>) => void;

export interface HeliosLogger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  critical: LogMethod;
}

export interface HeliosStats extends ExporterCounters {
  /** Non-error events removed by `sampleRate`. */
  sampledOut: number;
  /**
   * Successful requests the middleware saw and counted but sent no event of their own for: another
   * request event of the same route, method and status carries them in its `sample_rate` (requestSampling).
   */
  requestsAggregated: number;
}

export interface HeliosClient {
  /** Record one structured event, correlated with the active span. Never throws, never blocks. */
  event(event: EventOptions): void;
  readonly logger: HeliosLogger;
  readonly service: string;
  /** False when the kill switch (HELIOS_DISABLED) is on: every call is a no-op. */
  readonly enabled: boolean;
  /** Resolves true once everything recorded before the call is delivered, rejected or persisted to disk; false on timeout. */
  flush(options?: { timeoutMs?: number }): Promise<boolean>;
  /** Flush, spill what is left to the offline buffer, stop OpenTelemetry. Idempotent; safe to call twice. */
  shutdown(): Promise<void>;
  /** The SDK's counters: what was sent, dropped, sampled out, retried, spilled to disk. */
  stats(): HeliosStats;
}

/**
 * Sets up Helios for this process: the Helios JSON exporter and, unless `otel: false`, the OpenTelemetry
 * Node SDK with OTLP/HTTP exporters to the same gateway. Options fall back to environment variables
 * (see README). Throws HLS_ERR_SDK_CONFIG_INVALID on bad options; never throws after that.
 */
export function init(options: HeliosOptions = {}): HeliosClient {
  const config = resolveConfig(options);
  const report = options.onDiagnostic ?? createDefaultDiagnosticHandler();
  if (config.disabled) return createDisabledClient(config.service);
  return createClient(config, report, startOtel(config, report));
}

/**
 * A client without OpenTelemetry setup (for tests, or processes that configure OTel themselves).
 * Same options as `init`, the `otel` option is ignored.
 */
export function createHeliosClient(options: HeliosOptions = {}): HeliosClient {
  const config = resolveConfig({ ...options, otel: false });
  const report = options.onDiagnostic ?? createDefaultDiagnosticHandler();
  if (config.disabled) return createDisabledClient(config.service);
  return createClient(config, report, undefined);
}

/** Keeps the SDK's own export requests out of the user's traces when http instrumentation is on. */
function untracedTransport(transport: Transport): Transport {
  return {
    send: (json) => context.with(suppressTracing(context.active()), () => transport.send(json)),
    close: () => transport.close(),
  };
}

function createClient(config: ResolvedConfig, report: DiagnosticHandler, otel: OtelHandle | undefined): HeliosClient {
  const transportOptions = {
    url: `${config.endpoint}/api/v1/events`,
    apiKey: config.apiKey,
    compression: config.compression,
    timeoutMs: config.requestTimeoutMs,
    userAgent: `${SDK_NAME}/${SDK_VERSION} node/${process.versions.node}`,
  };
  const transport = untracedTransport(config.exportThread ? createThreadTransport(transportOptions) : createHttpTransport(transportOptions));
  const exporter: EventExporter = createEventExporter({
    transport,
    offlineBuffer: config.offlineBuffer === undefined ? undefined : openOfflineBuffer(config.offlineBuffer, report),
    maxQueueSize: config.maxQueueSize,
    maxBatchSize: config.maxBatchSize,
    flushIntervalMs: config.flushIntervalMs,
    backoff: { initialBackoffMs: config.initialBackoffMs, maxBackoffMs: config.maxBackoffMs },
    beforeSend: config.beforeSend,
    resource: config.resource,
    report,
  });
  const { service, resource, sampleRate } = config;
  const minLogRank = LEVEL_RANK[config.logLevel];
  let sampledOut = 0;
  let requestsAggregated = 0;
  // What an event kept by `sampleRate` stands for; undefined (sent without sample_rate, i.e. 1) when not sampling.
  const keptWeight = sampleRate < 1 ? 1 / sampleRate : undefined;

  /** The active span's ids, as strings OTel has already checked are hex; undefined outside a sampled or valid span. */
  function activeSpanIds(): { traceId: string; spanId: string } | undefined {
    const span = trace.getActiveSpan();
    if (span === undefined) return undefined;
    const spanContext = span.spanContext();
    return isSpanContextValid(spanContext) ? spanContext : undefined;
  }

  function record(level: Level, kind: EventKind, message: string, timestamp: number, fields: Partial<WireEvent>, attributes: Attributes | undefined): void {
    // Errors are never sampled away: they are what the detector and the incident report need most.
    const error = isErrorLevel(level);
    if (sampleRate < 1 && !error && Math.random() >= sampleRate) {
      sampledOut++;
      return;
    }
    const ids = activeSpanIds();
    // Every event has the same property order and set, so V8 keeps one hidden class for all of them.
    const event: WireEvent = {
      id: uuidv7(),
      timestamp,
      service,
      level,
      message: message.length > MAX_MESSAGE_LENGTH ? message.slice(0, MAX_MESSAGE_LENGTH) : message,
      kind,
      endpoint: clampEndpoint(fields.endpoint),
      latency_ms: validLatency(fields.latency_ms),
      status_code: validStatus(fields.status_code),
      error_code: clampErrorCode(fields.error_code),
      trace_id: ids?.traceId,
      span_id: ids?.spanId,
      sample_rate: error ? undefined : keptWeight,
      attributes,
      resource,
    };
    exporter.enqueue(event);
  }

  /**
   * One HTTP request event, built directly (no options object, no level parsing). Latency is kept to the
   * microsecond: the digits `performance.now()` adds beyond it are noise that would only cost bytes on the wire.
   */
  function sendRequest(timestamp: number, method: string, endpoint: string, statusCode: number, latencyMs: number, errorCode: string | undefined,
    traceId: string | undefined, spanId: string | undefined, rate: number): void {
    const route = clampEndpoint(endpoint);
    exporter.enqueue({
      id: uuidv7(timestamp),
      timestamp,
      service,
      level: errorCode !== undefined ? 'ERROR' : 'INFO',
      message: `${method} ${route ?? ''}`,
      kind: 'span',
      endpoint: route,
      latency_ms: latencyMs >= 0 ? Math.round(latencyMs * 1000) / 1000 : undefined,
      status_code: validStatus(statusCode),
      error_code: clampErrorCode(errorCode),
      trace_id: traceId,
      span_id: spanId,
      sample_rate: rate === 1 ? undefined : rate,
      attributes: undefined,
      resource,
    });
  }

  const sampler: RequestSampler | undefined = config.requestSampling === undefined ? undefined : createRequestSampler({
    ...config.requestSampling,
    send(timestamp, method, route, statusCode, latencyMs, traceId, spanId, rate) {
      sendRequest(timestamp, method, route, statusCode, latencyMs, undefined, traceId, spanId, rate);
      requestsAggregated--;
    },
    spanIds: activeSpanIds,
  });

  /**
   * One finished HTTP request, from the middleware. Failed ones are sent at once and never sampled;
   * successful ones go through the request sampler (exact counts, bounded events per route), unless it is off.
   */
  const recordRequest: RequestRecorder = function recordRequest(method, endpoint, statusCode, startMs, endMs, errorCode) {
    try {
      const failed = errorCode !== undefined;
      let weight = 1;
      if (sampleRate < 1 && !failed) {
        if (Math.random() >= sampleRate) {
          sampledOut++;
          return;
        }
        weight = keptWeight!;
      }
      if (sampler !== undefined && !failed) {
        requestsAggregated++; // undone by `send` for the requests that get an event of their own
        sampler.offer(method, endpoint, statusCode, startMs, endMs, weight);
        return;
      }
      const ids = activeSpanIds();
      sendRequest(Date.now(), method, endpoint, statusCode, latencySince(startMs, endMs), errorCode, ids?.traceId, ids?.spanId, weight);
    } catch (error) {
      void error;
    }
  };

  function event(input: EventOptions): void {
    try {
      const level = input.level === undefined ? 'INFO' : (parseLevel(input.level) ?? 'INFO');
      const metadata = input.metadata;
      let attributes = metadata === undefined ? undefined : toAttributes(metadata, undefined, true);
      if (input.attributes !== undefined) attributes = toAttributes(input.attributes, attributes, false);
      const fields: Partial<WireEvent> = {
        endpoint: input.endpoint ?? stringField(metadata?.['endpoint']),
        latency_ms: input.latency_ms ?? numberField(metadata?.['latency_ms']),
        status_code: input.status_code ?? numberField(metadata?.['status_code']),
        error_code: input.error_code ?? stringField(metadata?.['error_code']),
      };
      const timestamp = input.timestamp === undefined ? Date.now() : typeof input.timestamp === 'number' ? input.timestamp : input.timestamp.getTime();
      record(level, input.kind ?? 'event', typeof input.message === 'string' ? input.message : String(input.message), timestamp, fields, attributes);
    } catch (error) {
      // Telemetry must never take the application down; a bug here costs one event, not a request.
      void error;
    }
  }

  function logMethod(level: Level): LogMethod {
    const rank = LEVEL_RANK[level];
    return function log(message, attributes) {
      if (rank < minLogRank) return;
      try {
        let attrs = attributes === undefined ? undefined : toAttributes(attributes, undefined, false);
        let errorCode: string | undefined;
        let text: string;
        if (message instanceof Error) {
          text = message.message;
          errorCode = errorCodeOf(message);
          attrs = toAttributes({ 'exception.type': message.name, 'exception.stacktrace': message.stack }, attrs, false);
        } else {
          text = String(message);
          const code = attributes?.['error_code'];
          if (typeof code === 'string') errorCode = code;
        }
        record(level, 'log', text, Date.now(), { error_code: errorCode }, attrs);
      } catch (error) {
        void error;
      }
    };
  }

  const logger: HeliosLogger = {
    trace: logMethod('TRACE'),
    debug: logMethod('DEBUG'),
    info: logMethod('INFO'),
    warn: logMethod('WARN'),
    error: logMethod('ERROR'),
    critical: logMethod('CRITICAL'),
  };

  let shutdownPromise: Promise<void> | undefined;
  const client: HeliosClient & { [RECORD_REQUEST]: RequestRecorder } = {
    event,
    logger,
    service,
    enabled: true,
    [RECORD_REQUEST]: recordRequest,
    flush(options) {
      // Held request events are part of "everything recorded before the call".
      sampler?.closeInterval();
      return exporter.flush(options?.timeoutMs ?? config.shutdownTimeoutMs);
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        sampler?.closeInterval();
        sampler?.stop();
        await exporter.shutdown(config.shutdownTimeoutMs);
        await otel?.shutdown();
      })();
      return shutdownPromise;
    },
    stats: () => ({ ...exporter.counters(), sampledOut, requestsAggregated }),
  };
  return client;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function numberField(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function validLatency(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function validStatus(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value >= 0 && value <= 999 ? value : undefined;
}

const EMPTY_STATS: HeliosStats = {
  queued: 0, enqueued: 0, sent: 0, dropped: 0, filtered: 0, rejected: 0, failedRequests: 0,
  spilled: 0, replayed: 0, offlineDropped: 0, offlineBytes: 0, sampledOut: 0, requestsAggregated: 0,
};

function createDisabledClient(service: string): HeliosClient {
  const noop = (): void => {};
  return {
    event: noop,
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, critical: noop },
    service,
    enabled: false,
    flush: () => Promise.resolve(true),
    shutdown: () => Promise.resolve(),
    stats: () => ({ ...EMPTY_STATS }),
  };
}
