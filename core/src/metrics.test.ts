import fc from 'fast-check';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OVERFLOW_SERVICE_LABEL, Registry, serviceLabelGuard } from './metrics.js';

describe('service label guard', () => {
  it('gives each tenant at most maxServicesPerTenant labels of their own, the first ones seen, and counts every other event as overflow', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.constantFrom('t1', 't2', 't3'), fc.string({ minLength: 1, maxLength: 3 })), { maxLength: 300 }),
        async (max, uses) => {
          const registry = new Registry();
          const guard = serviceLabelGuard({ registry, maxServicesPerTenant: max, idleMs: 0, now: () => 0 });
          // Reference model: the first `max` distinct services of each tenant keep their names.
          const admitted = new Map<string, string[]>();
          let overflowed = 0;
          for (const [tenant, service] of uses) {
            const own = admitted.get(tenant) ?? [];
            admitted.set(tenant, own);
            if (!own.includes(service) && own.length < max) own.push(service);
            const expected = own.includes(service) ? service : OVERFLOW_SERVICE_LABEL;
            if (expected === OVERFLOW_SERVICE_LABEL) overflowed++;
            expect(guard.label(tenant, service)).toBe(expected);
          }
          expect(guard.size()).toBe(new Set([...admitted.values()].flat()).size);
          // Pending overflow counts reach the counter at a scrape (its collect).
          const counted = await (registry.getSingleMetric('helios_metrics_series_overflow_total') as Counter).get();
          expect(counted.values.reduce((sum, v) => sum + v.value, 0)).toBe(overflowed);
        },
      ),
    );
  });

  it('expires labels idle longer than idleMs, tells the metrics, and keeps a label two tenants share until both let go', () => {
    let clock = 0;
    const guard = serviceLabelGuard({ registry: new Registry(), maxServicesPerTenant: 10, idleMs: 1000, now: () => clock });
    const removed: string[] = [];
    guard.onExpired((service) => removed.push(service));
    guard.label('a', 'shared');
    guard.label('a', 'only-a');
    guard.label('b', 'shared');
    clock = 600;
    guard.label('b', 'shared');
    clock = 1500;
    guard.sweep();
    expect(removed).toEqual(['only-a']); // 'shared' is still used by b (600 ms ago)
    clock = 1700;
    guard.sweep();
    expect(removed).toEqual(['only-a', 'shared']);
    expect(guard.size()).toBe(0);
  });

  it('is one guard per registry, so the gateway and detection of one process share their metrics', () => {
    const registry = new Registry();
    const first = serviceLabelGuard({ registry, maxServicesPerTenant: 1, idleMs: 0 });
    expect(serviceLabelGuard({ registry, maxServicesPerTenant: 5, idleMs: 0 })).toBe(first);
  });
});
