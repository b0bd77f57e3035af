import { crc32c, Reader, readRecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { KAFKA_COMPRESSIONS } from './kafka-options.js';
import { writeRecordBatch } from './kafka-record-batch.js';
import { encodeRecordHeaders } from './kafka-record-headers.js';
import type { EncodedRecord } from './kafka-records.js';

const record = (partition: number, key: string | null, value: string | null, headers?: Record<string, string>): EncodedRecord => ({
  partition,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  bytes: 0,
  ...(headers === undefined ? {} : { headers }),
});

describe('writeRecordBatch', () => {
  // Values long enough that offset deltas, lengths and the record length need multi-byte varints.
  const records = [
    record(0, 'acme/checkout', '{"n":0}'),
    record(0, null, 'x'.repeat(300)),
    record(0, 'acme/checkout', null, { 'helios-dead-letter-reason': 'not JSON' }),
    ...Array.from({ length: 200 }, (_, i) => record(0, `k${i}`, `{"i":${i},"s":"${'é'.repeat(i % 7)}"}`)),
  ];
  const indexes = records.map((_, i) => i);

  it.each(KAFKA_COMPRESSIONS)('writes a v2 batch the library reads back record for record, with a valid CRC (%s)', (compression) => {
    const batch = writeRecordBatch(records, indexes, {
      compression, producerId: 4242n, producerEpoch: 3, baseSequence: 2_147_483_000, timestamp: 1_700_000_000_123, defaultHeaders: encodeRecordHeaders({ 'helios-schema-version': '1' }),
    });
    expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)) >>> 0);
    expect(batch.readInt32BE(8)).toBe(batch.length - 12);
    const read = readRecordsBatch(Reader.from(batch));
    expect(read.magic).toBe(2);
    expect(read.producerId).toBe(4242n);
    expect(read.producerEpoch).toBe(3);
    expect(read.firstSequence).toBe(2_147_483_000);
    expect(read.firstTimestamp).toBe(1_700_000_000_123n);
    expect(read.lastOffsetDelta).toBe(records.length - 1);
    expect(read.records).toHaveLength(records.length);
    read.records.forEach((r, i) => {
      const want = records[i]!;
      expect(r.offsetDelta).toBe(i);
      expect(r.key?.length ? r.key.toString() : null).toBe(want.key === null ? null : want.key.toString());
      expect(r.value?.length ? r.value.toString() : null).toBe(want.value === null ? null : want.value.toString());
      const headers = Object.fromEntries(r.headers.map(([k, v]) => [k.toString(), v.toString()]));
      expect(headers).toEqual(want.headers ?? { 'helios-schema-version': '1' });
    });
  });

  it('writes only the records named by the indexes, in their order', () => {
    const batch = writeRecordBatch(records, [5, 3, 9], { compression: 'none', producerId: 1n, producerEpoch: 0, baseSequence: 0, timestamp: 0, defaultHeaders: encodeRecordHeaders({}) });
    const read = readRecordsBatch(Reader.from(batch));
    expect(read.records.map((r) => r.key.toString())).toEqual(['k2', 'k0', 'k6']);
  });
});
