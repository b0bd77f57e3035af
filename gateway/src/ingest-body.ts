import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { HeliosError, type EventsBodyKind } from '@helios/core';
import { decodeSnappyBlock, decodeZstd } from './content-encoding.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/**
 * Undo Content-Encoding with a cap on the inflated size: a small gzip bomb must not become gigabytes.
 * Inflating runs on libuv's thread pool, off the event loop.
 */
export async function decodeContentEncoding(body: Buffer, encoding: string, maxInflatedBytes: number): Promise<Buffer> {
  const e = encoding.trim().toLowerCase();
  if (e === '' || e === 'identity') return body;
  // zstd and snappy: what the Collector's exporters offer besides gzip (decoded in JS: Node 20's zlib has no zstd).
  if (e === 'zstd') return decodeZstd(body, maxInflatedBytes);
  if (e === 'snappy') return decodeSnappyBlock(body, maxInflatedBytes);
  if (e !== 'gzip' && e !== 'deflate') throw new HeliosError('HLS_ERR_UNSUPPORTED_MEDIA_TYPE', `content-encoding "${encoding}" is not supported (use gzip, deflate, zstd, snappy or identity)`);
  try {
    return await (e === 'gzip' ? gunzipAsync : inflateAsync)(body, { maxOutputLength: maxInflatedBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new HeliosError('HLS_ERR_BODY_TOO_LARGE', `inflated body exceeds ${maxInflatedBytes} bytes`);
    }
    throw new HeliosError('HLS_ERR_BODY_MALFORMED', `body is not valid ${e}: ${(err as Error).message}`);
  }
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
