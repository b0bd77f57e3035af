/**
 * One memory budget for everything requests in flight hold of their bodies: the raw bytes as the
 * transport receives them (counted chunk by chunk, before a body is complete, so many slow uploads
 * cannot each hold megabytes unaccounted) and the decoded bytes of compressed bodies. A request that
 * would pass it is answered 503 with Retry-After, whatever its encoding: the budget counts bytes, not
 * requests or encodings. Every reservation is released when its request ends (answered or abandoned).
 */
export interface BodyBudget {
  /** The configured limit (gateway.maxInFlightBodyBytes). */
  readonly limit: number;
  /** Bytes reserved now. */
  readonly inUse: number;
  /** Most bytes ever reserved at once (never above `limit`). */
  readonly peak: number;
  /** Reserve `bytes` if they fit; false (nothing reserved) if they would pass the limit. */
  tryReserve(bytes: number): boolean;
  release(bytes: number): void;
}

export function createBodyBudget(limit: number): BodyBudget {
  let inUse = 0;
  let peak = 0;
  return {
    limit,
    get inUse() {
      return inUse;
    },
    get peak() {
      return peak;
    },
    tryReserve(bytes) {
      if (inUse + bytes > limit) return false;
      inUse += bytes;
      if (inUse > peak) peak = inUse;
      return true;
    },
    release(bytes) {
      inUse -= bytes;
    },
  };
}
