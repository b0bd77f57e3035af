/**
 * One retry policy for every loop that waits and tries again (bus consumers, the spool's replay, the
 * store writer, reporters): exponential backoff from `initialMs`, doubling per failure up to `maxMs`,
 * optionally with full jitter. The attempt says what happened as a value, as OpenTelemetry JS's
 * retrying transport does: `success`, `retryable` (with the server's `retryInMs` when it named one) or
 * `failure` (retrying cannot help); only faults of the loop itself throw.
 */

export interface BackoffPolicy {
  /** Wait after the first failure, ms. */
  initialMs: number;
  /** Longest wait, ms; also caps a server's `retryInMs`, so a bad header cannot park the caller. */
  maxMs: number;
  /**
   * `full`: a uniform pick in [1, delay], which spreads a fleet of clients that all failed at the same
   * moment (a restart). `none` (default): the delay itself, for a single consumer waiting on its own
   * dependency, where spreading buys nothing and predictable waits are easier to read in logs.
   */
  jitter?: 'none' | 'full';
}

export type AttemptOutcome<T> =
  | { status: 'success'; value: T }
  | { status: 'retryable'; error: unknown; retryInMs?: number }
  | { status: 'failure'; error: unknown };

/** Wait before the retry that follows failure number `failures` (1-based). */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  // 2^30 already passes any sane maxMs; the cap keeps the arithmetic finite for any failure count.
  const delay = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  return policy.jitter === 'full' ? Math.max(1, Math.round(random() * delay)) : delay;
}

/** A timer that never holds the process open (a retry loop must not keep a stopping process alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Attempts in all, the first included; default unlimited (at-least-once consumers never give up). */
  maxAttempts?: number;
  /** Checked before each wait and before each retry: true ends the loop with the last outcome (shutdown). */
  shouldStop?: () => boolean;
  /** Told of each retryable failure before its wait (logging, metrics). */
  onRetry?: (failure: { attempt: number; waitMs: number; error: unknown }) => void;
  /** For tests: the clock's wait and the jitter's random source. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Run `attempt` (1-based number) until it succeeds, fails for good, runs out of attempts or is told to
 * stop; resolves with the last outcome, so the caller decides what a give-up means (throw, dead-letter,
 * store a status). A server's `retryInMs` replaces the backoff for that wait, capped at `policy.maxMs`.
 */
export async function retry<T>(attempt: (n: number) => Promise<AttemptOutcome<T>>, options: RetryOptions): Promise<AttemptOutcome<T>> {
  const wait = options.sleep ?? sleep;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if (outcome.status !== 'retryable' || n >= maxAttempts || options.shouldStop?.() === true) return outcome;
    const waitMs = outcome.retryInMs !== undefined ? Math.min(Math.max(0, outcome.retryInMs), options.policy.maxMs) : backoffDelayMs(n, options.policy, options.random);
    options.onRetry?.({ attempt: n, waitMs, error: outcome.error });
    await wait(waitMs);
    if (options.shouldStop?.() === true) return outcome;
  }
}

/**
 * The outcome of a function that throws on failure: its value, or its error judged by `classify`
 * (default: every error is retryable), which may also name the wait the error asked for.
 */
export async function attemptOf<T>(fn: () => Promise<T>, classify: (error: unknown) => 'retryable' | 'failure' | { retryInMs: number } = () => 'retryable'): Promise<AttemptOutcome<T>> {
  try {
    return { status: 'success', value: await fn() };
  } catch (error) {
    const kind = classify(error);
    if (kind === 'failure') return { status: 'failure', error };
    return kind === 'retryable' ? { status: 'retryable', error } : { status: 'retryable', error, retryInMs: kind.retryInMs };
  }
}
