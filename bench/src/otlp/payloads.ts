/**
 * Realistic OTLP requests for the decoder bench, made the way exporters make them: recorded through
 * the OpenTelemetry JS SDK and serialized by @opentelemetry/otlp-transformer (the exporters' own
 * serializer). Attribute sets follow the HTTP semantic conventions an instrumented web service emits.
 */
import { ROOT_CONTEXT, SeverityNumber, SpanKind, SpanStatusCode, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';

export interface OtlpPayload {
  /** Records in the request (spans or log records). */
  records: number;
  protobuf: Uint8Array;
  json: Uint8Array;
}

const RESOURCE: Attributes = {
  'service.name': 'checkout',
  'service.version': '2.14.0',
  'service.instance.id': '8f0c9a52-4b1e-4c57-9a0e-1f2b3c4d5e6f',
  'deployment.environment.name': 'production',
  'host.name': 'ip-10-0-3-17.eu-west-1.compute.internal',
  'host.arch': 'amd64',
  'os.type': 'linux',
  'process.pid': 4821,
  'process.runtime.name': 'nodejs',
  'process.runtime.version': '20.20.2',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '3.1.1',
};

const ROUTES = ['/api/orders/:id', '/api/cart', '/api/pay', '/api/users/:id/profile', '/healthz'];
const START: HrTime = [1714564800, 123456789];
const at = (offsetMs: number): HrTime => {
  const nanos = START[1] + Math.round((offsetMs % 1000) * 1e6);
  return [START[0] + Math.floor(offsetMs / 1000) + Math.floor(nanos / 1e9), nanos % 1e9];
};

function required(bytes: Uint8Array | undefined): Uint8Array {
  if (bytes === undefined) throw new Error('serializer returned nothing');
  return bytes;
}

/** `count` HTTP server spans, ~10 attributes each, a few of them failing. */
export async function httpServerSpans(count: number): Promise<OtlpPayload> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resourceFromAttributes(RESOURCE), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-http', '0.57.0');
  for (let i = 0; i < count; i++) {
    const route = ROUTES[i % ROUTES.length];
    const status = i % 17 === 0 ? 503 : i % 7 === 0 ? 404 : 200;
    const span = tracer.startSpan(`GET ${route}`, {
      kind: SpanKind.SERVER,
      startTime: at(i * 13),
      attributes: {
        'http.request.method': 'GET',
        'http.route': route,
        'url.path': route.replace(':id', String(1000 + i)),
        'url.scheme': 'https',
        'server.address': 'shop.example.com',
        'server.port': 443,
        'network.protocol.version': '1.1',
        'client.address': `10.0.${i % 250}.${(i * 7) % 250}`,
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
        'http.response.status_code': status,
      },
    });
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream unavailable' });
    span.end(at(i * 13 + 2 + (i % 40)));
  }
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  return { records: spans.length, protobuf: required(ProtobufTraceSerializer.serializeRequest(spans)), json: required(JsonTraceSerializer.serializeRequest(spans)) };
}

/** `count` application log records with trace context and ~5 attributes. */
export async function applicationLogs(count: number): Promise<OtlpPayload> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(RESOURCE), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('checkout-app', '2.14.0');
  for (let i = 0; i < count; i++) {
    const failed = i % 11 === 0;
    logger.emit({
      timestamp: at(i * 5),
      severityNumber: failed ? SeverityNumber.ERROR : SeverityNumber.INFO,
      severityText: failed ? 'ERROR' : 'INFO',
      body: failed ? `payment capture failed for order ${5000 + i}: gateway timeout after 3 retries` : `order ${5000 + i} moved to state shipped by worker 3`,
      attributes: {
        'http.route': ROUTES[i % ROUTES.length],
        'http.response.status_code': failed ? 504 : 200,
        'enduser.id': `user-${i % 97}`,
        'code.function': 'OrderService.transition',
        ...(failed ? { 'exception.type': 'GatewayTimeout' } : {}),
      },
      context: trace.setSpanContext(ROOT_CONTEXT, {
        traceId: (i + 1).toString(16).padStart(32, 'a'),
        spanId: (i + 1).toString(16).padStart(16, 'b'),
        traceFlags: 1,
      }),
    });
  }
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  return { records: records.length, protobuf: required(ProtobufLogsSerializer.serializeRequest(records)), json: required(JsonLogsSerializer.serializeRequest(records)) };
}
