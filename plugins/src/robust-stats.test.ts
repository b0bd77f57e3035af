import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorCountZ, logGamma, upperNormalQuantile } from './robust-stats.js';

describe('count-aware error test', () => {
  it('upperNormalQuantile inverts the normal tail, far into it', () => {
    expect(upperNormalQuantile(Math.log(0.5))).toBeCloseTo(0, 8);
    expect(upperNormalQuantile(Math.log(0.025))).toBeCloseTo(1.959964, 5);
    expect(upperNormalQuantile(Math.log(1e-9))).toBeCloseTo(5.997807, 4);
    expect(upperNormalQuantile(Math.log(0.99))).toBeCloseTo(-2.326348, 5);
    expect(Number.isFinite(upperNormalQuantile(-2000))).toBe(true);
  });

  it('logGamma matches factorials', () => {
    expect(logGamma(1)).toBeCloseTo(0, 10);
    expect(logGamma(6)).toBeCloseTo(Math.log(120), 10);
    expect(logGamma(171)).toBeCloseTo(706.5730622457874, 6);
  });

  it('is the Poisson upper tail as a z-score', () => {
    // P(X >= 2 | 0.45) = 1 - e^-0.45 (1 + 0.45) = 0.07544: the e2e neighbour's 2 errors in 150 at 0.3 %.
    expect(errorCountZ(2, 150, 0.003)).toBeCloseTo(upperNormalQuantile(Math.log(1 - Math.exp(-0.45) * 1.45)), 6);
    expect(errorCountZ(0, 150, 0.003)).toBe(0);
    expect(errorCountZ(3, 1000, 0.01)).toBe(0); // fewer than expected
    expect(errorCountZ(1, 100, 0)).toBe(Infinity);
  });

  it('grows with the error count and shrinks with the baseline rate', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 10, max: 5000 }), fc.double({ min: 1e-5, max: 0.2, noNaN: true }), (k, n, p) => {
      const z = errorCountZ(k, n, p);
      expect(z).toBeGreaterThanOrEqual(0);
      expect(errorCountZ(k + 1, n, p)).toBeGreaterThanOrEqual(z);
      expect(errorCountZ(k, n, p * 1.5)).toBeLessThanOrEqual(z + 1e-9);
    }));
  });
});
