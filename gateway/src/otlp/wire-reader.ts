import { MalformedPayload } from './malformed.js';

/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/). */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

const WIRE_TYPE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'wire type 6', 'wire type 7'];
const TWO_POW_32 = 4294967296;

/** String cache (see WireReader.cachedString): process-wide, a few KiB, never holds a request body. */
const MAX_CACHED_STRING_BYTES = 48;
const STRING_CACHE_SIZE = 1024;
const stringCacheBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(STRING_CACHE_SIZE).fill(undefined);
const stringCacheValues: string[] = new Array<string>(STRING_CACHE_SIZE).fill('');

/**
 * A bounds-checked reader of the protobuf wire format over one request body. Every read checks
 * against `limit` (the end of the message being read), so a hostile length can never make it read
 * past a parent message or the buffer: the only failure is a MalformedPayload naming the problem.
 *
 * 64-bit values come back as `lo`/`hi` 32-bit halves in fields (no allocation per read); callers
 * turn them into numbers or milliseconds exactly where that matters (timestamps).
 */
export class WireReader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly text: Buffer;
  pos = 0;
  /** End of the message currently being read; set by the caller when entering a nested message. */
  limit: number;
  /** Halves of the last 64-bit value read (readVarint64 / readFixed64). */
  lo = 0;
  hi = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.limit = bytes.byteLength;
  }

  /** Next field tag (field number << 3 | wire type); validates both. */
  readTag(): number {
    const tag = this.readVarint32();
    const wireType = tag & 7;
    if (tag >>> 3 === 0) throw new MalformedPayload('', `invalid field number 0 at byte ${this.pos}`);
    if (wireType === 3 || wireType === 4 || wireType > 5) {
      throw new MalformedPayload('', `field ${tag >>> 3}: unsupported ${WIRE_TYPE_NAMES[wireType]} at byte ${this.pos}`);
    }
    return tag;
  }

  /** A varint that must fit in 32 bits unsigned (tags, lengths, enums, uint32/int32 counts). */
  readVarint32(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.limit) throw new MalformedPayload('', 'truncated varint');
      const byte = bytes[pos++];
      if (shift < 28) result |= (byte & 0x7f) << shift;
      else if (shift === 28) result += (byte & 0x0f) * 268435456; // 2^28; the top bits of an int32 sign-extension are dropped
      if (byte < 0x80) break;
      shift += 7;
      if (shift > 63) throw new MalformedPayload('', 'varint longer than 10 bytes');
    }
    this.pos = pos;
    return result >>> 0;
  }

  /** A 64-bit varint into `lo`/`hi`. */
  readVarint64(): void {
    const bytes = this.bytes;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.limit) throw new MalformedPayload('', 'truncated varint');
      const byte = bytes[pos++];
      const bits = byte & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else if (shift < 64) hi |= bits << (shift - 32);
      if (byte < 0x80) break;
      shift += 7;
      if (shift > 63) throw new MalformedPayload('', 'varint longer than 10 bytes');
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  readFixed64(): void {
    const pos = this.pos;
    if (pos + 8 > this.limit) throw new MalformedPayload('', `truncated fixed64: ${this.limit - pos} byte(s) left`);
    this.lo = this.view.getUint32(pos, true);
    this.hi = this.view.getUint32(pos + 4, true);
    this.pos = pos + 8;
  }

  readDouble(): number {
    const pos = this.pos;
    if (pos + 8 > this.limit) throw new MalformedPayload('', `truncated double: ${this.limit - pos} byte(s) left`);
    this.pos = pos + 8;
    return this.view.getFloat64(pos, true);
  }

  readFixed32(): number {
    const pos = this.pos;
    if (pos + 4 > this.limit) throw new MalformedPayload('', `truncated fixed32: ${this.limit - pos} byte(s) left`);
    this.pos = pos + 4;
    return this.view.getUint32(pos, true);
  }

  /** Length prefix of a length-delimited field; returns the end offset of its content. */
  readLengthEnd(): number {
    const length = this.readVarint32();
    const end = this.pos + length;
    if (end > this.limit) throw new MalformedPayload('', `truncated: length ${length} exceeds the ${this.limit - this.pos} byte(s) left`);
    return end;
  }

  /** A `bytes` field as a view into the body (no copy). */
  readBytes(): Uint8Array {
    const end = this.readLengthEnd();
    const start = this.pos;
    this.pos = end;
    return this.bytes.subarray(start, end);
  }

  /**
   * A `bytes` field as lower-case hex, encoded straight from the body: for trace and span ids, which
   * become hex anyway. About 2x faster than a view plus a hex loop (62 vs 144 ns for a trace id,
   * bench/RESULTS.md), as the view and the per-byte string concatenation are both skipped.
   */
  readBytesAsHex(): string {
    const end = this.readLengthEnd();
    const start = this.pos;
    this.pos = end;
    return start === end ? '' : this.text.toString('hex', start, end);
  }

  readString(): string {
    const end = this.readLengthEnd();
    const start = this.pos;
    this.pos = end;
    const length = end - start;
    if (length === 0) return '';
    if (length <= MAX_CACHED_STRING_BYTES) return this.cachedString(start, end);
    return this.text.toString('utf8', start, end);
  }

  /**
   * Short strings through a small cache keyed by a hash of their bytes. OTLP repeats the same
   * attribute keys and many values ('GET', routes, 'https') in every record of a request; a cache
   * hit returns a string V8 has already internalized, which is cheaper to create and to use as a
   * property key than a fresh one. A miss costs one hash pass and replaces the slot.
   */
  private cachedString(start: number, end: number): string {
    const bytes = this.bytes;
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
    const slot = (hash >>> 0) & (STRING_CACHE_SIZE - 1);
    const cachedBytes = stringCacheBytes[slot];
    if (cachedBytes !== undefined && cachedBytes.length === end - start) {
      let same = true;
      for (let i = 0, j = start; j < end; i++, j++) {
        if (cachedBytes[i] !== bytes[j]) {
          same = false;
          break;
        }
      }
      if (same) return stringCacheValues[slot];
    }
    const value = this.text.toString('utf8', start, end);
    stringCacheBytes[slot] = bytes.slice(start, end);
    stringCacheValues[slot] = value;
    return value;
  }

  /** Skip one field of the given tag's wire type (unknown fields are ignored, as protobuf requires). */
  skip(tag: number): void {
    switch (tag & 7) {
      case VARINT:
        this.readVarint64();
        return;
      case I64:
        if (this.pos + 8 > this.limit) throw new MalformedPayload('', `truncated fixed64 in field ${tag >>> 3}`);
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.readLengthEnd();
        return;
      case I32:
        if (this.pos + 4 > this.limit) throw new MalformedPayload('', `truncated fixed32 in field ${tag >>> 3}`);
        this.pos += 4;
        return;
      default:
        throw new MalformedPayload('', `field ${tag >>> 3}: unsupported ${WIRE_TYPE_NAMES[tag & 7]}`);
    }
  }
}

/** Throws unless `tag` has the wire type the schema declares for field `name`. */
export function expectWireType(tag: number, wireType: number, name: string): void {
  if ((tag & 7) !== wireType) {
    throw new MalformedPayload(name, `wire type ${WIRE_TYPE_NAMES[tag & 7]}, expected ${WIRE_TYPE_NAMES[wireType]} (field ${tag >>> 3})`);
  }
}

/** Signed 64-bit (two's complement halves) to a number; exact within ±2^53. */
export function int64ToNumber(lo: number, hi: number): number {
  return hi >= 0x80000000 ? -((~hi >>> 0) * TWO_POW_32 + ((~lo >>> 0) + 1)) : hi * TWO_POW_32 + lo;
}

/** Exact decimal text of a signed 64-bit value, for integers a number cannot hold. */
export function int64ToDecimal(lo: number, hi: number): string {
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

export function uint64ToNumber(lo: number, hi: number): number {
  return hi * TWO_POW_32 + lo;
}
