import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the OS in blocks; each id takes 10 of them (74 bits used). */
const RANDOM_BYTES_PER_ID = 10;
const random = Buffer.alloc(RANDOM_BYTES_PER_ID * 410);
let randomOffset = random.length;

/** The id under construction as ASCII bytes; the time part is rewritten only when the millisecond changes. */
const text = Buffer.from('00000000-0000-7000-8000-000000000000', 'latin1');
const HEX = Buffer.from('0123456789abcdef', 'latin1');
let lastMs = -1;

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, the variant, then 74 random bits. Ids sort
 * by time, so inserts land at the right edge of indexes and partitions. The random bits come from a
 * block of OS randomness refilled every 410 ids (as `crypto.randomUUID()` caches its entropy), and
 * the 36 characters are written as bytes and read back as one flat string: about 2.5x faster than
 * `randomUUID()` with the time spliced in (90 vs 240 ns), and this runs for every ingested event.
 */
export function newEventId(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    // 48 bits of milliseconds as 12 hex digits around the first dash (positions 0-7 and 9-12).
    let t = ms;
    for (let i = 12; i >= 9; i--, t = Math.floor(t / 16)) text[i] = HEX[t % 16]!;
    for (let i = 7; i >= 0; i--, t = Math.floor(t / 16)) text[i] = HEX[t % 16]!;
  }
  if (randomOffset + RANDOM_BYTES_PER_ID > random.length) {
    randomFillSync(random);
    randomOffset = 0;
  }
  const r = randomOffset;
  randomOffset += RANDOM_BYTES_PER_ID;
  // xxxxxxxx-xxxx-7RRR-vRRR-RRRRRRRRRRRR: 12 bits, then the variant (10xx) with 2 bits, then 12 + 48 bits.
  const b0 = random[r]!;
  const b1 = random[r + 1]!;
  const b2 = random[r + 2]!;
  text[15] = HEX[b0 >> 4]!;
  text[16] = HEX[b0 & 15]!;
  text[17] = HEX[b1 >> 4]!;
  text[19] = HEX[8 | (b1 & 3)]!;
  text[20] = HEX[b2 >> 4]!;
  text[21] = HEX[b2 & 15]!;
  text[22] = HEX[random[r + 3]! >> 4]!;
  for (let i = 4, o = 24; i < RANDOM_BYTES_PER_ID; i++, o += 2) {
    const b = random[r + i]!;
    text[o] = HEX[b >> 4]!;
    text[o + 1] = HEX[b & 15]!;
  }
  return text.toString('latin1', 0, 36);
}

const TWO_32 = 2 ** 32;
const TWO_48 = 2 ** 48;

/**
 * The ids of one batch, drawn once: id `i` is the batch's first id (a `newEventId()`) with `i` added to
 * its last 48 bits, modulo 2^48 (RFC 9562's monotonic random method). Whoever knows the first id derives
 * the rest, so a Kafka consumer normalizing a request's bytes again gets the ids the gateway answered with
 * from one header (bus/kafka-event-batch.ts). Ids of a batch are distinct; two batches collide only if
 * their 26 other random bits are equal and their 48-bit ranges overlap.
 */
export class EventIdSequence {
  readonly first: string;
  private readonly low: number;
  /**
   * The id being written: the first id's characters, its last 12 hex digits rewritten per id. Made at the
   * first id after the first: a single-event request (the most common one) never needs it, and a Buffer
   * per request cost more than the rest of this class.
   */
  private out: Buffer | undefined;

  constructor(first: string) {
    this.first = first;
    this.low = parseInt(first.slice(24), 16);
    if (first.length !== 36 || !Number.isSafeInteger(this.low)) throw new RangeError(`not a UUID: ${JSON.stringify(first)}`);
  }

  /** Id number `index` (0: the first id). */
  at(index: number): string {
    if (index === 0) return this.first;
    const v = (this.low + index) % TWO_48;
    // 48 bits as 12 hex digits: the top 16 bits and the low 32, each with 32-bit operations.
    let lo = v % TWO_32;
    let hi = (v - lo) / TWO_32;
    const out = (this.out ??= Buffer.from(this.first, 'latin1'));
    for (let i = 35; i >= 28; i--, lo >>>= 4) out[i] = HEX[lo & 15]!;
    for (let i = 27; i >= 24; i--, hi >>>= 4) out[i] = HEX[hi & 15]!;
    return out.toString('latin1', 0, 36);
  }
}
