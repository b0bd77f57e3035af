import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Anomaly, DependencyStats, Incident } from '@helios/core';
import { composeTemplateReport } from './compose.js';
import { dependencyFinding } from './dependency-finding.js';

const totals = (calls: number, errors: number, p95: number) => ({ calls, errors, errorRate: calls > 0 ? errors / calls : 0, avgLatencyMs: p95 / 2, p95LatencyMs: p95 });

function incident(dependencies: DependencyStats[], errorsUp: boolean, stream?: Anomaly['stream']): Incident {
  const anomaly: Anomaly = {
    id: '0190a000-0000-7000-8000-000000000001', tenant: 't', service: 'checkout', windowStart: 0, windowEnd: 300_000, detectedAt: 300_000,
    detector: 'isolation-forest', severity: 'critical', score: 0.8, threshold: 0.6, modelVersion: 'v1',
    features: { total_events: 1000, error_rate: errorsUp ? 0.4 : 0.01, avg_latency: 50, p95_latency: 90, p99_latency: 120, latency_stddev: 10, unique_endpoints: 3 },
    explanation: [{ feature: 'error_rate', value: errorsUp ? 0.4 : 0.01, baseline: 0.01, contribution: 1, direction: errorsUp ? 'up' : 'flat' }],
    ...(stream === undefined ? {} : { stream }),
  };
  return {
    anomaly,
    context: {
      window: { from: 0, to: 300_000, events: 1000, errors: errorsUp ? 400 : 10, avgLatencyMs: 50, p95LatencyMs: 90 },
      baseline: { from: -900_000, to: 0, events: 3000, errors: 30, avgLatencyMs: 50, p95LatencyMs: 90 },
      topErrors: [], slowestEndpoints: [], tenants: [], exampleTraceIds: [], dependencies,
    },
  };
}

const inventory = (failed: number): DependencyStats => ({
  peer: 'inventory', peerType: 'http', window: totals(1000, failed, 1800), baseline: totals(3000, 3, 18), topFailure: '503',
  exampleTraceIds: ['4bf92f3577b34da6a3ce929d0e0e4736'], requestErrorsWithFailedCall: Math.min(failed, 400),
});
const database: DependencyStats = { peer: 'postgresql orders', peerType: 'db', window: totals(1000, 0, 4), baseline: totals(3000, 0, 4), topFailure: null, exampleTraceIds: [], requestErrorsWithFailedCall: 0 };

describe('the failing dependency in the Root Cause Analysis', () => {
  it('names the dependency whose failures the service follows, with its numbers and traces, whatever its rank', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 1000 }), fc.boolean(), (failed, dbFirst) => {
      const draft = composeTemplateReport(incident(dbFirst ? [database, inventory(failed)] : [inventory(failed), database], true));
      const rca = draft.sections.rootCauseAnalysis;
      expect(rca).toContain(`Calls to \`inventory\` (HTTP) failed ${Math.round(failed / 10)} % with 503 (0 % before) and took 1.8 s p95 vs 18 ms over 1,000 calls; checkout's errors follow them.`);
      expect(rca).toContain(`${Math.min(failed, 400)} of 400 failed requests of \`checkout\` had a failed call to \`inventory\` in their trace.`);
      expect(rca).toContain('`4bf92f3577b34da6a3ce929d0e0e4736`');
      expect(rca).not.toContain('postgresql orders');
      expect(draft.sections.impactAssessment).toContain('Dependency: `inventory`');
    }), { numRuns: 20 });
  });

  it('blames no dependency when none moved, or when the service did not move with it', () => {
    expect(dependencyFinding(incident([database], true))).toBeUndefined();
    expect(dependencyFinding(incident([inventory(2)], true))).toBeUndefined(); // its failures did not rise
    expect(dependencyFinding(incident([inventory(500)], false))).toBeUndefined(); // the service's errors did not follow
    expect(composeTemplateReport(incident([database], true)).sections.rootCauseAnalysis).not.toContain('Failing dependency');
  });

  it('names the dependency of an anomaly in the calls to it', () => {
    const finding = dependencyFinding(incident([database, inventory(500)], false, { kind: 'dependency', peer: 'inventory' }));
    expect(finding?.dependency.peer).toBe('inventory');
    expect(finding?.lines[0]).toContain("the anomaly is in checkout's calls to it");
  });
});
