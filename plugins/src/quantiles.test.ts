import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median, medianOfSorted, quantileOf, quantileOfSorted, rocAuc, upperQuantileOfSorted } from './quantiles.js';

const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 200 });
const ascending = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

describe('quantiles', () => {
  it('interpolate linearly between ranks (numpy type 7), 0 when empty', () => {
    const sorted = new Float64Array([1, 2, 3, 4]);
    expect(quantileOfSorted(sorted, 0)).toBe(1);
    expect(quantileOfSorted(sorted, 1)).toBe(4);
    expect(quantileOfSorted(sorted, 0.5)).toBe(2.5);
    expect(quantileOfSorted([10, 20], 0.25)).toBe(12.5);
    expect(quantileOfSorted([7], 0.99)).toBe(7);
    expect(quantileOfSorted([], 0.99)).toBe(0);
    expect(quantileOf([], 0.5)).toBeNull();
  });

  it('refuse q outside [0, 1]', () => {
    expect(() => quantileOfSorted([1, 2], 1.5)).toThrow(/\[0, 1\]/);
    expect(() => quantileOfSorted([1, 2], Number.NaN)).toThrow(/\[0, 1\]/);
  });

  it('lie between the extremes, grow with q, and agree with each other', () => {
    fc.assert(
      fc.property(values.filter((xs) => xs.length > 0), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q1, q2) => {
        const s = ascending(xs);
        const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
        expect(quantileOfSorted(s, lo)).toBeLessThanOrEqual(quantileOfSorted(s, hi) + 1e-9 * Math.abs(quantileOfSorted(s, hi)));
        expect(quantileOfSorted(s, lo)).toBeGreaterThanOrEqual(s[0]!);
        expect(quantileOfSorted(s, hi)).toBeLessThanOrEqual(s[s.length - 1]!);
        expect(quantileOf(xs, lo)).toBe(quantileOfSorted(s, lo));
        expect(median(xs)).toBeCloseTo(quantileOfSorted(s, 0.5), 6);
        expect(medianOfSorted(s)).toBe(median(xs));
        expect(s).toContain(upperQuantileOfSorted(s, lo)); // nearest rank: a value that was seen
        expect(s.filter((x) => x <= upperQuantileOfSorted(s, lo)).length / s.length).toBeGreaterThanOrEqual(Math.min(lo, 1 - 1 / s.length));
      }),
    );
  });
});

describe('rocAuc', () => {
  it('is the share of (positive, negative) pairs the positive outscores, ties counting half; null without both classes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.constantFrom(0, 1)), { maxLength: 60 }), (rows) => {
        const scores = rows.map(([s]) => s);
        const labels = rows.map(([, l]) => l);
        const pos = scores.filter((_, i) => labels[i] === 1);
        const neg = scores.filter((_, i) => labels[i] === 0);
        const auc = rocAuc(scores, labels);
        if (pos.length === 0 || neg.length === 0) {
          expect(auc).toBeNull();
          return;
        }
        let wins = 0;
        for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
        expect(auc).toBeCloseTo(wins / (pos.length * neg.length), 12);
      }),
    );
  });
});
