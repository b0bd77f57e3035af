/**
 * Test payloads made the way real clients make them: telemetry recorded through the OpenTelemetry
 * JS SDKs, serialized by @opentelemetry/otlp-transformer (the serializer the OTLP exporters use).
 * Test-only (devDependencies); not exported from the package.
 */
import { SeverityNumber, SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';

/** 2024-05-01T12:00:00.123456789Z as HrTime and in its parts. */
export const BASE_SECONDS = 1714564800;
export const BASE_NANOS = 123456789;
export const BASE_MS = BASE_SECONDS * 1000 + 123;
const at = (offsetNanos: number): HrTime => {
  const nanos = BASE_NANOS + offsetNanos;
  return [BASE_SECONDS + Math.floor(nanos / 1e9), nanos % 1e9];
};

export interface Payload {
  protobuf: Uint8Array;
  json: Uint8Array;
}

function serialized(protobuf: Uint8Array | undefined, json: Uint8Array | undefined): Payload {
  if (protobuf === undefined || json === undefined) throw new Error('serializer returned nothing');
  return { protobuf, json };
}

/** Spans recorded through the SDK (its processors export asynchronously, hence the flush). */
export async function recordSpans(resourceAttributes: Attributes, record: (tracer: ReturnType<TracerProvider['getTracer']>) => void): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resourceFromAttributes(resourceAttributes), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  record(provider.getTracer('checkout-instrumentation', '1.2.3'));
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

export function spansPayload(spans: ReadableSpan[]): Payload {
  return serialized(ProtobufTraceSerializer.serializeRequest(spans), JsonTraceSerializer.serializeRequest(spans));
}

/** Three spans: an HTTP server span (parent), a failing DB client span (child), a 503 server span. */
export async function sampleTraces(): Promise<{ spans: ReadableSpan[]; payload: Payload }> {
  const spans = await recordSpans({ 'service.name': 'checkout', 'service.version': '2.0.1', 'host.cpus': 4, 'deployment.tags': ['a', 'b'] }, (tracer) => {
    const server = tracer.startSpan('GET /api/orders/:id', {
      kind: SpanKind.SERVER,
      startTime: at(0),
      attributes: { 'http.route': '/api/orders/:id', 'url.path': '/api/orders/42', 'http.response.status_code': 200, 'http.request.method': 'GET' },
    });
    const child = tracer.startSpan(
      'SELECT orders',
      { kind: SpanKind.CLIENT, startTime: at(1_000_000), attributes: { 'db.system': 'postgresql', 'error.type': 'DB_TIMEOUT' } },
      trace.setSpan(ROOT_CONTEXT, server),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'statement timeout' });
    child.end(at(31_500_000));
    server.end(at(42_250_000));
    const unavailable = tracer.startSpan('POST /api/pay', {
      kind: SpanKind.SERVER,
      startTime: at(100_000_000),
      attributes: { 'http.route': '/api/pay', 'http.status_code': 503 },
    });
    unavailable.end(at(100_750_000));
  });
  return { spans, payload: spansPayload(spans) };
}

export async function recordLogs(resourceAttributes: Attributes, emit: (logger: ReturnType<LoggerProvider['getLogger']>) => void): Promise<ReadableLogRecord[]> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resourceAttributes), processors: [new SimpleLogRecordProcessor({ exporter })] });
  emit(provider.getLogger('payments-logger', '0.9.0'));
  await provider.forceFlush();
  return exporter.getFinishedLogRecords();
}

export function logsPayload(records: ReadableLogRecord[]): Payload {
  return serialized(ProtobufLogsSerializer.serializeRequest(records), JsonLogsSerializer.serializeRequest(records));
}

export const SAMPLE_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const SAMPLE_SPAN_ID = 'b7ad6b7169203331';

/** Four log records: one in a span context, a structured body, text-only severity, no timestamp. */
export async function sampleLogs(): Promise<{ records: ReadableLogRecord[]; payload: Payload }> {
  const spanContext = trace.setSpanContext(ROOT_CONTEXT, { traceId: SAMPLE_TRACE_ID, spanId: SAMPLE_SPAN_ID, traceFlags: 1 });
  const records = await recordLogs({ 'service.name': 'payments' }, (logger) => {
    logger.emit({
      timestamp: at(0),
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: 'card declined',
      attributes: { 'http.route': '/api/pay', 'http.response.status_code': 402, 'exception.type': 'CardDeclined' },
      context: spanContext,
    });
    logger.emit({ timestamp: at(5_000_000), severityNumber: SeverityNumber.DEBUG2, body: { step: 'capture', attempt: 2, ok: false } });
    logger.emit({ timestamp: at(6_000_000), severityText: 'warning', body: 'retrying' });
    logger.emit({ observedTimestamp: at(7_000_000), body: 42 });
  });
  return { records, payload: logsPayload(records) };
}

/** A MetricReader the test drives by hand (`collect()`); the SDK's in-memory exporter needs a timer. */
class ManualMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A counter, a gauge, a duration histogram in ms, an exponential histogram in s; resource without service.name. */
export async function sampleMetrics(): Promise<{ resourceMetrics: ResourceMetrics; payload: Payload }> {
  const reader = new ManualMetricReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'host.name': 'node-1' }),
    readers: [reader],
    views: [{ instrumentName: 'rpc.duration', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('orders-meter');
  const requests = meter.createCounter('http.requests', { unit: '{request}' });
  requests.add(3, { 'http.route': '/api/orders', 'http.response.status_code': 200 });
  requests.add(2, { 'http.route': '/api/orders', 'http.response.status_code': 500, 'error.type': '500' });
  meter.createGauge('queue.depth', { unit: '{item}' }).record(7.5, { queue: 'emails' });
  const duration = meter.createHistogram('http.server.request.duration', { unit: 'ms' });
  for (const value of [10, 20, 60]) duration.record(value, { 'http.route': '/api/orders' });
  const rpc = meter.createHistogram('rpc.duration', { unit: 's' });
  rpc.record(0.5);
  rpc.record(1.5);
  const collected = await reader.collect();
  await provider.shutdown();
  const resourceMetrics = collected.resourceMetrics;
  return {
    resourceMetrics,
    payload: serialized(ProtobufMetricsSerializer.serializeRequest(resourceMetrics), JsonMetricsSerializer.serializeRequest(resourceMetrics)),
  };
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const asJson = (payload: Uint8Array): Record<string, unknown> => JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
