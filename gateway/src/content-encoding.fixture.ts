/** Test-only: compressed bodies for encodings Node 20 cannot produce itself. */
import snappy from 'snappyjs';

/**
 * A zstd frame built by hand from raw and RLE blocks (Node 20 has no zstd encoder, and the format's
 * uncompressed blocks are enough to drive the decoder): magic, a frame header without content size
 * (window 128 KiB), then 3-byte block headers `last | type << 1 | size << 3`.
 */
export function zstdFrame(blocks: ReadonlyArray<{ raw: Uint8Array } | { rle: number; size: number }>): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
  blocks.forEach((block, i) => {
    const last = i === blocks.length - 1 ? 1 : 0;
    const [type, size] = 'raw' in block ? [0, block.raw.length] : [1, block.size];
    const header = last | (type << 1) | (size << 3);
    parts.push(header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff);
    if ('raw' in block) parts.push(...block.raw);
    else parts.push(block.rle);
  });
  return Uint8Array.from(parts);
}

/** The largest zstd block (and fzstd's output chunk). */
export const MAX_BLOCK = 128 * 1024;

/**
 * A snappy framing-format stream (what gRPC's `snappy` encoding sends): the stream identifier, then per
 * part a compressed (0x00) or uncompressed (0x01) chunk, each with a checksum field (zeros: the decoder
 * does not verify it), and optionally a padding chunk (0xfe) between them.
 */
export function snappyFramed(parts: ReadonlyArray<{ data: Uint8Array; compressed: boolean; padding?: number }>): Buffer {
  const chunk = (type: number, data: Uint8Array) => {
    const header = Buffer.alloc(4);
    header[0] = type;
    header.writeUIntLE(data.length, 1, 3);
    return [header, data];
  };
  const out: Uint8Array[] = [Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59])];
  for (const part of parts) {
    const payload = part.compressed ? snappy.compress(Buffer.from(part.data)) : part.data;
    out.push(...chunk(part.compressed ? 0x00 : 0x01, Buffer.concat([Buffer.alloc(4), payload])));
    if (part.padding !== undefined) out.push(...chunk(0xfe, Buffer.alloc(part.padding)));
  }
  return Buffer.concat(out);
}
