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
 * Snappy, in either of its two formats, told apart by the framing format's stream identifier (a block
 * cannot plausibly begin with it):
 * - the block format (a varint of the decoded length, then the block), what the Collector's confighttp
 *   sends as Content-Encoding `snappy`;
 * - the framing format (https://github.com/google/snappy/blob/main/framing_format.txt), what gRPC's
 *   `snappy` message encoding is in grpc-go and grpc-java (the Collector's configgrpc included).
 * Either way each block's declared length is checked against the limit and the budget before it is
 * decoded: a small bomb never becomes a large allocation.
 */
export function decodeSnappy(body: Uint8Array, maxInflatedBytes: number, reserve: (bytes: number) => boolean = () => true): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length);
  if (bytes.length >= SNAPPY_STREAM_ID.length && bytes.subarray(0, SNAPPY_STREAM_ID.length).equals(SNAPPY_STREAM_ID)) return decodeSnappyFramed(bytes, maxInflatedBytes, reserve);
  return decodeSnappyBlock(bytes, maxInflatedBytes, reserve);
}

/** Chunk type 0xff, length 6, "sNaPpY": the first chunk of every snappy stream. */
const SNAPPY_STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
/** A framed chunk holds at most 65536 bytes of data (framing_format.txt, 4.2 and 4.3). */
const SNAPPY_MAX_CHUNK_DATA = 65_536;

/**
 * Chunks: a type byte, a 3-byte little-endian length, the data. Compressed (0x00) and uncompressed
 * (0x01) data carry a masked CRC-32C first, not verified here (Node 20 has no CRC-32C; the protobuf
 * decoder still refuses bytes that are not a message). Padding and skippable chunks are skipped.
 */
function decodeSnappyFramed(body: Buffer, maxInflatedBytes: number, reserve: (bytes: number) => boolean): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let i = 0;
  while (i < body.length) {
    if (i + 4 > body.length) throw snappyMalformed(`a chunk header is cut at byte ${i}`);
    const type = body[i]!;
    const length = body.readUIntLE(i + 1, 3);
    const start = i + 4;
    const end = start + length;
    if (end > body.length) throw snappyMalformed(`a chunk at byte ${i} announces ${length} bytes but ${body.length - start} follow`);
    i = end;
    if (type === 0xff || type >= 0x80) continue; // stream identifier (again), padding, skippable
    if (type > 0x01) throw snappyMalformed(`reserved unskippable chunk type 0x${type.toString(16)}`);
    if (length < 4) throw snappyMalformed(`a data chunk at byte ${start - 4} is shorter than its checksum`);
    const data = body.subarray(start + 4, end);
    const size = type === 0x01 ? data.length : snappyDecodedLength(data);
    if (size === undefined) throw snappyMalformed(`bad length header in the chunk at byte ${start - 4}`);
    if (size > SNAPPY_MAX_CHUNK_DATA) throw snappyMalformed(`a chunk at byte ${start - 4} holds ${size} bytes, more than 65536`);
    if (total + size > maxInflatedBytes) throw tooLarge(maxInflatedBytes);
    if (type === 0x01 && !reserve(size)) throw overBudget();
    const decoded = type === 0x01 ? data : decodeSnappyBlock(data, size, reserve);
    total += decoded.length;
    parts.push(decoded);
  }
  return Buffer.concat(parts, total);
}

/** One snappy block: its declared length is checked and reserved before it is decoded. */
function decodeSnappyBlock(body: Buffer, maxInflatedBytes: number, reserve: (bytes: number) => boolean): Buffer {
  const declared = snappyDecodedLength(body);
  if (declared === undefined) throw snappyMalformed('bad length header');
  if (declared > maxInflatedBytes) throw tooLarge(maxInflatedBytes);
  if (!reserve(declared)) throw overBudget();
  try {
    return snappy.uncompress(body);
  } catch (err) {
    throw snappyMalformed((err as Error).message);
  }
}

function snappyMalformed(what: string): HeliosError {
  return new HeliosError('HLS_ERR_BODY_MALFORMED', `body is not valid snappy: ${what}`);
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
