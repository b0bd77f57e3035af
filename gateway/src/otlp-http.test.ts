import { gzipSync } from 'node:zlib';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter as OTLPTraceJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeliosEvent } from '@helios/core';
import { startHarness, type Harness } from './harness.fixture.js';
import { sampleLogs, sampleMetrics, sampleTraces, SAMPLE_TRACE_ID } from './otlp/otel-sdk.fixture.js';
import { decodeProto, encodeProto, hexBytes, protoTypes } from './otlp/proto-codec.fixture.js';

const Status = protobuf.Root.fromJSON({
  nested: { Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } } },
}).lookupType('Status');
const readStatus = (bytes: ArrayBuffer) => Status.toObject(Status.decode(new Uint8Array(bytes))) as { code: number; message: string };

/** An exporter's export() as a promise of its ExportResult. */
function exportWith<T>(exporter: { export(items: T, done: (result: ExportResult) => void): void }, items: T): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

/** Wait until the bus delivered events matching `pick` (consumption is asynchronous). */
async function delivered(h: Harness, pick: (e: HeliosEvent) => boolean, count: number): Promise<HeliosEvent[]> {
  await h.bus.drain(5000);
  const found = h.received.filter(pick);
  expect(found).toHaveLength(count);
  return found;
}

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

describe.each(['uws', 'node'] as const)('OTLP/HTTP over %s with the OpenTelemetry JS exporters', (transport) => {
  let h: Harness;
  let otlpUrl: string;
  beforeAll(async () => {
    h = await startHarness(transport, { otlpPort: 0, maxEventsPerRequest: 1000, auth: { enabled: true, keys: [{ key: 'otel-key-123', tenant: 'acme' }] } }, { metricsConfig: { keys: ['scrape-key-123'] } });
    otlpUrl = `http://127.0.0.1:${h.otlpPort!}`;
  });
  afterAll(() => h.gateway.stop());
  const headers = { authorization: 'Bearer otel-key-123' };

  it('takes traces from the OTLP/HTTP JSON exporter on the OTLP port', async () => {
    const { spans } = await sampleTraces();
    const exporter = new OTLPTraceJsonExporter({ url: `${otlpUrl}/v1/traces`, headers });
    const result = await exportWith(exporter, spans);
    expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
    const events = await delivered(h, (e) => e.kind === 'span' && e.service === 'checkout' && e.attributes['via'] === undefined, 3);
    const db = events.find((e) => e.message === 'SELECT orders')!;
    expect(db).toMatchObject({ tenant: 'acme', level: 'ERROR', latency_ms: 30.5, error_code: 'DB_TIMEOUT' });
    expect(events.find((e) => e.message === 'GET /api/orders/:id')).toMatchObject({ endpoint: '/api/orders/:id', status_code: 200, level: 'INFO', latency_ms: 42.25 });
  });

  it('takes gzip protobuf traces from the -otlp-proto exporter on the main port', async () => {
    const { spans } = await sampleTraces();
    const exporter = new OTLPTraceProtoExporter({ url: `${h.url}/v1/traces`, headers, compression: 'gzip' as never });
    const result = await exportWith(exporter, spans);
    expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
    const unavailable = await delivered(h, (e) => e.message === 'POST /api/pay', 2); // once by JSON above, once now
    expect(unavailable[1]).toMatchObject({ kind: 'span', level: 'ERROR', status_code: 503, latency_ms: 0.75, tenant: 'acme' });
  });

  it('takes logs from the logs exporter', async () => {
    const { records } = await sampleLogs();
    const exporter = new OTLPLogExporter({ url: `${otlpUrl}/v1/logs`, headers });
    const result = await exportWith(exporter, records);
    expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
    const logs = await delivered(h, (e) => e.kind === 'log' && e.service === 'payments', 4);
    expect(logs.find((e) => e.message === 'card declined')).toMatchObject({ level: 'ERROR', endpoint: '/api/pay', status_code: 402, trace_id: SAMPLE_TRACE_ID, tenant: 'acme' });
  });

  it('takes metrics from the metrics exporter', async () => {
    const { resourceMetrics } = await sampleMetrics();
    const exporter = new OTLPMetricExporter({ url: `${otlpUrl}/v1/metrics`, headers });
    const result = await exportWith(exporter, resourceMetrics);
    expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
    // Two counter points (by status), a gauge, a histogram, an exponential histogram.
    const points = await delivered(h, (e) => e.kind === 'metric', 5);
    expect(points.filter((e) => e.message === 'http.requests').map((e) => e.attributes['metric.value']).sort()).toEqual([2, 3]);
    expect(points.find((e) => e.message === 'http.server.request.duration')).toMatchObject({ latency_ms: 30, endpoint: '/api/orders', service: 'unknown_service' });
  });

  it('counts OTLP events in helios_events_ingested_total and the ingestion latency by signal', async () => {
    const text = await (await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer scrape-key-123' } })).text();
    expect(text).toMatch(/helios_events_ingested_total\{service="payments",level="ERROR"\} 1\b/);
    expect(text).toMatch(/helios_events_ingested_total\{service="checkout",level="ERROR"\} 4\b/);
    expect(text).toMatch(/helios_ingestion_latency_seconds_count\{route="traces"\} 2\b/);
  });

  it('refuses without an API key: 401 with a Status body in the request encoding', async () => {
    const res = await fetch(`${h.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(readStatus(await res.arrayBuffer())).toMatchObject({ code: 16, message: expect.stringMatching(/^HLS_ERR_UNAUTHORIZED: /) });
  });
});

describe('OTLP/HTTP status codes and bodies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('uws', { maxEventsPerRequest: 5, maxBodyBytes: 16 * 1024, maxInflatedBytes: 64 * 1024 });
  });
  afterAll(() => h.gateway.stop());
  const send = (path: string, body: Uint8Array | string, contentType: string, extra: Record<string, string> = {}) =>
    fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...extra }, body });
  const span = (fields: Record<string, unknown>) => ({
    traceId: hexBytes(TRACE_ID), spanId: hexBytes(SPAN_ID), name: 'op', startTimeUnixNano: '1714564800123456789', endTimeUnixNano: '1714564800200000000', ...fields,
  });
  const traceRequest = (spans: Record<string, unknown>[]) =>
    encodeProto(protoTypes.traceRequest, { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ spans }] }] });

  it('answers 200 with an empty Export response on full success, in either encoding', async () => {
    const proto = await send('/v1/traces', traceRequest([span({})]), 'application/x-protobuf');
    expect(proto.status).toBe(200);
    expect(proto.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await proto.arrayBuffer()).byteLength).toBe(0);
    const json = await send('/v1/traces', JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE_ID, spanId: SPAN_ID, name: 'j', startTimeUnixNano: '1714564800123456789' }] }] }] }), 'application/json; charset=utf-8');
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(await json.json()).toEqual({});
  });

  it('answers partial success when some records are rejected, and publishes the rest', async () => {
    const res = await send('/v1/traces', traceRequest([span({ name: 'kept' }), span({ name: 'bad', spanId: hexBytes('abcd') })]), 'application/x-protobuf');
    expect(res.status).toBe(200);
    const body = decodeProto(protoTypes.traceResponse, new Uint8Array(await res.arrayBuffer())) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(body.partialSuccess.rejectedSpans).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/spanId/);
    await h.bus.drain(5000);
    expect(h.received.filter((e) => e.message === 'kept')).toHaveLength(1);
    expect(h.received.filter((e) => e.message === 'bad')).toHaveLength(0);
  });

  it('answers 400 for bad data with google.rpc.Status in the request encoding', async () => {
    const proto = await send('/v1/logs', Uint8Array.from([0x0a, 0x05, 0x01]), 'application/x-protobuf');
    expect(proto.status).toBe(400);
    expect(readStatus(await proto.arrayBuffer())).toMatchObject({ code: 3, message: expect.stringMatching(/^HLS_ERR_BODY_MALFORMED: resourceLogs\[0\]/) });
    const json = await send('/v1/metrics', '{"resourceMetrics": 7}', 'application/json');
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ code: 3, message: expect.stringMatching(/^HLS_ERR_BODY_MALFORMED: resourceMetrics/) });
    const gzipGarbage = await send('/v1/traces', 'not gzip at all', 'application/x-protobuf', { 'content-encoding': 'gzip' });
    expect(gzipGarbage.status).toBe(400);
  });

  it('answers 415 for content types that are not OTLP, and 405 for GET', async () => {
    const res = await send('/v1/traces', 'x', 'text/plain');
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 3, message: expect.stringMatching(/^HLS_ERR_UNSUPPORTED_MEDIA_TYPE: /) });
    expect((await send('/v1/traces', 'x', 'application/x-protobuf', { 'content-encoding': 'br' })).status).toBe(415);
    expect((await fetch(`${h.url}/v1/traces`)).status).toBe(405);
  });

  it('answers 413 over the body, inflated-size and records-per-request limits', async () => {
    expect((await send('/v1/traces', new Uint8Array(20 * 1024), 'application/x-protobuf')).status).toBe(413);
    const bomb = await send('/v1/traces', gzipSync(Buffer.alloc(1024 * 1024)), 'application/x-protobuf', { 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    expect(readStatus(await bomb.arrayBuffer()).message).toMatch(/^HLS_ERR_BODY_TOO_LARGE: inflated body exceeds/);
    const many = await send('/v1/traces', traceRequest(Array.from({ length: 6 }, () => span({}))), 'application/x-protobuf');
    expect(many.status).toBe(413);
    expect(readStatus(await many.arrayBuffer()).message).toMatch(/^HLS_ERR_TOO_MANY_EVENTS/);
  });

  it('answers 429 with Retry-After and RESOURCE_EXHAUSTED when the bus is full, 503 while stopping', async () => {
    const full = await startHarness('node', {}, { capacity: 1, consume: false });
    try {
      expect((await fetch(`${full.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: traceRequest([span({})]) })).status).toBe(200);
      const res = await fetch(`${full.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: traceRequest([span({})]) });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(readStatus(await res.arrayBuffer())).toMatchObject({ code: 8, message: expect.stringMatching(/^HLS_ERR_BUS_FULL/) });
    } finally {
      await full.gateway.stop();
    }
    const stopping = await startHarness('uws');
    const stopped = stopping.gateway.stop();
    const res = await stopping.gateway.handle({ method: 'POST', path: '/v1/logs', query: '', headers: { 'content-type': 'application/json', 'content-encoding': '', authorization: '', 'x-api-key': '' }, body: Buffer.from('{}') });
    await stopped;
    expect(res.status).toBe(503);
    expect(res.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(Buffer.from(res.body as Uint8Array).toString())).toMatchObject({ code: 14 });
  });
});
