// The SDK's own copy of the retry policy (core/src/retry.ts is the product's): @helios/sdk is published
// on its own and runs inside users' applications, so it depends on nothing of the repo (@helios/core
// would bring pino, prom-client and TypeBox into every instrumented app). Same policy: exponential from
// initial to max, full jitter for a fleet of clients, the server's Retry-After capped.
export interface BackoffPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): "full jitter" exponential backoff, a uniform pick in
 * [0, min(max, initial * 2^(attempt-1))]. Full jitter spreads a fleet of clients that all failed at the
 * same moment, which is exactly what happens when the gateway restarts.
 * A server's Retry-After wins when present (capped at maxBackoffMs so a bad header cannot park the SDK).
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxBackoffMs);
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.round(random() * ceiling));
}

/** Retry-After as delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
