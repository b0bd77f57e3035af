import fc from 'fast-check';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeliosError } from '@helios/core';
import { decodeContentEncoding } from './ingest-body.js';
import { startHarness, type Harness } from './harness.fixture.js';
import { encodeProto, hexBytes, protoTypes } from './otlp/proto-codec.fixture.js';
import { MAX_BLOCK, snappyFramed, zstdFrame } from './content-encoding.fixture.js';


async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HeliosError);
  return (err as HeliosError).code;
}

describe('zstd and snappy Content-Encoding', () => {
  it('decodes zstd bodies split into any raw and RLE blocks', async () => {
    const block = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 300 }).map((raw) => ({ raw })), fc.record({ rle: fc.integer({ min: 0, max: 255 }), size: fc.integer({ min: 1, max: 5000 }) }));
    await fc.assert(
      fc.asyncProperty(fc.array(block, { minLength: 1, maxLength: 8 }), async (blocks) => {
        const expected = Buffer.concat(blocks.map((b) => ('raw' in b ? b.raw : Buffer.alloc(b.size, b.rle))));
        const decoded = await decodeContentEncoding(Buffer.from(zstdFrame(blocks)), 'zstd', 1 << 20);
        expect(Buffer.compare(decoded, expected)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('stops a zstd bomb at the inflated limit while decoding (RLE blocks of 128 KiB from 4 bytes each)', async () => {
    const bomb = zstdFrame(Array.from({ length: 400 }, () => ({ rle: 0, size: MAX_BLOCK }))); // 50 MiB from 2.4 KB
    expect(await refusal(decodeContentEncoding(Buffer.from(bomb), 'zstd', 1 << 20))).toBe('HLS_ERR_BODY_TOO_LARGE');
  });

  it('decodes snappy block bodies of any content, and refuses one whose declared size is over the limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), async (bytes) => {
        const decoded = await decodeContentEncoding(snappy.compress(Buffer.from(bytes)), 'snappy', 1 << 20);
        expect(Buffer.compare(decoded, Buffer.from(bytes))).toBe(0);
      }),
      { numRuns: 200 },
    );
    expect(await refusal(decodeContentEncoding(snappy.compress(Buffer.alloc(2 << 20)), 'snappy', 1 << 20))).toBe('HLS_ERR_BODY_TOO_LARGE');
  });

  it('decodes snappy framing-format streams (gRPC snappy) of any chunks, and stops a framed bomb at the limit', async () => {
    const part = fc.record({ data: fc.uint8Array({ maxLength: 3000 }), compressed: fc.boolean(), padding: fc.option(fc.nat({ max: 20 }), { nil: undefined }) });
    await fc.assert(
      fc.asyncProperty(fc.array(part, { maxLength: 6 }), async (parts) => {
        const decoded = await decodeContentEncoding(snappyFramed(parts), 'snappy', 1 << 20);
        expect(Buffer.compare(decoded, Buffer.concat(parts.map((p) => p.data)))).toBe(0);
      }),
      { numRuns: 200 },
    );
    // 640 chunks of 64 KiB of zeros (40 MiB) from ~2 KB each.
    const bomb = snappyFramed(Array.from({ length: 640 }, () => ({ data: new Uint8Array(65_536), compressed: true })));
    let reserved = 0;
    expect(await refusal(decodeContentEncoding(bomb, 'snappy', 1 << 20, (bytes) => ((reserved += bytes), true)))).toBe('HLS_ERR_BODY_TOO_LARGE');
    expect(reserved).toBeLessThanOrEqual(1 << 20);
    const cut = snappyFramed([{ data: Buffer.from('hello'), compressed: true }]);
    expect(await refusal(decodeContentEncoding(cut.subarray(0, cut.length - 2), 'snappy', 1 << 20))).toBe('HLS_ERR_BODY_MALFORMED');
  });

  it('answers garbage with HLS_ERR_BODY_MALFORMED', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.constantFrom('zstd', 'snappy'), async (bytes, encoding) => {
        const outcome = await decodeContentEncoding(Buffer.from(bytes), encoding, 1 << 20).then(() => 'decoded', (e: unknown) => (e as HeliosError).code);
        // Random bytes can be a valid snappy block by chance; they must never be anything but decoded or malformed.
        expect(['decoded', 'HLS_ERR_BODY_MALFORMED', 'HLS_ERR_BODY_TOO_LARGE']).toContain(outcome);
      }),
      { numRuns: 300 },
    );
    expect(await refusal(decodeContentEncoding(Buffer.from([1, 2, 3, 4, 5, 6]), 'zstd', 1 << 20))).toBe('HLS_ERR_BODY_MALFORMED');
  });
});

describe('OTLP/HTTP with zstd and snappy bodies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('node');
  });
  afterAll(() => h.gateway.stop());

  it.each(['zstd', 'snappy'])('stores a %s-encoded protobuf export', async (encoding) => {
    const spanId = encoding === 'zstd' ? '00000000000000a1' : '00000000000000a2';
    const request = encodeProto(protoTypes.traceRequest, {
      resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${encoding}` } }] }, scopeSpans: [{ spans: [{ traceId: hexBytes('0af7651916cd43dd8448eb211c80319c'), spanId: hexBytes(spanId), name: 'GET /', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000005000000' }] }] }],
    });
    const body = encoding === 'zstd' ? zstdFrame([{ raw: request }]) : snappy.compress(Buffer.from(request));
    const res = await fetch(`${h.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': encoding }, body });
    expect(res.status).toBe(200);
    await h.bus.drain(5000);
    expect(h.received.filter((e) => e.service === `svc-${encoding}`)).toMatchObject([{ span_id: spanId, latency_ms: 5 }]);
  });
});
