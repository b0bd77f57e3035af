import { Type } from '@sinclair/typebox';
import { HeliosError, backoffDelayMs, sleep, type Logger } from '@helios/core';

/** setTimeout's longest delay; the backoff doubles without a cap of its own (maxAttempts, at most 10, bounds it). */
const MAX_TIMER_MS = 2_147_483_647;

/** One attempt's outcome, as a value: delivered, worth another try (after `retryAfterMs` when the far end said so), or not. */
export type AttemptOutcome<T> =
  | { status: 'success'; value: T }
  | { status: 'retryable'; error: string; retryAfterMs?: number }
  | { status: 'failure'; error: string };

export interface DeliveryRetryPolicy {
  /** Attempts in all (at least 1). */
  maxAttempts: number;
  /** First wait without Retry-After; doubles after each attempt. */
  initialBackoffMs: number;
  /** Longest wait honoured from Retry-After (a far end asking for an hour must not hold the delivery that long). */
  maxRetryAfterMs: number;
}

/**
 * Bounded retries for a reporter's delivery (Slack, webhook, PagerDuty, Alertmanager share it; the backoff is core's `backoffDelayMs`): `attempt`
 * runs until it succeeds, fails for good, or `maxAttempts` is spent; retryable outcomes wait Retry-After
 * (capped) or an exponential backoff. Throws HLS_ERR_PLUGIN_FAILED naming `what`, the attempts and the last error.
 */
export async function deliverWithRetry<T>(what: string, policy: DeliveryRetryPolicy, attempt: (n: number) => Promise<AttemptOutcome<T>>, logger?: Logger): Promise<T> {
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if (outcome.status === 'success') return outcome.value;
    if (outcome.status === 'failure' || n >= policy.maxAttempts) {
      throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `${what} failed after ${n} attempt(s) (${outcome.error})${outcome.status === 'failure' ? '; not retryable' : ''}`);
    }
    const wait = outcome.retryAfterMs !== undefined ? Math.min(outcome.retryAfterMs, policy.maxRetryAfterMs) : backoffDelayMs(n, { initialMs: policy.initialBackoffMs, maxMs: MAX_TIMER_MS });
    logger?.warn({ attempt: n, waitMs: wait, err: outcome.error }, `${what} failed; retrying`);
    await sleep(wait);
  }
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface JsonPostOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Statuses that count as delivered (default: any 2xx). */
  accepted?: (status: number) => boolean;
}

/**
 * One JSON POST as an `AttemptOutcome`: 2xx (or `accepted`) succeed with the response body's text; 429,
 * 5xx, timeouts and network errors are retryable (with the response's Retry-After); other statuses are
 * not (the request itself is wrong, sending it again cannot help). `body` is sent exactly as given.
 */
export function postJson(url: string, body: string, options: JsonPostOptions): Promise<AttemptOutcome<{ status: number; text: string }>> {
  return requestJson('POST', url, body, options);
}

/** `postJson` for any method; a request without a body (DELETE) sends no content type. */
export async function requestJson(method: 'POST' | 'PUT' | 'DELETE', url: string, body: string | undefined, options: JsonPostOptions): Promise<AttemptOutcome<{ status: number; text: string }>> {
  let response: Response;
  try {
    const headers = body === undefined ? { ...options.headers } : { 'content-type': 'application/json', ...options.headers };
    response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (err) {
    return { status: 'retryable', error: `${url}: ${(err as Error).message}` };
  }
  const text = await response.text().catch(() => '');
  const accepted = options.accepted ?? ((s: number) => s >= 200 && s < 300);
  if (accepted(response.status)) return { status: 'success', value: { status: response.status, text } };
  const error = `HTTP ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
  if (response.status === 429 || response.status >= 500) {
    const after = retryAfterMs(response.headers.get('retry-after'));
    return after === undefined ? { status: 'retryable', error } : { status: 'retryable', error, retryAfterMs: after };
  }
  return { status: 'failure', error };
}

/** The retry options of an HTTP-delivering reporter's config schema (spread into its properties), with their defaults. */
export const deliveryRetryOptions = {
  timeoutMs: Type.Integer({ minimum: 1, default: 10_000, description: 'Per request.' }),
  maxAttempts: Type.Integer({ minimum: 1, maximum: 10, default: 4, description: 'Attempts per delivery on 429, 5xx and network errors (other statuses fail at once).' }),
  initialBackoffMs: Type.Integer({ minimum: 0, default: 500, description: 'First wait between attempts without Retry-After; doubles each time.' }),
  maxRetryAfterMs: Type.Integer({ minimum: 0, default: 30_000, description: 'Longest wait honoured from a Retry-After header.' }),
};
