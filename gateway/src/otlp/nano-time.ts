/** A 64-bit nanosecond timestamp split so that milliseconds stay exact: `ms * 1e6 + subMsNanos`. */
export interface NanoTime {
  ms: number;
  subMsNanos: number;
}
