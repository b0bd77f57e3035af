import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, type Detection, type FeatureWindow, type Features } from '@helios/core';
import { severityOf } from './detect-runtime.js';
import { normalFeatures } from '@helios/plugins/testing';

const baseline = normalFeatures({ total_events: 600, error_rate: 0.01, p95_latency: 80, p99_latency: 100 });

function judged(features: Partial<Features>, score = 1.2, threshold = 1): [Detection, FeatureWindow] {
  const f = { ...baseline, ...features };
  const detection: Detection = {
    score, threshold, anomalous: true, modelVersion: 't',
    explanation: FEATURE_NAMES.map((feature) => ({ feature, value: f[feature], baseline: baseline[feature], contribution: 1 / 7, direction: 'flat' as const })),
  };
  return [detection, { tenant: 't', service: 's', start: 0, end: 300_000, features: f }];
}

describe('severityOf', () => {
  it('is critical for outages users feel: a quarter of requests failing, a 10x slower tail, or 90% of traffic gone', () => {
    expect(severityOf(...judged({ error_rate: 0.3 }))).toBe('critical');
    expect(severityOf(...judged({ p99_latency: 1_200 }))).toBe('critical');
    expect(severityOf(...judged({ total_events: 40 }))).toBe('critical');
  });

  it('is high for a clear degradation: 5% errors, a 3x slower tail, or half the traffic gone', () => {
    expect(severityOf(...judged({ error_rate: 0.06 }))).toBe('high');
    expect(severityOf(...judged({ p95_latency: 300 }))).toBe('high');
    expect(severityOf(...judged({ total_events: 250 }))).toBe('high');
  });

  it('falls back on the detector score when the impact is small', () => {
    expect(severityOf(...judged({ unique_endpoints: 40 }, 2, 1))).toBe('medium');
    expect(severityOf(...judged({ unique_endpoints: 40 }, 1.1, 1))).toBe('low');
  });
});
