import { createGunzip, createInflate } from 'node:zlib';
import { HeliosError, type EventsBodyKind } from '@helios/core';
import type { BodyBudget } from './body-budget.js';
import { decodeSnappy, decodeZstd, overBudget } from './content-encoding.js';
import type { GatewayRequest } from './http/transport.js';

/** Output chunk of the inflater: each one is reserved in the body budget as it comes. */
const INFLATE_CHUNK_BYTES = 64 * 1024;

/**
 * Undo Content-Encoding with a cap on the inflated size: a small gzip bomb must not become gigabytes.
 * `reserve` is asked for every chunk of output before it is kept (the gateway's body budget): when it
 * says no, decoding stops with HLS_ERR_OVERLOADED (503, retry). Inflating runs on libuv's thread pool,
 * off the event loop. The caller releases what `reserve` granted.
 */
export function decodeContentEncoding(body: Buffer, encoding: string, maxInflatedBytes: number, reserve: (bytes: number) => boolean = () => true): Promise<Buffer> {
  const e = encoding.trim().toLowerCase();
  if (e === '' || e === 'identity') return Promise.resolve(body);
  // zstd and snappy: what the Collector's exporters offer besides gzip (decoded in JS: Node 20's zlib has no zstd).
  if (e === 'zstd' || e === 'snappy') {
    try {
      return Promise.resolve(e === 'zstd' ? decodeZstd(body, maxInflatedBytes, reserve) : decodeSnappy(body, maxInflatedBytes, reserve));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  if (e !== 'gzip' && e !== 'deflate') return Promise.reject(new HeliosError('HLS_ERR_UNSUPPORTED_MEDIA_TYPE', `content-encoding "${encoding}" is not supported (use gzip, deflate, zstd, snappy or identity)`));
  return new Promise<Buffer>((resolve, reject) => {
    const inflater = e === 'gzip' ? createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }) : createInflate({ chunkSize: INFLATE_CHUNK_BYTES });
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: HeliosError) => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      inflater.destroy();
      reject(err);
    };
    inflater.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxInflatedBytes) return fail(new HeliosError('HLS_ERR_BODY_TOO_LARGE', `inflated body exceeds ${maxInflatedBytes} bytes`));
      if (!reserve(chunk.length)) return fail(overBudget());
      chunks.push(chunk);
    });
    inflater.on('error', (err) => fail(new HeliosError('HLS_ERR_BODY_MALFORMED', `body is not valid ${e}: ${err.message}`)));
    inflater.on('end', () => {
      if (failed) return;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    inflater.end(body);
  });
}

const bodyKindByContentType = new Map<string, EventsBodyKind | undefined>();

/** Body kind from the Content-Type header; clients send the same few strings, so answers are cached. */
export function jsonBodyKind(contentType: string): EventsBodyKind | undefined {
  // The common header first: a string comparison, where a Map lookup hashes the fresh header string.
  if (contentType === 'application/json') return 'json';
  const cached = bodyKindByContentType.get(contentType);
  if (cached !== undefined || bodyKindByContentType.has(contentType)) return cached;
  const kind = jsonBodyKindOf(contentType);
  if (bodyKindByContentType.size < 64) bodyKindByContentType.set(contentType, kind);
  return kind;
}

function jsonBodyKindOf(contentType: string): EventsBodyKind | undefined {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/json' || type === '') return 'json';
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl' || type === 'application/x-jsonlines') return 'ndjson';
  return undefined;
}

/** Runs `use` on a request's body with its Content-Encoding undone (see createBodyDecoder). */
export type DecodedBodyRunner = <T>(request: GatewayRequest, use: (body: Buffer) => Promise<T>) => Promise<T>;

/**
 * Decoded bodies count against the same budget as raw ones (the transport reserved those as they
 * arrived): inflation reserves its output chunk by chunk, so a gzip request holds what it decoded,
 * not a worst-case cap, and gzip and identity requests of the same size are refused alike. What was
 * reserved is released when `use` settles.
 */
export function createBodyDecoder(bodyBudget: BodyBudget, maxInflatedBytes: number): DecodedBodyRunner {
  async function withInflatedBody<T>(compressed: Buffer, encoding: string, use: (body: Buffer) => Promise<T>): Promise<T> {
    let held = 0;
    const reserve = (bytes: number): boolean => {
      if (!bodyBudget.tryReserve(bytes)) return false;
      held += bytes;
      return true;
    };
    try {
      const body = await decodeContentEncoding(compressed, encoding, maxInflatedBytes, reserve);
      return await use(body);
    } finally {
      bodyBudget.release(held);
    }
  }

  return function withDecodedBody<T>(request: GatewayRequest, use: (body: Buffer) => Promise<T>): Promise<T> {
    // Identity bodies (the common case) go straight to `use`, without a promise layer of their own.
    // `use` reads the body before its first await, so a borrowed identity body is still valid then;
    // inflation reads it later, on the thread pool, so it gets a copy.
    const header = request.headers['content-encoding'];
    if (header === '') return use(request.body);
    const encoding = header.trim().toLowerCase();
    if (encoding === '' || encoding === 'identity') return use(request.body);
    return withInflatedBody(request.bodyBorrowed === true ? Buffer.from(request.body) : request.body, encoding, use);
  };
}
