import { randomUUID } from 'node:crypto';

let prefixMs = -1;
let prefix = '';

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix-ms timestamp, version 7, then random bits with the RFC variant.
 *
 * Hand-written because it sits on the hot path of every event: the `uuid` package's v7 measured about
 * 1.7 µs per call here, this about 0.2 µs. It reuses `crypto.randomUUID()` (v4, already carrying the
 * variant bits and pooled randomness) and swaps in the time prefix, which is recomputed once per ms.
 * Ids are time-ordered to the millisecond; within one millisecond their order is random.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now !== prefixMs) {
    prefixMs = now;
    const hex = now.toString(16).padStart(12, '0');
    prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7`;
  }
  // randomUUID(): xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx; characters from index 15 keep 3 random nibbles,
  // the variant group and the random tail.
  return prefix + randomUUID().slice(15);
}
