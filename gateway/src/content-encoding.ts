import { Decompress } from 'fzstd';
import snappy from 'snappyjs';
import { HeliosError } from '@helios/core';

/**
 * Content-Encodings Node 20's zlib lacks: zstd (zlib has it only from Node 22.15) and snappy, both
 * offered by the OpenTelemetry Collector's exporters. Both decoders are pure JavaScript and run on the
 * event loop; like the zlib path they stop at `maxInflatedBytes`, while decoding, not after: a small
 * bomb never becomes a large allocation.
 */

/** One zstd body (one or more frames). The streaming decoder hands out blocks of at most 128 KiB, counted as they come. */
export function decodeZstd(body: Uint8Array, maxInflatedBytes: number, reserve: (bytes: number) => boolean = () => true): Buffer {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const decoder = new Decompress((chunk) => {
    total += chunk.length;
    if (total > maxInflatedBytes) throw tooLarge(maxInflatedBytes);
    if (!reserve(chunk.length)) throw overBudget();
    chunks.push(chunk);
  });
  try {
    decoder.push(body, true);
  } catch (err) {
    if (err instanceof HeliosError) throw err;
    throw new HeliosError('HLS_ERR_BODY_MALFORMED', `body is not valid zstd: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Snappy block format (a varint of the decoded length, then the block), what the Collector's
 * confighttp sends as `snappy`. The declared length is checked before anything is allocated.
 */
export function decodeSnappyBlock(body: Uint8Array, maxInflatedBytes: number, reserve: (bytes: number) => boolean = () => true): Buffer {
  const declared = snappyDecodedLength(body);
  if (declared === undefined) throw new HeliosError('HLS_ERR_BODY_MALFORMED', 'body is not valid snappy: bad length header');
  if (declared > maxInflatedBytes) throw tooLarge(maxInflatedBytes);
  if (!reserve(declared)) throw overBudget();
  try {
    return snappy.uncompress(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length));
  } catch (err) {
    throw new HeliosError('HLS_ERR_BODY_MALFORMED', `body is not valid snappy: ${(err as Error).message}`);
  }
}

/** The uncompressed-length varint that opens a snappy block (at most 32 bits), or undefined when malformed. */
function snappyDecodedLength(body: Uint8Array): number | undefined {
  let length = 0;
  for (let i = 0, shift = 0; i < body.length && i < 5; i++, shift += 7) {
    const byte = body[i]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return length;
  }
  return undefined;
}

/** The gateway's body budget (gateway.maxInFlightBodyBytes) has no room for the decoded bytes: 503, retry. */
export function overBudget(): HeliosError {
  return new HeliosError('HLS_ERR_OVERLOADED', 'no room in the memory budget for request bodies (gateway.maxInFlightBodyBytes) to decompress this body; retry later');
}

function tooLarge(maxInflatedBytes: number): HeliosError {
  return new HeliosError('HLS_ERR_BODY_TOO_LARGE', `inflated body exceeds ${maxInflatedBytes} bytes`);
}
