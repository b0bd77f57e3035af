// The SDK's own UUIDv7 generator; the product's is newEventId in core/src/event/event-id.ts. Kept apart on
// purpose: @helios/sdk is published separately and depends on nothing of the repo (see retry-policy.ts).
import { randomUUID } from 'node:crypto';

let prefixMs = -1;
let prefix = '';
let counter = 0;

/**
 * The counter is the last 7 hex digits (28 bits) of the id. It starts below 2^27 and stays a small
 * integer (a V8 Smi): a counter above 2^31 would be a heap number, allocated on every increment.
 */
const COUNTER_START_LIMIT = 2 ** 27;
const COUNTER_LIMIT = 2 ** 28;

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix-ms timestamp, version 7, then random bits with the RFC variant.
 *
 * Hand-written because it sits on the hot path of every event. It follows RFC 9562 §6.2 method 2
 * ("monotonic random"): the first id of a millisecond takes its random bits from `crypto.randomUUID()`
 * (v4, already carrying the variant bits), and the following ids of the same millisecond add one to the
 * random tail's last 28 bits. So one `randomUUID()` per millisecond instead of one per event, and ids from
 * one process sort in creation order. Uniqueness across processes rests on the random bits: two processes
 * collide only if, in the same millisecond, their 45 fixed random bits are equal and their counter ranges
 * (random starts below 2^27) overlap.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now !== prefixMs || counter >= COUNTER_LIMIT - 1) {
    prefixMs = now;
    const hex = now.toString(16).padStart(12, '0');
    // randomUUID(): xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx; index 15..28 keeps 3 random nibbles, the variant
    // group and 5 random nibbles of the tail; the tail's last 7 nibbles give the counter's random start.
    const random = randomUUID();
    prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${random.slice(15, 29)}`;
    counter = Number.parseInt(random.slice(29, 36), 16) % COUNTER_START_LIMIT;
  } else {
    counter++;
  }
  return prefix + counter.toString(16).padStart(7, '0');
}
