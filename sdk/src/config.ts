import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { HeliosSdkError, type DiagnosticHandler } from './errors.js';
import { parseLevel, type Attributes, type Level, type WireEvent } from './event.js';

/** What `beforeSend` receives and may return changed; `null` drops the event (counted as `filtered`). */
export type BeforeSend = (event: WireEvent) => WireEvent | null;

export interface OfflineBufferOptions {
  /** Directory for segment files; one directory per process (a lock file enforces it). Env HELIOS_OFFLINE_DIR. */
  directory: string;
  /** Upper bound on the bytes of all segments; spills beyond it are dropped and counted. Default 64 MiB. */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size. Default 1 MiB. */
  segmentBytes?: number;
  /**
   * `always` (default): fsync after every appended batch, so a spilled batch survives a power loss.
   * `never`: leave it to the OS page cache; survives a process crash or restart, not a machine crash.
   */
  fsync?: 'always' | 'never';
}

export interface OtelOptions {
  /** Instrumentations to register, e.g. `getNodeAutoInstrumentations()` or `[new HttpInstrumentation()]`. Default none. */
  instrumentations?: NodeSDKConfiguration['instrumentations'];
  /** Export spans over OTLP/HTTP to `<otlpEndpoint>/v1/traces`. Default true. */
  traces?: boolean;
  /** Export metrics over OTLP/HTTP to `<otlpEndpoint>/v1/metrics`. Default true. */
  metrics?: boolean;
  /** Export OTel log records over OTLP/HTTP to `<otlpEndpoint>/v1/logs`. Default true. */
  logs?: boolean;
  /** Metric export interval. Default 60000 ms (OTEL_METRIC_EXPORT_INTERVAL). */
  metricExportIntervalMs?: number;
}

export interface HeliosOptions {
  /** Service name on every event and span. Env HELIOS_SERVICE, then OTEL_SERVICE_NAME. Default `unknown_service:node`. */
  service?: string;
  /** Gateway base URL for Helios JSON (`/api/v1/events`). Env HELIOS_ENDPOINT. Default `http://localhost:8080`. */
  endpoint?: string;
  /** Base URL for OTLP/HTTP. Env OTEL_EXPORTER_OTLP_ENDPOINT. Default: `endpoint` (the gateway serves both). */
  otlpEndpoint?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. Env HELIOS_API_KEY. */
  apiKey?: string;
  /** Kill switch: when true nothing is recorded or sent. Env HELIOS_DISABLED=true|1. Default false. */
  disabled?: boolean;
  /** `deployment.environment.name` resource attribute. Env HELIOS_ENVIRONMENT. */
  environment?: string;
  /** Extra resource attributes; merged over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Attributes;
  /**
   * Fraction (0..1) of non-error events kept, at random. ERROR and CRITICAL are always kept. A kept event
   * carries `sample_rate: 1 / sampleRate`, so Helios still counts every event. Env HELIOS_SAMPLE_RATE. Default 1.
   */
  sampleRate?: number;
  /**
   * Request events of the HTTP middleware, per (route, method, status): at most `maxEventsPerKey` per
   * `intervalMs` (default 40 per 1000 ms) are sent, each with the `sample_rate` that keeps the counts exact;
   * failed requests are always sent. `false` sends one event per request. Env HELIOS_REQUEST_SAMPLING
   * (`off`, or the number of events per key and second).
   */
  requestSampling?: RequestSamplingOptions | false;
  /** Redaction hook, run once per event before it is serialized (so before network and disk). */
  beforeSend?: BeforeSend;
  /** Least severe level `helios.logger` records. Env HELIOS_LOG_LEVEL. Default `info`. */
  logLevel?: string;
  /** Events held in memory at most; beyond it new events are dropped and counted. Env HELIOS_MAX_QUEUE_SIZE. Default 10000. */
  maxQueueSize?: number;
  /** Events per request at most. Default 512. */
  maxBatchSize?: number;
  /** A partial batch is sent after this long. Env HELIOS_FLUSH_INTERVAL_MS. Default 1000. */
  flushIntervalMs?: number;
  /** Request body compression. Default `gzip`. */
  compression?: 'gzip' | 'none';
  /**
   * Make the export requests on a worker thread of the SDK's own, so they do not slow the application's
   * own HTTP serving (bench/RESULTS.md, SDK). `false` sends from the application's thread. Env
   * HELIOS_EXPORT_THREAD=true|false. Default true.
   */
  exportThread?: boolean;
  /** A request with no answer after this long counts as a network error. Default 10000. */
  requestTimeoutMs?: number;
  /** First retry delay (full jitter, doubling per attempt). Default 500. */
  initialBackoffMs?: number;
  /** Retry delay cap, and the cap on a Retry-After the SDK will honour. Default 30000. */
  maxBackoffMs?: number;
  /** How long `shutdown()` keeps trying to deliver before spilling to disk or dropping. Default 5000. */
  shutdownTimeoutMs?: number;
  /** Optional disk-backed buffer for events the gateway could not take. Off unless set (or HELIOS_OFFLINE_DIR). */
  offlineBuffer?: OfflineBufferOptions | false;
  /** OpenTelemetry SDK setup; `false` leaves OTel alone (use your own). Env OTEL_SDK_DISABLED=true turns it off. */
  otel?: OtelOptions | false;
  /** Receives the SDK's own problems (codes in errors.ts). Default: one process warning per code. */
  onDiagnostic?: DiagnosticHandler;
}

export interface RequestSamplingOptions {
  /** Request events per (route, method, status) and interval at most (>= 2). Default 40. */
  maxEventsPerKey?: number;
  /** Default 1000. */
  intervalMs?: number;
}

export interface ResolvedOfflineBuffer {
  directory: string;
  maxBytes: number;
  segmentBytes: number;
  fsync: 'always' | 'never';
}

export interface ResolvedConfig {
  service: string;
  endpoint: string;
  otlpEndpoint: string;
  apiKey: string | undefined;
  disabled: boolean;
  resource: Attributes;
  sampleRate: number;
  requestSampling: Required<RequestSamplingOptions> | undefined;
  beforeSend: BeforeSend | undefined;
  logLevel: Level;
  maxQueueSize: number;
  maxBatchSize: number;
  flushIntervalMs: number;
  compression: 'gzip' | 'none';
  exportThread: boolean;
  requestTimeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  shutdownTimeoutMs: number;
  offlineBuffer: ResolvedOfflineBuffer | undefined;
  otel: Required<Omit<OtelOptions, 'instrumentations'>> & Pick<OtelOptions, 'instrumentations'> | undefined;
}

const OPTION_KEYS: readonly (keyof HeliosOptions)[] = [
  'service', 'endpoint', 'otlpEndpoint', 'apiKey', 'disabled', 'environment', 'resourceAttributes', 'sampleRate', 'requestSampling',
  'beforeSend', 'logLevel', 'maxQueueSize', 'maxBatchSize', 'flushIntervalMs', 'compression', 'exportThread', 'requestTimeoutMs',
  'initialBackoffMs', 'maxBackoffMs', 'shutdownTimeoutMs', 'offlineBuffer', 'otel', 'onDiagnostic',
];

/** Defaults in one place; `resolveConfig` layers explicit option, then environment, then these. */
export function defaultConfig(): Omit<ResolvedConfig, 'resource' | 'offlineBuffer' | 'otel' | 'beforeSend' | 'apiKey'> {
  return {
    service: 'unknown_service:node',
    endpoint: 'http://localhost:8080',
    otlpEndpoint: 'http://localhost:8080',
    disabled: false,
    sampleRate: 1,
    // A few dozen events per second per route, method and status: enough for latency percentiles and
    // example traces, a fixed export cost however busy the route is (bench/RESULTS.md "SDK").
    requestSampling: { maxEventsPerKey: 40, intervalMs: 1000 },
    logLevel: 'INFO',
    maxQueueSize: 10_000,
    maxBatchSize: 512,
    flushIntervalMs: 1000,
    compression: 'gzip',
    exportThread: true,
    requestTimeoutMs: 10_000,
    initialBackoffMs: 500,
    maxBackoffMs: 30_000,
    shutdownTimeoutMs: 5000,
  };
}

type Env = Record<string, string | undefined>;

function invalid(key: string, expected: string, value: unknown, source: string | undefined): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new HeliosSdkError('HLS_ERR_SDK_CONFIG_INVALID', `'${key}' must be ${expected}, got ${shown}${source === undefined ? '' : ` (from ${source})`}`);
}

/** First defined of option and env vars, with the name of where it came from for error messages. */
function pick(option: unknown, env: Env, names: readonly string[]): { value: unknown; source: string | undefined } {
  if (option !== undefined) return { value: option, source: undefined };
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, source: name };
  }
  return { value: undefined, source: undefined };
}

function numberOption(key: string, option: unknown, env: Env, envNames: readonly string[], fallback: number, check: { min: number; max?: number; integer?: boolean }): number {
  const { value, source } = pick(option, env, envNames);
  if (value === undefined) return fallback;
  const parsed = typeof value === 'string' ? Number(value) : value;
  const expected = `${check.integer === true ? 'an integer' : 'a number'} >= ${check.min}${check.max === undefined ? '' : ` and <= ${check.max}`}`;
  if (typeof parsed !== 'number' || Number.isNaN(parsed) || parsed < check.min || (check.max !== undefined && parsed > check.max) || (check.integer === true && !Number.isInteger(parsed))) {
    invalid(key, expected, value, source);
  }
  return parsed;
}

function booleanOption(key: string, option: unknown, env: Env, envNames: readonly string[], fallback: boolean): boolean {
  const { value, source } = pick(option, env, envNames);
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true' || text === '1' || text === 'yes') return true;
    if (text === 'false' || text === '0' || text === 'no') return false;
  }
  return invalid(key, 'true or false', value, source);
}

function stringOption(key: string, option: unknown, env: Env, envNames: readonly string[]): string | undefined {
  const { value, source } = pick(option, env, envNames);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') invalid(key, 'a non-empty string', value, source);
  return value.trim();
}

function urlOption(key: string, option: unknown, env: Env, envNames: readonly string[], fallback: string): string {
  const { value, source } = pick(option, env, envNames);
  if (value === undefined) return fallback;
  if (typeof value !== 'string') return invalid(key, 'an http(s) URL', value, source);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return invalid(key, 'an http(s) URL', value, source);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid(key, 'an http(s) URL', value, source);
  return value.replace(/\/+$/, '');
}

/** OTEL_RESOURCE_ATTRIBUTES: `key1=value1,key2=value2`, values percent-encoded. */
function parseResourceAttributes(text: string | undefined): Attributes {
  const out: Attributes = {};
  if (text === undefined) return out;
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed pair is skipped, as the OTel specification asks; the rest still apply.
    }
  }
  return out;
}

export const SDK_NAME = '@helios/sdk';
export const SDK_VERSION = '0.1.0';

export function resolveConfig(options: HeliosOptions = {}, env: Env = process.env): ResolvedConfig {
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new HeliosSdkError('HLS_ERR_SDK_CONFIG_INVALID', `unknown option '${key}'; valid options: ${OPTION_KEYS.join(', ')}`);
    }
  }
  const defaults = defaultConfig();
  const service = stringOption('service', options.service, env, ['HELIOS_SERVICE', 'OTEL_SERVICE_NAME']) ?? defaults.service;
  const endpoint = urlOption('endpoint', options.endpoint, env, ['HELIOS_ENDPOINT'], defaults.endpoint);
  const otlpEndpoint = urlOption('otlpEndpoint', options.otlpEndpoint, env, ['OTEL_EXPORTER_OTLP_ENDPOINT'], endpoint);
  const apiKey = stringOption('apiKey', options.apiKey, env, ['HELIOS_API_KEY']);
  const disabled = booleanOption('disabled', options.disabled, env, ['HELIOS_DISABLED'], defaults.disabled);
  const environment = stringOption('environment', options.environment, env, ['HELIOS_ENVIRONMENT']);

  const logLevelText = stringOption('logLevel', options.logLevel, env, ['HELIOS_LOG_LEVEL']);
  const logLevel = logLevelText === undefined ? defaults.logLevel : parseLevel(logLevelText);
  if (logLevel === undefined) invalid('logLevel', 'one of trace, debug, info, warn, error, critical', logLevelText, options.logLevel === undefined ? 'HELIOS_LOG_LEVEL' : undefined);

  if (options.beforeSend !== undefined && typeof options.beforeSend !== 'function') invalid('beforeSend', 'a function', options.beforeSend, undefined);
  if (options.onDiagnostic !== undefined && typeof options.onDiagnostic !== 'function') invalid('onDiagnostic', 'a function', options.onDiagnostic, undefined);
  if (options.compression !== undefined && options.compression !== 'gzip' && options.compression !== 'none') invalid('compression', "'gzip' or 'none'", options.compression, undefined);

  const initialBackoffMs = numberOption('initialBackoffMs', options.initialBackoffMs, env, [], defaults.initialBackoffMs, { min: 1 });
  const maxBackoffMs = numberOption('maxBackoffMs', options.maxBackoffMs, env, [], defaults.maxBackoffMs, { min: 1 });
  if (maxBackoffMs < initialBackoffMs) {
    throw new HeliosSdkError('HLS_ERR_SDK_CONFIG_INVALID', `'maxBackoffMs' must not be less than 'initialBackoffMs' (${maxBackoffMs} < ${initialBackoffMs})`);
  }

  const resource: Attributes = {
    ...parseResourceAttributes(env['OTEL_RESOURCE_ATTRIBUTES']),
    'service.name': service,
    'telemetry.sdk.name': SDK_NAME,
    'telemetry.sdk.version': SDK_VERSION,
    'telemetry.sdk.language': 'nodejs',
  };
  if (environment !== undefined) resource['deployment.environment.name'] = environment;
  if (options.resourceAttributes !== undefined) {
    if (typeof options.resourceAttributes !== 'object' || options.resourceAttributes === null) invalid('resourceAttributes', 'an object', options.resourceAttributes, undefined);
    Object.assign(resource, options.resourceAttributes);
  }

  return {
    service,
    endpoint,
    otlpEndpoint,
    apiKey,
    disabled,
    resource,
    sampleRate: numberOption('sampleRate', options.sampleRate, env, ['HELIOS_SAMPLE_RATE'], defaults.sampleRate, { min: 0, max: 1 }),
    requestSampling: resolveRequestSampling(options.requestSampling, env, defaults.requestSampling!),
    beforeSend: options.beforeSend,
    logLevel,
    maxQueueSize: numberOption('maxQueueSize', options.maxQueueSize, env, ['HELIOS_MAX_QUEUE_SIZE'], defaults.maxQueueSize, { min: 1, integer: true }),
    maxBatchSize: numberOption('maxBatchSize', options.maxBatchSize, env, [], defaults.maxBatchSize, { min: 1, max: 10_000, integer: true }),
    flushIntervalMs: numberOption('flushIntervalMs', options.flushIntervalMs, env, ['HELIOS_FLUSH_INTERVAL_MS'], defaults.flushIntervalMs, { min: 1 }),
    compression: options.compression ?? defaults.compression,
    exportThread: booleanOption('exportThread', options.exportThread, env, ['HELIOS_EXPORT_THREAD'], defaults.exportThread),
    requestTimeoutMs: numberOption('requestTimeoutMs', options.requestTimeoutMs, env, [], defaults.requestTimeoutMs, { min: 1 }),
    initialBackoffMs,
    maxBackoffMs,
    shutdownTimeoutMs: numberOption('shutdownTimeoutMs', options.shutdownTimeoutMs, env, [], defaults.shutdownTimeoutMs, { min: 0 }),
    offlineBuffer: resolveOfflineBuffer(options.offlineBuffer, env),
    otel: resolveOtel(options.otel, env),
  };
}

function resolveRequestSampling(option: RequestSamplingOptions | false | undefined, env: Env, defaults: Required<RequestSamplingOptions>): ResolvedConfig['requestSampling'] {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== 'object' || option === null)) invalid('requestSampling', 'false or an object', option, undefined);
  for (const key of Object.keys(option ?? {})) {
    if (key !== 'maxEventsPerKey' && key !== 'intervalMs') {
      throw new HeliosSdkError('HLS_ERR_SDK_CONFIG_INVALID', `unknown option 'requestSampling.${key}'; valid options: maxEventsPerKey, intervalMs`);
    }
  }
  const text = env['HELIOS_REQUEST_SAMPLING']?.trim().toLowerCase();
  // An explicit options object wins over the environment's `off`, as every option wins over its variable.
  const off = text === 'off' || text === 'false' || text === '0';
  if (option === undefined && off) return undefined;
  return {
    maxEventsPerKey: numberOption('requestSampling.maxEventsPerKey', option?.maxEventsPerKey, env, off ? [] : ['HELIOS_REQUEST_SAMPLING'], defaults.maxEventsPerKey, { min: 2, integer: true }),
    intervalMs: numberOption('requestSampling.intervalMs', option?.intervalMs, env, [], defaults.intervalMs, { min: 10 }),
  };
}

function resolveOfflineBuffer(option: OfflineBufferOptions | false | undefined, env: Env): ResolvedOfflineBuffer | undefined {
  if (option === false) return undefined;
  const directory = stringOption('offlineBuffer.directory', option?.directory, env, ['HELIOS_OFFLINE_DIR']);
  if (directory === undefined) {
    if (option !== undefined) invalid('offlineBuffer.directory', 'a non-empty string', option.directory, undefined);
    return undefined;
  }
  const fsync = option?.fsync ?? 'always';
  if (fsync !== 'always' && fsync !== 'never') invalid('offlineBuffer.fsync', "'always' or 'never'", fsync, undefined);
  const maxBytes = numberOption('offlineBuffer.maxBytes', option?.maxBytes, {}, [], 64 * 1024 * 1024, { min: 1024, integer: true });
  const segmentBytes = numberOption('offlineBuffer.segmentBytes', option?.segmentBytes, {}, [], 1024 * 1024, { min: 1024, integer: true });
  if (segmentBytes > maxBytes) {
    throw new HeliosSdkError('HLS_ERR_SDK_CONFIG_INVALID', `'offlineBuffer.segmentBytes' must not be greater than 'offlineBuffer.maxBytes' (${segmentBytes} > ${maxBytes})`);
  }
  return { directory, maxBytes, segmentBytes, fsync };
}

function resolveOtel(option: OtelOptions | false | undefined, env: Env): ResolvedConfig['otel'] {
  if (option === false) return undefined;
  if (option === undefined && booleanOption('otel', undefined, env, ['OTEL_SDK_DISABLED'], false)) return undefined;
  return {
    instrumentations: option?.instrumentations,
    traces: option?.traces ?? true,
    metrics: option?.metrics ?? true,
    logs: option?.logs ?? true,
    metricExportIntervalMs: numberOption('otel.metricExportIntervalMs', option?.metricExportIntervalMs, env, ['OTEL_METRIC_EXPORT_INTERVAL'], 60_000, { min: 1 }),
  };
}
