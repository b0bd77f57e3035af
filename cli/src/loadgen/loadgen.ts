import { gzipSync } from 'node:zlib';
import { seededRandom } from '@helios/core';
import { ProtoWriter } from './proto-writer.js';

/**
 * A load generator for the gateway (also `helios loadgen`): Helios JSON (one event or batches), OTLP/JSON
 * or OTLP protobuf logs, bodies built before the clock starts (a rotation of distinct payloads), sent
 * over keep-alive connections as fast as possible or at a fixed overall rate. Latency is measured
 * from each request's write (at a fixed rate a stalled server therefore also shows as a lower
 * achieved rate: compare it with the target).
 */

export type LoadFormat = 'helios' | 'otlp-json' | 'otlp-proto';

export interface LoadOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  format: LoadFormat;
  /** Target requests per second; 0 sends as fast as the connections allow. */
  rate: number;
  durationMs: number;
  connections: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining); 1 unless given. */
  pipelining?: number;
  /** Events (Helios events or OTLP log records) per request. */
  batchSize: number;
  /** Distinct service names the events spread over. */
  services: number;
  /** Fraction of events sent as errors (level ERROR / severity 17, status 500). */
  errorRate: number;
  apiKey?: string;
  gzip?: boolean;
  /** Distinct bodies rotated through (default 64). */
  distinctBodies?: number;
  /** Called about once a second with the running totals (a live counter for the CLI). */
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  elapsedSeconds: number;
  requests: number;
  /** Requests answered 2xx so far. */
  accepted: number;
  /** Requests answered otherwise, or not at all. */
  failed: number;
}

export interface LoadReport {
  format: LoadFormat;
  requests: number;
  events: number;
  seconds: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  /** Events in 2xx answers only, per second. */
  acceptedEventsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Requests that got no HTTP answer, and connection attempts that failed. */
  errors: number;
  statuses: Record<string, number>;
}


const ENDPOINTS = ['/api/orders/:id', '/api/payments', '/api/cart', '/api/search'];

interface SampleEvent {
  service: string;
  error: boolean;
  endpoint: string;
  latencyMs: number;
  timestampMs: number;
}

function sampleEvents(random: () => number, options: LoadOptions, now: number): SampleEvent[] {
  return Array.from({ length: options.batchSize }, () => {
    const error = random() < options.errorRate;
    return {
      service: `service-${Math.floor(random() * options.services)}`,
      error,
      endpoint: ENDPOINTS[Math.floor(random() * ENDPOINTS.length)]!,
      latencyMs: Math.round((error ? 800 : 40) * (0.5 + random()) * 10) / 10,
      timestampMs: now - Math.floor(random() * 1000),
    };
  });
}

/** One Helios JSON event of about 180 bytes, the size the reference figures use. */
function heliosEvent(e: SampleEvent): Record<string, unknown> {
  return {
    service: e.service, level: e.error ? 'ERROR' : 'INFO', message: e.error ? 'upstream returned 500 (timeout)' : `${e.endpoint} served`,
    timestamp: e.timestampMs, metadata: { latency_ms: e.latencyMs, endpoint: e.endpoint, status_code: e.error ? 500 : 200 },
  };
}

function otlpJsonLogs(events: SampleEvent[]): Record<string, unknown> {
  const byService = new Map<string, SampleEvent[]>();
  for (const e of events) byService.set(e.service, [...(byService.get(e.service) ?? []), e]);
  return {
    resourceLogs: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{
        scope: { name: 'helios-loadgen' },
        logRecords: list.map((e) => ({
          timeUnixNano: `${e.timestampMs}000000`,
          severityNumber: e.error ? 17 : 9,
          severityText: e.error ? 'ERROR' : 'INFO',
          body: { stringValue: e.error ? 'upstream returned 500 (timeout)' : `${e.endpoint} served` },
          attributes: [
            { key: 'http.route', value: { stringValue: e.endpoint } },
            { key: 'http.response.status_code', value: { intValue: String(e.error ? 500 : 200) } },
          ],
        })),
      }],
    })),
  };
}


const keyValue = (key: string, value: ProtoWriter): number[] => new ProtoWriter().string(1, key).message(2, value.finish()).finish();

function otlpProtoLogs(events: SampleEvent[]): Uint8Array {
  const request = new ProtoWriter();
  const byService = new Map<string, SampleEvent[]>();
  for (const e of events) byService.set(e.service, [...(byService.get(e.service) ?? []), e]);
  for (const [service, list] of byService) {
    const resource = new ProtoWriter().message(1, keyValue('service.name', new ProtoWriter().string(1, service)));
    const scopeLogs = new ProtoWriter().message(1, new ProtoWriter().string(1, 'helios-loadgen').finish());
    for (const e of list) {
      const record = new ProtoWriter()
        .fixed64(1, BigInt(e.timestampMs) * 1_000_000n)
        .tag(2, 0).varint(e.error ? 17 : 9)
        .string(3, e.error ? 'ERROR' : 'INFO')
        .message(5, new ProtoWriter().string(1, e.error ? 'upstream returned 500 (timeout)' : `${e.endpoint} served`).finish())
        .message(6, keyValue('http.route', new ProtoWriter().string(1, e.endpoint)))
        .message(6, keyValue('http.response.status_code', new ProtoWriter().tag(3, 0).varint(e.error ? 500 : 200)));
      scopeLogs.message(2, record.finish());
    }
    request.message(1, new ProtoWriter().message(1, resource.finish()).message(2, scopeLogs.finish()).finish());
  }
  return Uint8Array.from(request.finish());
}

export interface PreparedRequest {
  path: string;
  headers: Record<string, string>;
  bodies: Uint8Array[];
}

/** The request bodies and headers for a run, built once. */
export function prepareRequests(options: LoadOptions): PreparedRequest {
  const random = seededRandom(42);
  const now = Date.now();
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < (options.distinctBodies ?? 64); i++) {
    const events = sampleEvents(random, options, now);
    let body: Uint8Array;
    if (options.format === 'helios') body = Buffer.from(JSON.stringify(options.batchSize === 1 ? heliosEvent(events[0]!) : events.map(heliosEvent)));
    else if (options.format === 'otlp-json') body = Buffer.from(JSON.stringify(otlpJsonLogs(events)));
    else body = otlpProtoLogs(events);
    bodies.push(options.gzip === true ? gzipSync(body, { level: 1 }) : body);
  }
  const headers: Record<string, string> = { 'content-type': options.format === 'otlp-proto' ? 'application/x-protobuf' : 'application/json' };
  if (options.gzip === true) headers['content-encoding'] = 'gzip';
  if (options.apiKey !== undefined) headers['authorization'] = `Bearer ${options.apiKey}`;
  return { path: options.format === 'helios' ? '/api/v1/events' : '/v1/logs', headers, bodies };
}
