import { MalformedPayload, prefixPath } from './malformed.js';
import { BinaryId, assignProperty, flattenAnyValue, nanoTimeFromHalves, resourceInfo, setAttribute, type Attributes, type NanoTime, type RawId, type ResourceInfo } from './translate.js';
import { I64, LEN, VARINT, WireReader, expectWireType, int64ToDecimal, int64ToNumber } from './wire-reader.js';

/**
 * OTLP protobuf message readers shared by the three requests (protobuf-decoder.ts): AnyValue, KeyValue,
 * Resource, InstrumentationScope, and the Export*ServiceRequest skeleton, read straight from the wire.
 */
export const EMPTY_ID: RawId = new BinaryId('');
/** AnyValue nesting (arrays in kvlists in arrays...) beyond this is refused: bounded stack on hostile input. */
export const MAX_ANY_VALUE_DEPTH = 32;
export const NO_RECORDED_VALUE_FLAG = 1;

/** Enter the length-delimited field at the reader's position; returns the parent's limit for `leave`. */
export function enter(r: WireReader): number {
  const end = r.readLengthEnd();
  const parentLimit = r.limit;
  r.limit = end;
  return parentLimit;
}

/** `enter` for a field whose truncation should be reported at `segment`. */
export function enterAt(r: WireReader, segment: string): number {
  try {
    return enter(r);
  } catch (err) {
    throw prefixPath(err, segment);
  }
}

export function leave(r: WireReader, parentLimit: number): void {
  r.limit = parentLimit;
}

export function readNanoTime(r: WireReader, tag: number, name: string): NanoTime {
  expectWireType(tag, I64, name);
  r.readFixed64();
  return nanoTimeFromHalves(r.lo, r.hi);
}

// ---------------------------------------------------------------------------------------------
// common.v1: AnyValue, KeyValue, Resource, InstrumentationScope

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** AnyValue as a JS value: scalars, arrays, objects; bytes as base64 text; int64 beyond ±2^53 as exact decimal text. */
export function readAnyValue(r: WireReader, depth: number): unknown {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new MalformedPayload('', `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  let value: unknown = null;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'stringValue');
        value = r.readString();
        break;
      case 2:
        expectWireType(tag, VARINT, 'boolValue');
        r.readVarint64();
        value = r.lo !== 0 || r.hi !== 0;
        break;
      case 3: {
        expectWireType(tag, VARINT, 'intValue');
        r.readVarint64();
        const n = int64ToNumber(r.lo, r.hi);
        value = Number.isSafeInteger(n) ? n : int64ToDecimal(r.lo, r.hi);
        break;
      }
      case 4:
        expectWireType(tag, I64, 'doubleValue');
        value = r.readDouble();
        break;
      case 5: {
        expectWireType(tag, LEN, 'arrayValue');
        const parentLimit = enterAt(r, 'arrayValue');
        const values: unknown[] = [];
        while (r.pos < r.limit) {
          const inner = r.readTag();
          if (inner >>> 3 === 1) {
            expectWireType(inner, LEN, 'values');
            const arrayLimit = enterAt(r, `arrayValue.values[${values.length}]`);
            try {
              values.push(readAnyValue(r, depth + 1));
            } catch (err) {
              throw prefixPath(err, `arrayValue.values[${values.length}]`);
            }
            leave(r, arrayLimit);
          } else r.skip(inner);
        }
        leave(r, parentLimit);
        value = values;
        break;
      }
      case 6: {
        expectWireType(tag, LEN, 'kvlistValue');
        const parentLimit = enterAt(r, 'kvlistValue');
        const object: Record<string, unknown> = {};
        let index = 0;
        while (r.pos < r.limit) {
          const inner = r.readTag();
          if (inner >>> 3 === 1) {
            expectWireType(inner, LEN, 'values');
            const kvLimit = enterAt(r, `kvlistValue.values[${index}]`);
            try {
              readKeyValue(r, depth + 1, object, null);
            } catch (err) {
              throw prefixPath(err, `kvlistValue.values[${index}]`);
            }
            leave(r, kvLimit);
            index++;
          } else r.skip(inner);
        }
        leave(r, parentLimit);
        value = object;
        break;
      }
      case 7:
        expectWireType(tag, LEN, 'bytesValue');
        value = base64(r.readBytes());
        break;
      default:
        r.skip(tag);
    }
  }
  return value;
}

/**
 * One KeyValue into `target`. With `count` (attribute maps) the value is flattened to a scalar and
 * the attribute limits apply; without (kvlist values) it is kept as a nested JS value.
 * Returns the new count.
 */
export function readKeyValue(r: WireReader, depth: number, target: Record<string, unknown>, count: number | null): number {
  let key = '';
  let value: unknown = null;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, LEN, 'key');
        key = r.readString();
        break;
      case 2: {
        expectWireType(tag, LEN, 'value');
        const parentLimit = enterAt(r, 'value');
        try {
          value = readAnyValue(r, depth);
        } catch (err) {
          throw prefixPath(err, 'value');
        }
        leave(r, parentLimit);
        break;
      }
      default:
        r.skip(tag);
    }
  }
  if (count === null) {
    assignProperty(target, key, value);
    return 0;
  }
  return setAttribute(target as Attributes, key, flattenAnyValue(value), count);
}

/** A repeated KeyValue field (the current tag) added to `target`; returns the new attribute count. */
export function readAttribute(r: WireReader, tag: number, name: string, index: number, target: Attributes, count: number): number {
  expectWireType(tag, LEN, name);
  let parentLimit = 0;
  try {
    parentLimit = enter(r);
    count = readKeyValue(r, 0, target, count);
  } catch (err) {
    throw prefixPath(err, `${name}[${index}]`);
  }
  leave(r, parentLimit);
  return count;
}

/** Resource message at the reader's position into `target` (attributes); returns the new count. */
export function readResource(r: WireReader, target: Attributes, count: number): number {
  let index = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) count = readAttribute(r, tag, 'attributes', index++, target, count);
    else r.skip(tag);
  }
  return count;
}

/** InstrumentationScope's name; version and attributes are not carried into events. */
export function readScopeName(r: WireReader): string {
  let name = '';
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'name');
      name = r.readString();
    } else r.skip(tag);
  }
  return name;
}

/**
 * First pass over a Resource* or Scope* container: reads the header field (number 1: resource or
 * scope) wherever it sits. Leaves the reader at the container's start for the second pass.
 */
export function readResourceHeader(r: WireReader): ResourceInfo {
  const start = r.pos;
  const attributes: Attributes = {};
  let count = 0;
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'resource');
      const parentLimit = enterAt(r, 'resource');
      try {
        count = readResource(r, attributes, count);
      } catch (err) {
        throw prefixPath(err, 'resource');
      }
      leave(r, parentLimit);
    } else r.skip(tag);
  }
  r.pos = start;
  return resourceInfo(attributes);
}

export function readScopeHeader(r: WireReader): string {
  const start = r.pos;
  let name = '';
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 === 1) {
      expectWireType(tag, LEN, 'scope');
      const parentLimit = enterAt(r, 'scope');
      try {
        name = readScopeName(r);
      } catch (err) {
        throw prefixPath(err, 'scope');
      }
      leave(r, parentLimit);
    } else r.skip(tag);
  }
  r.pos = start;
  return name;
}

/**
 * The shared skeleton of all three requests: Export*ServiceRequest { repeated Resource* = 1 },
 * Resource* { resource = 1; repeated Scope* = 2 }, Scope* { scope = 1; repeated <record> = 2 }.
 * `readRecord` is called with the reader limited to one record message.
 */
export function readRequest(
  r: WireReader,
  names: readonly [resources: string, scopes: string, records: string],
  readRecord: (r: WireReader, resource: ResourceInfo, scopeName: string, path: RecordPath) => void,
): void {
  const path: RecordPath = { resourceIndex: 0, scopeIndex: 0, recordIndex: 0, names };
  while (r.pos < r.limit) {
    const tag = r.readTag();
    if (tag >>> 3 !== 1) {
      r.skip(tag);
      continue;
    }
    expectWireType(tag, LEN, names[0]);
    let requestLimit = 0;
    try {
      requestLimit = enter(r);
      const resource = readResourceHeader(r);
      path.scopeIndex = 0;
      while (r.pos < r.limit) {
        const resourceTag = r.readTag();
        if (resourceTag >>> 3 !== 2) {
          r.skip(resourceTag);
          continue;
        }
        expectWireType(resourceTag, LEN, names[1]);
        let resourceLimit = 0;
        try {
          resourceLimit = enter(r);
          const scopeName = readScopeHeader(r);
          path.recordIndex = 0;
          while (r.pos < r.limit) {
            const scopeTag = r.readTag();
            if (scopeTag >>> 3 !== 2) {
              r.skip(scopeTag);
              continue;
            }
            expectWireType(scopeTag, LEN, names[2]);
            let scopeLimit = 0;
            try {
              scopeLimit = enter(r);
              readRecord(r, resource, scopeName, path);
            } catch (err) {
              throw prefixPath(err, `${names[2]}[${path.recordIndex}]`);
            }
            leave(r, scopeLimit);
            path.recordIndex++;
          }
        } catch (err) {
          throw prefixPath(err, `${names[1]}[${path.scopeIndex}]`);
        }
        leave(r, resourceLimit);
        path.scopeIndex++;
      }
    } catch (err) {
      throw prefixPath(err, `${names[0]}[${path.resourceIndex}]`);
    }
    leave(r, requestLimit);
    path.resourceIndex++;
  }
}

/** Where the record being read sits; turned into text only when a record is rejected. */
export interface RecordPath {
  resourceIndex: number;
  scopeIndex: number;
  recordIndex: number;
  readonly names: readonly [string, string, string];
}

export function pathText(path: RecordPath): string {
  const [resources, scopes, records] = path.names;
  return `${resources}[${path.resourceIndex}].${scopes}[${path.scopeIndex}].${records}[${path.recordIndex}]`;
}

