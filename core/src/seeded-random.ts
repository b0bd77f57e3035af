/**
 * The one seeded pseudo-random generator of Helios: xoshiro128** (Blackman & Vigna), its 128-bit state
 * filled from the seed by splitmix32. Same seed → same sequence on every platform and Node version,
 * because it uses only 32-bit integer arithmetic (`Math.imul`, shifts) — no `Math.random`, no floats
 * in the state. That is what makes a trained forest reproducible from `(data, seed)`, and synthetic
 * traffic (the demo, the load generator, the eval suite, fuzz tests) the same on every run. Not for
 * anything secret.
 */
export interface SeededRandom {
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 53 bits of precision (two draws). */
  nextFloat(): number;
  /** Uniform integer in [0, bound), bound in [1, 2^32]; multiply-shift, bias at most bound / 2^32. */
  nextInt(bound: number): number;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** splitmix32 step: turns any 32-bit value into a well-mixed one; used only to seed the state. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Creates a generator from an integer seed. Any safe integer (negative too) is accepted; the high and
 * low 32-bit halves are both mixed in, so seeds beyond 2^32 do not collide with their low half.
 */
export function createRandom(seed: number): SeededRandom {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  }
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  let mix = splitmix32(low ^ splitmix32(high));
  let s0 = mix;
  mix = splitmix32(mix);
  let s1 = mix;
  mix = splitmix32(mix);
  let s2 = mix;
  mix = splitmix32(mix);
  let s3 = mix;
  // xoshiro's state must not be all zero; splitmix32 outputs make that practically impossible, but be sure.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  function nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  }

  return {
    nextUint32,
    nextFloat(): number {
      const high27 = nextUint32() >>> 5;
      const low26 = nextUint32() >>> 6;
      return (high27 * 67108864 + low26) / TWO_POW_53;
    },
    nextInt(bound: number): number {
      return Math.floor((nextUint32() * bound) / TWO_POW_32);
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The generator as a plain `() => number` in [0, 1) (one 32-bit draw), for callers that want only that. */
export function seededRandom(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.nextUint32() / TWO_POW_32;
}
