import { Client, credentials, Metadata, status as GrpcCodes, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { startHarness, type Harness } from '../harness.fixture.js';
import { decodeProto, encodeProto, hexBytes, protoTypes } from '../otlp/proto-codec.fixture.js';
import { OTLP_GRPC_METHODS } from './status.js';

const TRACES = [...OTLP_GRPC_METHODS].find(([, s]) => s === 'traces')![0];
const LOGS = [...OTLP_GRPC_METHODS].find(([, s]) => s === 'logs')![0];
const METRICS = [...OTLP_GRPC_METHODS].find(([, s]) => s === 'metrics')![0];

/** google.rpc.Status with Any details, and RetryInfo, read back with an independent decoder. */
const rpc = protobuf.Root.fromJSON({
  nested: {
    Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } } },
    Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
    RetryInfo: { fields: { retry_delay: { type: 'Duration', id: 1 } } },
  },
});

interface CallOutcome {
  error: ServiceError | null;
  response: Buffer | undefined;
}

function exportCall(client: Client, method: string, body: Uint8Array, metadata: Record<string, string> = {}): Promise<CallOutcome> {
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const identity = (b: Buffer) => b;
  return new Promise((resolve) => client.makeUnaryRequest(method, identity, identity, Buffer.from(body), md, {}, (error, response) => resolve({ error, response })));
}

function retryDelaySeconds(error: ServiceError): number | undefined {
  const details = error.metadata.get('grpc-status-details-bin')[0];
  if (!(details instanceof Buffer)) return undefined;
  const status = rpc.lookupType('Status').toObject(rpc.lookupType('Status').decode(details), { longs: Number }) as { code: number; details: { type_url: string; value: Uint8Array }[] };
  const any = status.details.find((d) => d.type_url === 'type.googleapis.com/google.rpc.RetryInfo');
  if (any === undefined) return undefined;
  const info = rpc.lookupType('RetryInfo').toObject(rpc.lookupType('RetryInfo').decode(any.value), { longs: Number }) as { retry_delay: { seconds: number } };
  return info.retry_delay.seconds;
}

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

function traceRequest(service: string, spans: ReadonlyArray<{ traceId: string; spanId: string; name: string; startMs: number; durationMs: number }>): Uint8Array {
  return encodeProto(protoTypes.traceRequest, {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'grpc-test' }, spans: spans.map((s) => ({ traceId: hexBytes(s.traceId), spanId: hexBytes(s.spanId), name: s.name, kind: 2, startTimeUnixNano: String(BigInt(s.startMs) * 1_000_000n), endTimeUnixNano: String(BigInt(s.startMs + s.durationMs) * 1_000_000n) })) }],
    }],
  });
}

describe('OTLP/gRPC receiver (@grpc/grpc-js client)', () => {
  let h: Harness;
  let client: Client;
  let gzipClient: Client;
  beforeAll(async () => {
    h = await startHarness('node', { otlpGrpcPort: 0, maxEventsPerRequest: 100_000, auth: { enabled: true, keys: [{ key: 'grpc-key-123', tenant: 'acme' }, { key: 'grpc-key-456', tenant: 'globex' }] } });
    client = new Client(`127.0.0.1:${h.otlpGrpcPort!}`, credentials.createInsecure());
    gzipClient = new Client(`127.0.0.1:${h.otlpGrpcPort!}`, credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
  });
  afterAll(async () => {
    client.close();
    gzipClient.close();
    await h.gateway.stop();
  });
  const auth = { authorization: 'Bearer grpc-key-123' };

  it('stores every generated span of an export with its fields, answering OK only once the bus took them', async () => {
    const span = fc.record({ traceId: fc.integer({ min: 1, max: 2 ** 31 }).map((n) => hex(n, 16)), spanId: fc.integer({ min: 1, max: 2 ** 31 }).map((n) => hex(n, 8)), name: fc.string({ minLength: 1, maxLength: 40 }), startMs: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }), durationMs: fc.integer({ min: 0, max: 100_000 }) });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(span, { minLength: 1, maxLength: 30, selector: (s) => s.spanId }), fc.boolean(), async (spans, gzip) => {
        const service = `gen-${run++}`;
        const { error, response } = await exportCall(gzip ? gzipClient : client, TRACES, traceRequest(service, spans), auth);
        expect(error).toBeNull();
        expect(response!.length).toBe(0); // full success: partial_success unset
        await h.bus.drain(5000);
        const stored = h.received.filter((e) => e.service === service);
        expect(stored).toHaveLength(spans.length);
        for (const s of spans) expect(stored.find((e) => e.span_id === s.spanId)).toMatchObject({ kind: 'span', tenant: 'acme', trace_id: s.traceId, message: s.name, timestamp: s.startMs, latency_ms: s.durationMs });
      }),
      { numRuns: 25 },
    );
  });

  it('takes logs and metrics on their services', async () => {
    const logs = encodeProto(protoTypes.logsRequest, { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'grpc-logs' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000000000000', severityNumber: 17, body: { stringValue: 'card declined' } }] }] }] });
    const metrics = encodeProto(protoTypes.metricsRequest, { resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'grpc-metrics' } }] }, scopeMetrics: [{ metrics: [{ name: 'queue.depth', gauge: { dataPoints: [{ timeUnixNano: '1700000000000000000', asInt: '7' }] } }] }] }] });
    expect((await exportCall(client, LOGS, logs, { 'x-api-key': 'grpc-key-456' })).error).toBeNull();
    expect((await exportCall(client, METRICS, metrics, { authorization: 'bearer grpc-key-123' })).error).toBeNull();
    await h.bus.drain(5000);
    expect(h.received.filter((e) => e.service === 'grpc-logs')).toMatchObject([{ kind: 'log', level: 'ERROR', message: 'card declined', tenant: 'globex' }]);
    expect(h.received.filter((e) => e.service === 'grpc-metrics')).toMatchObject([{ kind: 'metric', message: 'queue.depth', tenant: 'acme', attributes: { 'metric.value': 7 } }]);
  });

  it('gives a re-sent export the same ids (the store keeps one), and another tenant other ids', async () => {
    const request = traceRequest('retried', [{ traceId: hex(77, 16), spanId: hex(78, 8), name: 'GET /', startMs: 1_700_000_000_000, durationMs: 5 }]);
    for (const metadata of [auth, auth, { authorization: 'Bearer grpc-key-456' }]) expect((await exportCall(client, TRACES, request, metadata)).error).toBeNull();
    await h.bus.drain(5000);
    const copies = h.received.filter((e) => e.service === 'retried');
    expect(copies).toHaveLength(3);
    expect(copies[0]!.id).toBe(copies[1]!.id);
    expect(copies[2]!.id).not.toBe(copies[0]!.id);
    expect(copies[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('answers partial success for records it cannot translate, keeping the rest', async () => {
    const request = encodeProto(protoTypes.traceRequest, { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'partial' } }] }, scopeSpans: [{ spans: [
      { traceId: hexBytes(hex(5, 16)), spanId: hexBytes(hex(6, 8)), name: 'ok', startTimeUnixNano: '1700000000000000000' },
      { traceId: hexBytes('0102'), spanId: hexBytes(hex(7, 8)), name: 'bad id', startTimeUnixNano: '1700000000000000000' },
    ] }] }] });
    const { error, response } = await exportCall(client, TRACES, request, auth);
    expect(error).toBeNull();
    expect(decodeProto(protoTypes.traceResponse, response!)).toMatchObject({ partialSuccess: { rejectedSpans: '1', errorMessage: expect.stringContaining('traceId') } });
    await h.bus.drain(5000);
    expect(h.received.filter((e) => e.service === 'partial').map((e) => e.message)).toEqual(['ok']);
  });

  it('refuses with the OTLP status codes: UNAUTHENTICATED, INVALID_ARGUMENT (not retryable)', async () => {
    const noKey = await exportCall(client, TRACES, new Uint8Array(0));
    expect(noKey.error).toMatchObject({ code: GrpcCodes.UNAUTHENTICATED, details: expect.stringMatching(/^HLS_ERR_UNAUTHORIZED: /) });
    const wrongKey = await exportCall(client, TRACES, new Uint8Array(0), { authorization: 'Bearer not-a-key-at-all' });
    expect(wrongKey.error?.code).toBe(GrpcCodes.UNAUTHENTICATED);
    const garbage = await exportCall(client, TRACES, Uint8Array.from([0x0a, 0xff, 0xff, 0x01]), auth);
    expect(garbage.error).toMatchObject({ code: GrpcCodes.INVALID_ARGUMENT, details: expect.stringMatching(/^HLS_ERR_BODY_MALFORMED: /) });
    expect(retryDelaySeconds(garbage.error!)).toBeUndefined();
  });

  it('counts gRPC calls under their own routes', async () => {
    const text = await h.metrics.metrics();
    expect(text).toMatch(/helios_ingestion_latency_seconds_count\{route="grpc_traces"\} \d+/);
    expect(text).toMatch(/helios_http_requests_total\{route="grpc_logs",status="200"\} 1\b/);
  });
});

describe('OTLP/gRPC backpressure and shutdown', () => {
  it('answers RESOURCE_EXHAUSTED with RetryInfo (retryable) when the bus is full', async () => {
    const h = await startHarness('node', { otlpGrpcPort: 0, retryAfterSeconds: 3 }, { capacity: 2, consume: false });
    const client = new Client(`127.0.0.1:${h.otlpGrpcPort!}`, credentials.createInsecure());
    try {
      const three = traceRequest('full', [1, 2, 3].map((i) => ({ traceId: hex(i, 16), spanId: hex(i, 8), name: 'x', startMs: 1_700_000_000_000, durationMs: 1 })));
      const full = await exportCall(client, TRACES, three);
      expect(full.error?.code).toBe(GrpcCodes.RESOURCE_EXHAUSTED);
      expect(retryDelaySeconds(full.error!)).toBe(3);
    } finally {
      await h.gateway.stop();
      client.close();
    }
  });

  it('finishes a call in flight on stop (OK once the bus took it), then refuses new connections', async () => {
    const inner = createMemoryBus({ capacity: 1000 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const publishing = new Promise<void>((resolve) => (entered = resolve));
    // A bus that takes the records only when the test says so: the call is in flight meanwhile.
    const slowBus: Bus = { ...inner, publishSync: undefined, publish: async (topic, records) => { entered(); await held; return inner.publish(topic, records); } };
    const h = await startHarness('node', { otlpGrpcPort: 0 }, { bus: slowBus });
    const client = new Client(`127.0.0.1:${h.otlpGrpcPort!}`, credentials.createInsecure());
    try {
      const call = exportCall(client, TRACES, traceRequest('draining', [{ traceId: hex(9, 16), spanId: hex(9, 8), name: 'x', startMs: 1_700_000_000_000, durationMs: 1 }]));
      await publishing;
      const stopping = h.gateway.stop();
      release();
      expect((await call).error).toBeNull();
      await stopping;
      const late = new Client(`127.0.0.1:${h.otlpGrpcPort!}`, credentials.createInsecure());
      const refused = await exportCall(late, TRACES, new Uint8Array(0));
      late.close();
      expect(refused.error?.code).toBe(GrpcCodes.UNAVAILABLE);
      await h.bus.drain(5000);
      expect(h.received.filter((e) => e.service === 'draining')).toHaveLength(1);
    } finally {
      release();
      client.close();
      await h.gateway.stop();
    }
  });
});
