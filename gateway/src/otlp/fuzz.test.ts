import { HeliosEventSchema, compileValidator, isHeliosError, type HeliosEvent } from '@helios/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeOtlp, type OtlpSignal } from './index.js';
import { sampleLogs, sampleMetrics, sampleTraces, utf8, type Payload } from './otel-sdk.fixture.js';

/**
 * Whatever arrives, the decoder either returns events that satisfy the HeliosEvent schema or
 * throws HLS_ERR_BODY_MALFORMED: never another exception (a crash in the gateway), never an event
 * the store would refuse. Loops cannot hang: every read advances or throws, which these runs
 * exercise on truncations and bogus lengths (a hang would fail the test by its timeout).
 */

const context = { tenant: 'fuzz', now: 1_700_000_000_000 };
const eventValidator = compileValidator<HeliosEvent>(HeliosEventSchema);
const SIGNALS: readonly OtlpSignal[] = ['logs', 'traces', 'metrics'];
const RUNS = 400;

function decodesOrRefuses(signal: OtlpSignal, body: Uint8Array, encoding: 'protobuf' | 'json'): void {
  let events: HeliosEvent[];
  try {
    const result = decodeOtlp(signal, body, encoding, context);
    expect(result.rejected >= 0).toBe(true);
    events = result.events;
  } catch (err) {
    if (!isHeliosError(err, 'HLS_ERR_BODY_MALFORMED')) throw err;
    return;
  }
  for (const event of events) {
    const problems = eventValidator.errors(event);
    if (problems.length > 0) throw new Error(`invalid event ${JSON.stringify(event)}: ${problems.join('; ')}`);
  }
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 12 }) }),
);

function mutate(original: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(original);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    const at = m.at % bytes.length;
    if (m.kind === 'flip') bytes[at] ^= 1 << m.bit;
    else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
    else if (m.kind === 'insert') bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
    else bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + m.count)]);
  }
  return bytes;
}

/** Every path into a JSON tree, to replace one node with a random value. */
function jsonPaths(value: unknown, path: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(path);
  if (Array.isArray(value)) value.forEach((item, i) => jsonPaths(item, [...path, i], out));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) jsonPaths(item, [...path, key], out);
  return out;
}

function replaceAt(root: unknown, path: ReadonlyArray<string | number>, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = replacement;
  return copy;
}

describe('OTLP decoder under random and mutated input', () => {
  const payloads = new Map<OtlpSignal, Payload>();
  beforeAll(async () => {
    payloads.set('traces', (await sampleTraces()).payload);
    payloads.set('logs', (await sampleLogs()).payload);
    payloads.set('metrics', (await sampleMetrics()).payload);
  });

  for (const signal of SIGNALS) {
    it(`${signal}: random bytes, as protobuf and as JSON`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
          decodesOrRefuses(signal, bytes, 'protobuf');
          decodesOrRefuses(signal, bytes, 'json');
        }),
        { numRuns: RUNS },
      );
    });

    it(`${signal}: SDK protobuf payloads with bit flips, truncation, insertion and deletion`, () => {
      const original = payloads.get(signal)!.protobuf;
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
          decodesOrRefuses(signal, mutate(original, mutations), 'protobuf');
        }),
        { numRuns: RUNS },
      );
    });

    it(`${signal}: SDK JSON payloads with byte mutations and random values swapped into the tree`, () => {
      const original = payloads.get(signal)!.json;
      const tree = JSON.parse(new TextDecoder().decode(original)) as unknown;
      const paths = jsonPaths(tree);
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
          decodesOrRefuses(signal, mutate(original, mutations), 'json');
        }),
        { numRuns: RUNS },
      );
      fc.assert(
        fc.property(fc.nat({ max: paths.length - 1 }), fc.jsonValue({ maxDepth: 4 }), (index, replacement) => {
          decodesOrRefuses(signal, utf8(JSON.stringify(replaceAt(tree, paths[index], replacement))), 'json');
        }),
        { numRuns: RUNS },
      );
    });
  }
});
