import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptOf, backoffDelayMs, retry, type AttemptOutcome } from './retry.js';

const policyArb = fc.record({ initialMs: fc.integer({ min: 1, max: 10_000 }), maxMs: fc.integer({ min: 1, max: 1_000_000 }), jitter: fc.constantFrom('none' as const, 'full' as const) }).filter((p) => p.maxMs >= p.initialMs);

describe('backoffDelayMs', () => {
  it('doubles from initialMs up to maxMs; full jitter picks within [1, that]', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (policy, failures, r) => {
        const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures - 1, 30));
        const delay = backoffDelayMs(failures, policy, () => r);
        if (policy.jitter === 'none') expect(delay).toBe(ceiling);
        else expect(delay >= 1 && delay <= ceiling).toBe(true);
        expect(backoffDelayMs(failures + 1, { ...policy, jitter: 'none' })).toBeGreaterThanOrEqual(backoffDelayMs(failures, { ...policy, jitter: 'none' }));
      }),
    );
  });
});

describe('retry', () => {
  it('tries until success, failure or maxAttempts, waiting the backoff (or the capped retryInMs) between attempts', async () => {
    const step = fc.oneof(
      fc.constant<AttemptOutcome<string>>({ status: 'success', value: 'ok' }),
      fc.constant<AttemptOutcome<string>>({ status: 'failure', error: 'bad' }),
      fc.record({ status: fc.constant('retryable' as const), error: fc.constant('later'), retryInMs: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 25 }), policyArb, async (script, maxAttempts, policy) => {
        const waits: number[] = [];
        let calls = 0;
        const outcome = await retry(async (n) => {
          expect(n).toBe(++calls);
          return script[Math.min(n, script.length) - 1]!;
        }, { policy: { ...policy, jitter: 'none' }, maxAttempts, sleep: async (ms) => void waits.push(ms) });
        // The reference: the first non-retryable outcome, or the last allowed attempt.
        let expected = 0;
        for (let n = 1; n <= maxAttempts; n++) {
          expected = n;
          if (script[Math.min(n, script.length) - 1]!.status !== 'retryable') break;
        }
        expect(calls).toBe(expected);
        expect(outcome).toBe(script[Math.min(expected, script.length) - 1]);
        expect(waits).toHaveLength(expected - 1);
        waits.forEach((ms, i) => {
          const asked = script[Math.min(i + 1, script.length) - 1] as { retryInMs?: number };
          expect(ms).toBe(asked.retryInMs !== undefined ? Math.min(asked.retryInMs, policy.maxMs) : backoffDelayMs(i + 1, { ...policy, jitter: 'none' }));
        });
      }),
    );
  });

  it('stops when told to, with the last outcome, without another attempt', async () => {
    let stop = false;
    let calls = 0;
    const outcome = await retry(async () => {
      calls++;
      return { status: 'retryable', error: new Error('down') };
    }, { policy: { initialMs: 1, maxMs: 1 }, shouldStop: () => stop, sleep: async () => void (stop = calls >= 3) });
    expect(calls).toBe(3);
    expect(outcome.status).toBe('retryable');
  });

  it('attemptOf turns a throwing function into an outcome, as classified', async () => {
    expect(await attemptOf(async () => 7)).toEqual({ status: 'success', value: 7 });
    expect(await attemptOf(async () => { throw new Error('x'); }, () => 'failure')).toMatchObject({ status: 'failure' });
    expect(await attemptOf(async () => { throw new Error('x'); }, () => ({ retryInMs: 5 }))).toMatchObject({ status: 'retryable', retryInMs: 5 });
    expect(await attemptOf(async () => { throw new Error('x'); })).toMatchObject({ status: 'retryable' });
  });
});
