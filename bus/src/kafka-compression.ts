import kafkajs from 'kafkajs';
import * as lz4 from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import createSnappyCodec from 'kafkajs-snappy';

const { CompressionCodecs, CompressionTypes } = kafkajs;

// kafkajs only consumes here (the bus produces with @platformatic/kafka and its codecs); these codecs
// let its consumers read lz4 and snappy batches.

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_BYTES = 4 * 1024 * 1024;
/** Frame descriptor: version 01, independent blocks (Kafka refuses dependent ones), no checksums. */
const LZ4_FLG = 0x40 | 0x20;
/**
 * Block maximum size code 7: 4 MiB, so a record batch (capped by max.message.bytes, 1 MiB by default) is
 * one block. Frames of 64 KiB blocks written this way were refused by the broker for some inputs
 * ("Failed to decompress record stream") although lz4js read them back; single-block frames were not.
 */
const LZ4_BD = 7 << 4;

/**
 * LZ4 frame writer over lz4js's block compressor. lz4js's own frame writer shares its match table
 * across blocks without setting the independent-blocks flag, which the broker rejects ("Dependent block
 * stream is unsupported"); here every block is compressed on its own.
 */
export function lz4CompressFrame(src: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(src.length / LZ4_BLOCK_BYTES));
  const out = Buffer.allocUnsafe(7 + blocks * (4 + lz4.compressBound(LZ4_BLOCK_BYTES)) + 4);
  let at = 0;
  out.writeUInt32LE(LZ4_MAGIC, at);
  out[4] = LZ4_FLG;
  out[5] = LZ4_BD;
  out[6] = (xxh32(0, out, 4, 2) >>> 8) & 0xff;
  at = 7;
  for (let start = 0; start < src.length; start += LZ4_BLOCK_BYTES) {
    const block = src.subarray(start, Math.min(src.length, start + LZ4_BLOCK_BYTES));
    const compressed = out.subarray(at + 4);
    const size = lz4.compressBlock(block, compressed, 0, block.length, new Uint32Array(1 << 16));
    if (size === 0 || size >= block.length) {
      out.writeUInt32LE((0x80000000 | block.length) >>> 0, at);
      out.set(block, at + 4);
      at += 4 + block.length;
    } else {
      out.writeUInt32LE(size, at);
      at += 4 + size;
    }
  }
  out.writeUInt32LE(0, at);
  return out.subarray(0, at + 4);
}

const createLz4Codec = () => ({
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return lz4CompressFrame(encoder.buffer);
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return Buffer.from(lz4.decompress(buffer));
  },
});

let registered = false;

/** kafkajs keeps codecs in one process-wide table, which consumers need too (to read what others wrote). */
export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  (CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.Snappy] = createSnappyCodec;
  (CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.LZ4] = createLz4Codec;
}
