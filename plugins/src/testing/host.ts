import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRegistry, newEventId, type HeliosEvent, type Incident, type Level, type Logger, type Registry } from '@helios/core';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import type { PluginHostOptions } from '../loader.js';
import { FIXTURE_T0, sampleIncident } from './fixtures.js';

/** One log line as the real logger writes it (pino JSON), parsed; `level` is the label. */
export interface LogRecord {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg?: string;
  [field: string]: unknown;
}

export interface RecordingLogger {
  /** A real pino logger (child(), levels, serializers all work) whose lines land in `records`. */
  logger: Logger;
  records: LogRecord[];
}

/** The host's logger, recording instead of writing to stderr, so a test can assert what a plugin logged. */
export function createRecordingLogger(level: LogRecord['level'] = 'trace'): RecordingLogger {
  const records: LogRecord[] = [];
  // The same pino that @helios/core's createLogger uses (its dependency, not ours), so the records are
  // exactly the lines `helios up` would write.
  const pino = createRequire(import.meta.resolve('@helios/core'))('pino') as (options: object, stream: { write(line: string): void }) => Logger;
  const logger = pino(
    { level, base: undefined, formatters: { level: (label: string) => ({ level: label }) } },
    { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) },
  );
  return { logger, records };
}

/**
 * Events that make the stored context of `sampleIncident()` real: 15 calm minutes of a `checkout` service,
 * then the incident's 5 minutes where `/api/payments` fails with DB_TIMEOUT. Deterministic (no randomness).
 */
export function fixtureEvents(incident: Incident = sampleIncident()): HeliosEvent[] {
  const { windowStart, windowEnd, service, tenant } = incident.anomaly;
  const events: HeliosEvent[] = [];
  const event = (timestamp: number, fields: Partial<HeliosEvent>): HeliosEvent => ({
    id: newEventId(), timestamp, service, tenant, level: 'INFO' as Level, message: 'request handled', kind: 'span',
    endpoint: '/api/cart', latency_ms: 45, status_code: 200, error_code: null, trace_id: null, span_id: null, sample_rate: 1, attributes: {}, resource: {},
    ...fields,
  });
  let i = 0;
  // Baseline: two requests per second, one in a hundred failing.
  for (let t = windowStart - 900_000; t < windowStart; t += 500, i++) {
    const failing = i % 100 === 0;
    events.push(event(t, failing
      ? { level: 'ERROR', message: 'upstream returned 502', endpoint: '/api/cart', latency_ms: 120, status_code: 502, error_code: 'UPSTREAM_502' }
      : { endpoint: i % 3 === 0 ? '/api/payments' : '/api/cart', latency_ms: 40 + (i % 11) }));
  }
  // The incident: payments time out on the database.
  for (let t = windowStart; t < windowEnd; t += 500, i++) {
    const failing = i % 3 === 0;
    events.push(event(t, failing
      ? { level: 'ERROR', message: 'database connection timeout after 5000 ms', endpoint: '/api/payments', latency_ms: 2000 + (i % 400), status_code: 503, error_code: 'DB_TIMEOUT', trace_id: (i * 7919).toString(16).padStart(32, '0') }
      : { endpoint: '/api/cart', latency_ms: 40 + (i % 13) }));
  }
  return events;
}

export interface SeededStoreOptions {
  /** Events to store; default `fixtureEvents()`. */
  events?: readonly HeliosEvent[];
  /** Incidents whose anomalies are stored too; default `[sampleIncident()]`. */
  incidents?: readonly Incident[];
}

/**
 * The real SQL store on an in-memory PGlite (PostgreSQL in WASM), migrated and seeded, so a plugin's
 * queries run against the same SQL as in production. Close it when done.
 */
export async function createSeededStore(options: SeededStoreOptions = {}): Promise<Store> {
  const store = createSqlStore(await createPgliteClient(), {});
  try {
    await store.migrate();
    const incidents = options.incidents ?? [sampleIncident()];
    await store.insertEvents(options.events ?? fixtureEvents(incidents[0]));
    await store.insertAnomalies(incidents.map((i) => i.anomaly));
    await store.maintain({ now: FIXTURE_T0 + 3_600_000 });
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}

export interface TestHost {
  /** Pass to `loadPlugin` or as `checkPluginConformance(..., { host })`. */
  host: PluginHostOptions;
  /** Everything the plugin logged (through `ctx.logger`) and the host logged about it. */
  logs: LogRecord[];
  /** The registry plugins register their metrics in; `await metrics.metrics()` is the /metrics text. */
  metrics: Registry;
  store: Store;
  close(): Promise<void>;
}

/**
 * A host context that behaves like the one `helios up` gives plugins: a real logger (recording), a fresh
 * Prometheus registry, the real store seeded from the fixtures (also behind `ctx.state`), and a temporary
 * data folder.
 */
export async function createTestHost(overrides: Partial<PluginHostOptions> & SeededStoreOptions = {}): Promise<TestHost> {
  const { events, incidents, ...hostOverrides } = overrides;
  const { logger, records } = createRecordingLogger();
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const store = await createSeededStore({ events, incidents });
  const host: PluginHostOptions = {
    baseDir: process.cwd(), logger, metrics, store, detectorState: store, timeoutMs: 5000,
    dataDir: mkdtempSync(join(tmpdir(), 'helios-plugin-test-')),
    ...hostOverrides,
  };
  return { host, logs: records, metrics, store, close: () => store.close() };
}
