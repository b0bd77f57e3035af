/**
 * Kafka record headers in their wire form (record format v2), without any Kafka library: the event-batch
 * encoding (kafka-event-batch.ts) and the record batch writer (kafka-record-batch.ts) both use them.
 */

// Varints here hold lengths, counts and offset deltas: int32 (a record batch is far below 2 GiB).

/** Bytes of a zigzag varint of an int32. */
export function varintBytes(value: number): number {
  const v = ((value << 1) ^ (value >> 31)) >>> 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export function writeVarint(buf: Buffer, at: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/** Record headers in their wire form: count, then key and value, each length-prefixed. */
export function encodeRecordHeaders(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const);
  let size = varintBytes(entries.length);
  for (const [k, v] of entries) size += varintBytes(k.length) + k.length + varintBytes(v.length) + v.length;
  const out = Buffer.allocUnsafe(size);
  let at = writeVarint(out, 0, entries.length);
  for (const [k, v] of entries) {
    at = writeVarint(out, at, k.length);
    at += k.copy(out, at);
    at = writeVarint(out, at, v.length);
    at += v.copy(out, at);
  }
  return out;
}

/**
 * `encodeRecordHeaders({ ...headers, [key]: value })`, given `encoded` = `encodeRecordHeaders(headers)`
 * (made once for many records): the entry's strings are written, not the shared ones again.
 */
export function withRecordHeader(encoded: Buffer, key: string, value: string): Buffer {
  let count = 0;
  let shift = 0;
  let at = 0;
  for (let b = 0x80; b & 0x80; shift += 7) count |= ((b = encoded[at++]!) & 0x7f) << shift;
  count = (count >>> 1) ^ -(count & 1);
  const keyBytes = Buffer.byteLength(key);
  const valueBytes = Buffer.byteLength(value);
  const size = varintBytes(count + 1) + encoded.length - at + varintBytes(keyBytes) + keyBytes + varintBytes(valueBytes) + valueBytes;
  const out = Buffer.allocUnsafe(size);
  let o = writeVarint(out, 0, count + 1);
  out.set(encoded.subarray(at), o);
  o += encoded.length - at;
  o = writeVarint(out, o, keyBytes);
  o += out.write(key, o, 'utf8');
  o = writeVarint(out, o, valueBytes);
  out.write(value, o, 'utf8');
  return out;
}
