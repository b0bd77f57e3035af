import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import type { KafkaCompression } from './kafka-options.js';
import type { EncodedRecord } from './kafka-records.js';
import { encodeRecordHeaders, varintBytes, writeVarint } from './kafka-record-headers.js';

/**
 * Kafka record batches (message format v2) written straight from encoded records: one buffer for all
 * records of a partition, no object per record, every record stamped with the batch's timestamp.
 * Layout: https://kafka.apache.org/documentation/#recordbatch
 */

/** baseOffset .. recordCount: the fixed part in front of the records. */
export const RECORD_BATCH_HEADER_BYTES = 61;
/** Offset of the CRC field; the CRC covers everything after it. */
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const MAGIC = 2;
const CODEC_BITS: Record<KafkaCompression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3 };

export interface RecordBatchOptions {
  compression: KafkaCompression;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  timestamp: number;
  /** Wire form of the headers records carry unless they bring their own (`encodeRecordHeaders`). */
  defaultHeaders: Buffer;
}

/**
 * One record batch of the records at `indexes` (one partition's, in order). Own headers of a record (dead
 * letters, request bytes) are encoded for it unless it brings them encoded; every other record carries `defaultHeaders`.
 */
export function writeRecordBatch(records: readonly EncodedRecord[], indexes: readonly number[], options: RecordBatchOptions): Buffer {
  const count = indexes.length;
  const headers: Buffer[] = new Array(count);
  /** Each record's length after its length prefix, kept for the writing pass. */
  const bodies = new Int32Array(count);
  let size = 0;
  for (let i = 0; i < count; i++) {
    const r = records[indexes[i]!]!;
    const h = r.encodedHeaders ?? (r.headers === undefined ? options.defaultHeaders : encodeRecordHeaders(r.headers));
    headers[i] = h;
    const keyLength = r.key === null ? -1 : r.key.length;
    const valueLength = r.value === null ? -1 : r.value.length;
    const body = 2 + varintBytes(i) + varintBytes(keyLength) + Math.max(0, keyLength) + varintBytes(valueLength) + Math.max(0, valueLength) + h.length;
    bodies[i] = body;
    size += varintBytes(body) + body;
  }
  const compressed = options.compression !== 'none';
  // Uncompressed, the records are written in place after the header; compressed, into a buffer of their own first.
  const out = Buffer.allocUnsafe(compressed ? size : RECORD_BATCH_HEADER_BYTES + size);
  let at = compressed ? 0 : RECORD_BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const r = records[indexes[i]!]!;
    const h = headers[i]!;
    const keyLength = r.key === null ? -1 : r.key.length;
    const valueLength = r.value === null ? -1 : r.value.length;
    at = writeVarint(out, at, bodies[i]!);
    out[at++] = 0; // attributes: unused
    out[at++] = 0; // timestamp delta: every record has the batch's timestamp
    at = writeVarint(out, at, i); // offset delta
    // TypedArray#set: a plain memcpy, without Buffer#copy's argument handling (which showed in profiles).
    at = writeVarint(out, at, keyLength);
    if (r.key !== null) {
      out.set(r.key, at);
      at += keyLength;
    }
    at = writeVarint(out, at, valueLength);
    if (r.value !== null) {
      out.set(r.value, at);
      at += valueLength;
    }
    out.set(h, at);
    at += h.length;
  }
  let batch = out;
  if (compressed) {
    const packed = compressionsAlgorithms[options.compression].compressSync(out) as Buffer;
    batch = Buffer.allocUnsafe(RECORD_BATCH_HEADER_BYTES + packed.length);
    packed.copy(batch, RECORD_BATCH_HEADER_BYTES);
  }
  batch.writeBigInt64BE(0n, 0); // base offset: assigned by the broker
  batch.writeInt32BE(batch.length - 12, 8); // batch length: everything after this field
  batch.writeInt32BE(-1, 12); // partition leader epoch: set by the broker
  batch.writeInt8(MAGIC, 16);
  batch.writeInt16BE(CODEC_BITS[options.compression], ATTRIBUTES_AT);
  batch.writeInt32BE(count - 1, 23); // last offset delta
  batch.writeBigInt64BE(BigInt(options.timestamp), 27); // first timestamp
  batch.writeBigInt64BE(BigInt(options.timestamp), 35); // max timestamp
  batch.writeBigInt64BE(options.producerId, 43);
  batch.writeInt16BE(options.producerEpoch, 51);
  batch.writeInt32BE(options.baseSequence, 53);
  batch.writeInt32BE(count, 57);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_AT)) >>> 0, CRC_AT);
  return batch;
}
