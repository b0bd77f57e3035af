import { performance } from 'node:perf_hooks';

/**
 * Client-side sampling of successful HTTP request events with exact counts, as production APMs do it
 * (Honeycomb's SampleRate, OpenTelemetry's adjusted count): per (route, method, status) and interval,
 *
 * - the first `maxEventsPerKey / 2` requests are sent at once, each standing for itself (or for
 *   `1 / sampleRate` requests when the `sampleRate` option thinned them first);
 * - the rest feed a uniform reservoir of `maxEventsPerKey / 2` slots, sent when the interval closes,
 *   each with `sample_rate = (what the rest stood for) / (slots kept)`.
 *
 * So every request is counted exactly once in the sum of `sample_rate` (Helios counts that sum in its
 * windows, rollups and reports), at most `maxEventsPerKey` events per key and interval leave the process,
 * and a key below the budget sends every request with sample_rate 1, as without sampling. Failed
 * requests never come here: the caller sends them at once, unsampled.
 *
 * The hot path allocates nothing: keys are found by route string, then method and status in a short
 * array; a request the reservoir skips costs a count and a random number (not even a clock read: its
 * latency is computed only if it is kept), and the event object is built only for requests actually sent.
 */
export interface RequestSamplerOptions {
  /** Request events per key (route, method, status) and interval at most; >= 2. */
  maxEventsPerKey: number;
  intervalMs: number;
  /**
   * Send one request event now. `spanIds` is read only for requests that are kept, so the caller's
   * trace lookup runs for those alone.
   */
  send(timestamp: number, method: string, route: string, statusCode: number, latencyMs: number, traceId: string | undefined, spanId: string | undefined, sampleRate: number): void;
  /** The active span's ids at the moment a request is kept. */
  spanIds(): { traceId: string; spanId: string } | undefined;
}

export interface RequestSampler {
  /**
   * One successful request standing for `weight` requests (1, or 1/sampleRate), which took
   * `latencySince(startMs, endMs)`: with `endMs` undefined (it ends now) the clock is read only if it is kept.
   */
  offer(method: string, route: string, statusCode: number, startMs: number, endMs: number | undefined, weight: number): void;
  /** Send what the reservoirs hold and start a new interval (timer, flush, shutdown). */
  closeInterval(): void;
  /** Stop the interval timer after a last closeInterval. Idempotent. */
  stop(): void;
}

/** Keys tracked at most; requests of further keys are sent as they are (sample_rate = weight). */
const MAX_KEYS = 2000;

class KeyState {
  /** Requests sent at once this interval. */
  direct = 0;
  /** Requests past the direct share this interval, and what they stand for. */
  overflow = 0;
  overflowWeight = 0;
  /** A key silent for a whole interval is forgotten (memory stays bounded by active keys). */
  idleIntervals = 0;
  readonly timestamps: Float64Array;
  readonly latencies: Float64Array;
  readonly traceIds: Array<string | undefined>;
  readonly spanIds: Array<string | undefined>;
  constructor(readonly method: string, readonly statusCode: number, slots: number) {
    this.timestamps = new Float64Array(slots);
    this.latencies = new Float64Array(slots);
    this.traceIds = new Array<string | undefined>(slots).fill(undefined);
    this.spanIds = new Array<string | undefined>(slots).fill(undefined);
  }
}

/** A request's latency in ms: from `startMs` to `endMs`, or to now (`performance.now()`) when `endMs` is undefined. */
export function latencySince(startMs: number, endMs: number | undefined): number {
  return (endMs ?? performance.now()) - startMs;
}

export function createRequestSampler(options: RequestSamplerOptions): RequestSampler {
  const { send, spanIds } = options;
  const direct = Math.ceil(options.maxEventsPerKey / 2);
  const slots = options.maxEventsPerKey - direct;
  const byRoute = new Map<string, KeyState[]>();
  let keys = 0;

  function stateOf(method: string, route: string, statusCode: number): KeyState | undefined {
    let states = byRoute.get(route);
    if (states !== undefined) {
      for (let i = 0; i < states.length; i++) {
        const s = states[i]!;
        if (s.statusCode === statusCode && s.method === method) return s;
      }
    }
    if (keys >= MAX_KEYS) return undefined;
    if (states === undefined) byRoute.set(route, (states = []));
    const state = new KeyState(method, statusCode, slots);
    states.push(state);
    keys++;
    return state;
  }

  function offer(method: string, route: string, statusCode: number, startMs: number, endMs: number | undefined, weight: number): void {
    const state = stateOf(method, route, statusCode);
    if (state === undefined || state.direct < direct) {
      if (state !== undefined) state.direct++;
      const ids = spanIds();
      send(Date.now(), method, route, statusCode, latencySince(startMs, endMs), ids?.traceId, ids?.spanId, weight);
      return;
    }
    const seen = ++state.overflow;
    state.overflowWeight += weight;
    // Reservoir sampling (Algorithm R): after n requests each one is in the reservoir with probability slots/n.
    let slot = seen - 1;
    if (seen > slots) {
      slot = Math.floor(Math.random() * seen);
      if (slot >= slots) return;
    }
    const ids = spanIds();
    state.timestamps[slot] = Date.now();
    state.latencies[slot] = latencySince(startMs, endMs);
    state.traceIds[slot] = ids?.traceId;
    state.spanIds[slot] = ids?.spanId;
  }

  function closeInterval(): void {
    for (const [route, states] of byRoute) {
      for (let i = states.length - 1; i >= 0; i--) {
        const s = states[i]!;
        if (s.direct === 0 && s.overflow === 0) {
          if (++s.idleIntervals > 1) {
            states.splice(i, 1);
            keys--;
          }
          continue;
        }
        s.idleIntervals = 0;
        const kept = Math.min(s.overflow, slots);
        // Each kept request stands for an equal share of all the overflow stood for: the sum is exact.
        const rate = kept > 0 ? s.overflowWeight / kept : 1;
        for (let k = 0; k < kept; k++) {
          send(s.timestamps[k]!, s.method, route, s.statusCode, s.latencies[k]!, s.traceIds[k], s.spanIds[k], rate);
          s.traceIds[k] = undefined;
          s.spanIds[k] = undefined;
        }
        s.direct = 0;
        s.overflow = 0;
        s.overflowWeight = 0;
      }
      if (states.length === 0) byRoute.delete(route);
    }
  }

  const timer = setInterval(closeInterval, options.intervalMs);
  timer.unref();
  return {
    offer,
    closeInterval,
    stop: () => clearInterval(timer),
  };
}
