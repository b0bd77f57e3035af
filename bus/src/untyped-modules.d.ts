// Packages without type declarations, typed as far as Helios uses them (kafka-compression.ts).
declare module 'lz4js' {
  /** LZ4 frame format (what Kafka's LZ4 codec reads and writes). */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function compressBound(n: number): number;
  /** One LZ4 block of src[sIndex, sIndex+sLength) into dst; returns its size, 0 when incompressible. */
  export function compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
}

declare module 'lz4js/xxh32.js' {
  export function hash(seed: number, src: Uint8Array, index: number, length: number): number;
}

declare module 'kafkajs-snappy' {
  /** A kafkajs codec factory (raw snappy out; raw or xerial-framed snappy in). */
  const createSnappyCodec: () => { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> };
  export default createSnappyCodec;
}
