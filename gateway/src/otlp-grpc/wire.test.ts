import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Bus } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BLOCK, snappyFramed, zstdFrame } from '../content-encoding.fixture.js';
import { startHarness, type Harness } from '../harness.fixture.js';
import { encodeProto, hexBytes, protoTypes } from '../otlp/proto-codec.fixture.js';
import { GrpcStatus, OTLP_GRPC_METHODS } from './status.js';

/**
 * The receiver at the wire, with a bare HTTP/2 client: what no well-behaved gRPC library sends
 * (garbage frames, cut or doubled messages, unknown methods and encodings, bombs) and the encodings
 * Node's gRPC clients cannot produce (zstd, snappy). Every call must end with a gRPC status, never a
 * hang or a crash.
 */

const TRACES = [...OTLP_GRPC_METHODS].find(([, s]) => s === 'traces')![0];

interface RawAnswer {
  httpStatus: number;
  /** grpc-status from the trailers, or from the headers of a trailers-only answer. */
  grpcStatus: number | undefined;
  grpcMessage: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function rawCall(session: ClientHttp2Session, options: { path?: string; headers?: Record<string, string>; chunks: readonly Uint8Array[] }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': options.path ?? TRACES, 'content-type': 'application/grpc', te: 'trailers', ...options.headers });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const body: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (chunk: Buffer) => body.push(chunk));
    // The server may end the stream before the client finished sending (NO_ERROR after its answer).
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (headers[':status'] === undefined) return reject(new Error(`no answer (stream reset ${stream.rstCode})`));
      const status = trailers['grpc-status'] ?? headers['grpc-status'];
      const message = trailers['grpc-message'] ?? headers['grpc-message'];
      resolve({ httpStatus: Number(headers[':status']), grpcStatus: status === undefined ? undefined : Number(status), grpcMessage: decodeURIComponent(String(message ?? '')), headers, body: Buffer.concat(body) });
    });
    for (const chunk of options.chunks) stream.write(chunk);
    stream.end();
  });
}

/** A 5-byte length-prefixed gRPC message. */
function frame(message: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

const traceRequest = (service: string, spanCount = 1): Uint8Array =>
  encodeProto(protoTypes.traceRequest, {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ spans: Array.from({ length: spanCount }, (_, i) => ({ traceId: hexBytes((i + 1).toString(16).padStart(32, '0')), spanId: hexBytes((i + 1).toString(16).padStart(16, '0')), name: `span ${i}`, kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000005000000' })) }],
    }],
  });

describe('OTLP/gRPC at the wire (bare HTTP/2 client)', () => {
  let h: Harness;
  let session: ClientHttp2Session;
  beforeAll(async () => {
    h = await startHarness('node', { otlpGrpcPort: 0 });
    session = connect(`http://127.0.0.1:${h.otlpGrpcPort!}`);
  });
  afterAll(async () => {
    session.close();
    await h.gateway.stop();
  });

  it('takes zstd, snappy, gzip and deflate messages (grpc-encoding) and identity ones', async () => {
    const encodings: Record<string, (m: Uint8Array) => Uint8Array> = {
      zstd: (m) => zstdFrame([{ raw: m }]),
      // gRPC's snappy is the framing format (grpc-go, grpc-java); the block format is taken too, as over HTTP.
      snappy: (m) => snappyFramed([{ data: m, compressed: true }]),
      'snappy-block': (m) => snappy.compress(Buffer.from(m)),
      gzip: (m) => gzipSync(m),
      deflate: (m) => deflateSync(m),
    };
    for (const [encoding, compress] of Object.entries(encodings)) {
      const answer = await rawCall(session, { headers: { 'grpc-encoding': encoding.replace('-block', '') }, chunks: [frame(compress(traceRequest(`enc-${encoding}`, 3)), true)] });
      expect(answer, encoding).toMatchObject({ httpStatus: 200, grpcStatus: GrpcStatus.OK, body: Buffer.from([0, 0, 0, 0, 0]) });
    }
    // An encoding announced but the message sent uncompressed (flag 0) is taken as is, as gRPC allows.
    expect((await rawCall(session, { headers: { 'grpc-encoding': 'zstd' }, chunks: [frame(traceRequest('enc-identity', 2))] })).grpcStatus).toBe(GrpcStatus.OK);
    await h.bus.drain(5000);
    for (const service of ['enc-zstd', 'enc-snappy', 'enc-snappy-block', 'enc-gzip', 'enc-deflate']) expect(h.received.filter((e) => e.service === service), service).toHaveLength(3);
    expect(h.received.filter((e) => e.service === 'enc-identity')).toHaveLength(2);
  });

  it('answers unknown methods, encodings and codecs with UNIMPLEMENTED, non-gRPC requests with HTTP 415', async () => {
    const unknown = await rawCall(session, { path: '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export', chunks: [frame(new Uint8Array(0))] });
    expect(unknown).toMatchObject({ grpcStatus: GrpcStatus.UNIMPLEMENTED, grpcMessage: expect.stringContaining('unknown method') });
    const brotli = await rawCall(session, { headers: { 'grpc-encoding': 'br' }, chunks: [frame(new Uint8Array(3), true)] });
    expect(brotli.grpcStatus).toBe(GrpcStatus.UNIMPLEMENTED);
    expect(brotli.headers['grpc-accept-encoding']).toBe('identity,gzip,deflate,zstd,snappy');
    expect((await rawCall(session, { headers: { 'content-type': 'application/grpc+json' }, chunks: [frame(new Uint8Array(0))] })).grpcStatus).toBe(GrpcStatus.UNIMPLEMENTED);
    const notGrpc = await rawCall(session, { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from('{}')] });
    expect(notGrpc).toMatchObject({ httpStatus: 415, grpcStatus: undefined });
  });

  it('refuses malformed framing and grpc-timeout with INVALID_ARGUMENT naming the fault', async () => {
    const cases: Array<[string, Record<string, string>, Buffer[], RegExp]> = [
      ['no message', {}, [], /no request message/],
      ['cut prefix', {}, [Buffer.from([0, 0, 0])], /fewer than a message prefix/],
      ['cut message', {}, [frame(traceRequest('cut')).subarray(0, 20)], /announces \d+ bytes but 15 came/],
      ['two messages', {}, [frame(traceRequest('two')), frame(traceRequest('two'))], /a unary call carries one message/],
      ['bad flag', {}, [Buffer.from([7, 0, 0, 0, 0])], /compressed flag 7/],
      ['flag without encoding', {}, [frame(gzipSync(traceRequest('x')), true)], /no grpc-encoding/],
      ['bad timeout', { 'grpc-timeout': '10 seconds' }, [frame(traceRequest('t'))], /grpc-timeout/],
    ];
    for (const [name, headers, chunks, message] of cases) {
      const answer = await rawCall(session, { headers, chunks });
      expect(answer, name).toMatchObject({ httpStatus: 200, grpcStatus: GrpcStatus.INVALID_ARGUMENT, grpcMessage: expect.stringMatching(message) });
      expect(answer.grpcMessage, name).toMatch(/^HLS_ERR_BODY_MALFORMED: /);
    }
    expect(h.received.filter((e) => ['cut', 'two', 'x', 't'].includes(e.service))).toHaveLength(0);
  });

  it('refuses a message over gateway.maxBodyBytes as it arrives, and takes a call within its grpc-timeout', async () => {
    const big = Buffer.alloc(5 + 200 * 1024); // maxBodyBytes is 64 KiB in the harness
    big.writeUInt32BE(200 * 1024, 1);
    const answer = await rawCall(session, { chunks: [big] });
    expect(answer).toMatchObject({ grpcStatus: GrpcStatus.INVALID_ARGUMENT, grpcMessage: expect.stringMatching(/^HLS_ERR_BODY_TOO_LARGE: /) });
    expect((await rawCall(session, { headers: { 'grpc-timeout': '5S' }, chunks: [frame(traceRequest('timely'))] })).grpcStatus).toBe(GrpcStatus.OK);
  });

  it('ends every call of generated bytes, split any way, with a gRPC status; the server keeps serving', async () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // A plausible prefix with any flag and length, then any bytes.
      fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 200 })).map(([flag, length, rest]) => {
        const prefix = Buffer.alloc(5);
        prefix[0] = flag;
        prefix.writeUInt32BE(length, 1);
        return Buffer.concat([prefix, rest]);
      }),
    );
    const split = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
      const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      return [...at, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : at[i - 1]!, end)).filter((c) => c.length > 0);
    };
    await fc.assert(
      fc.asyncProperty(body, fc.array(fc.nat(), { maxLength: 4 }), fc.constantFrom('', 'gzip', 'zstd', 'snappy', 'deflate'), async (bytes, cuts, encoding) => {
        const answer = await rawCall(session, { headers: encoding === '' ? {} : { 'grpc-encoding': encoding }, chunks: split(bytes, cuts) });
        expect(answer.httpStatus).toBe(200);
        expect(answer.grpcStatus).toBeTypeOf('number');
        if (answer.grpcStatus !== GrpcStatus.OK) expect(answer.grpcMessage).toMatch(/^HLS_ERR_[A-Z_]+: /);
      }),
      { numRuns: 150 },
    );
    expect((await rawCall(session, { chunks: [frame(traceRequest('still-serving'))] })).grpcStatus).toBe(GrpcStatus.OK);
    expect(h.gateway.bodyBudget.inUse).toBe(0);
  });
});

describe('OTLP/gRPC deadlines', () => {
  it('answers DEADLINE_EXCEEDED when grpc-timeout passes before the bus took the records', async () => {
    const inner = createMemoryBus({ capacity: 1000 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slowBus: Bus = { ...inner, publishSync: undefined, publish: async (topic, records) => { await held; return inner.publish(topic, records); } };
    const h = await startHarness('node', { otlpGrpcPort: 0 }, { bus: slowBus });
    const session = connect(`http://127.0.0.1:${h.otlpGrpcPort!}`);
    try {
      const answer = await rawCall(session, { headers: { 'grpc-timeout': '200m' }, chunks: [frame(traceRequest('late'))] });
      expect(answer).toMatchObject({ grpcStatus: GrpcStatus.DEADLINE_EXCEEDED, grpcMessage: expect.stringContaining('HLS_ERR_DEADLINE_EXCEEDED: grpc-timeout of 200 ms passed') });
    } finally {
      release();
      session.close();
      await h.gateway.stop();
    }
  });
});

describe('OTLP/gRPC compression bombs', () => {
  // 50 MiB of zeros from 2.4 KB of zstd; 10 MiB from ~10 KB of gzip.
  const zstdBomb = frame(zstdFrame(Array.from({ length: 400 }, () => ({ rle: 0, size: MAX_BLOCK }))), true);
  const gzipBomb = frame(gzipSync(Buffer.alloc(10 << 20)), true);

  it('stops one at gateway.maxInflatedBytes while inflating (INVALID_ARGUMENT, not retryable)', async () => {
    const h = await startHarness('node', { otlpGrpcPort: 0, maxInflatedBytes: 256 * 1024, maxInFlightBodyBytes: 64 << 20 });
    const session = connect(`http://127.0.0.1:${h.otlpGrpcPort!}`);
    try {
      for (const [encoding, bomb] of [['zstd', zstdBomb], ['gzip', gzipBomb]] as const) {
        const answer = await rawCall(session, { headers: { 'grpc-encoding': encoding }, chunks: [bomb] });
        expect(answer, encoding).toMatchObject({ grpcStatus: GrpcStatus.INVALID_ARGUMENT, grpcMessage: expect.stringMatching(/^HLS_ERR_BODY_TOO_LARGE: inflated body exceeds 262144 bytes/) });
      }
      // What it held while inflating stayed within the limit (plus a chunk of output and the raw message).
      expect(h.gateway.bodyBudget.peak).toBeLessThan(256 * 1024 + 2 * MAX_BLOCK + gzipBomb.length);
      expect(h.gateway.bodyBudget.inUse).toBe(0);
    } finally {
      session.close();
      await h.gateway.stop();
    }
  });

  it('stops one at the in-flight body budget (UNAVAILABLE with RetryInfo): inflation counts in gateway.maxInFlightBodyBytes', async () => {
    const limit = 512 * 1024;
    const h = await startHarness('node', { otlpGrpcPort: 0, maxInflatedBytes: 64 << 20, maxInFlightBodyBytes: limit });
    const session = connect(`http://127.0.0.1:${h.otlpGrpcPort!}`);
    try {
      const answers = await Promise.all(Array.from({ length: 4 }, () => rawCall(session, { headers: { 'grpc-encoding': 'zstd' }, chunks: [zstdBomb] })));
      for (const answer of answers) {
        expect(answer).toMatchObject({ grpcStatus: GrpcStatus.UNAVAILABLE, grpcMessage: expect.stringMatching(/^HLS_ERR_OVERLOADED: /) });
        expect(answer.headers['grpc-status-details-bin']).toBeTypeOf('string');
      }
      expect(h.gateway.bodyBudget.peak).toBeLessThanOrEqual(limit);
      expect(h.gateway.bodyBudget.inUse).toBe(0);
    } finally {
      session.close();
      await h.gateway.stop();
    }
  });
});
