/**
 * The ranges the store can hold, shared by the schema (which publishes them) and makeStorable (which
 * enforces them where every input format converges): see storable.ts for why each bound is what it is.
 */
export const MIN_EVENT_TIMESTAMP_MS = 0;
export const MAX_EVENT_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const MAX_SAMPLE_RATE = 1_000_000_000;
/** About 31,700 years: every span duration OTLP's 64-bit nanosecond times can express fits. */
export const MAX_LATENCY_MS = 1e15;
export const MAX_ATTRIBUTE_KEY_LENGTH = 256;
