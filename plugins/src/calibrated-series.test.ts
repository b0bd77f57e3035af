import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@helios/core';
import { medianInPlace, selectInPlace, tailQuantile } from './calibrated-series.js';

describe('selection and the tail fit behind calibrated thresholds', () => {
  it('selectInPlace puts the k-th smallest at k, smaller before and larger after', () => {
    fc.assert(fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 300 }), fc.nat(), (values, pick) => {
      const a = Float64Array.from(values);
      const k = pick % a.length;
      selectInPlace(a, k);
      const sorted = Float64Array.from(values).sort();
      expect(a[k]).toBe(sorted[k]);
      for (let i = 0; i < k; i++) expect(a[i]!).toBeLessThanOrEqual(a[k]!);
      for (let i = k + 1; i < a.length; i++) expect(a[i]!).toBeGreaterThanOrEqual(a[k]!);
      const median = sorted.length % 2 === 1 ? sorted[sorted.length >> 1]! : (sorted[(sorted.length >> 1) - 1]! + sorted[sorted.length >> 1]!) / 2;
      expect(medianInPlace(Float64Array.from(values))).toBe(median);
    }));
  });

  it('extrapolates past the sample: the 1 - 1e-4 quantile of exponential and half-normal scores within 25 %', () => {
    const random = seededRandom(11);
    const exponential = Float64Array.from({ length: 2880 }, () => -Math.log(1 - random()));
    // True quantile of Exp(1) at 1 - 1e-4: ln(1e4).
    expect(tailQuantile(exponential, 1e-4) / Math.log(1e4)).toBeGreaterThan(0.75);
    expect(tailQuantile(exponential, 1e-4) / Math.log(1e4)).toBeLessThan(1.25);
    const halfNormal = Float64Array.from({ length: 2880 }, () => Math.abs(Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())));
    // |N(0,1)| at 1 - 1e-4: 3.89. An exponential-type tail overestimates a Gaussian one: conservative, never below.
    expect(tailQuantile(halfNormal, 1e-4)).toBeGreaterThan(3.89 * 0.9);
    expect(tailQuantile(halfNormal, 1e-4)).toBeLessThan(3.89 * 1.6);
  });
});
