import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFact, uncheckedNumbers, writtenNumbers } from './number-check.js';

describe('number check', () => {
  it('reads numbers with units and skips times, dates, identifiers and small counts', () => {
    expect(writtenNumbers('At 12:55 UTC on 2026-01-01 p95 hit 1.4 s (1,400 ms), 35% of 614 requests, 3 endpoints, trace 0af7651916cd43dd, HTTP 5xx, DB_TIMEOUT2').map((n) => n.text))
      .toEqual(['1.4 s', '1,400 ms', '35%', '614']);
  });

  it('accepts any fact written rounded to the digits shown, as a percentage, or in seconds', () => {
    fc.assert(fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.integer({ min: 0, max: 2 }), (ratio, decimals) => {
      const text = `${(ratio * 100).toFixed(decimals)}%`;
      expect(uncheckedNumbers(text, [ratio])).toEqual([]);
    }));
    fc.assert(fc.property(fc.integer({ min: 11, max: 100_000 }), (ms) => {
      expect(uncheckedNumbers(`${(ms / 1000).toFixed(2)} s and ${ms.toLocaleString('en-US')} ms`, [ms])).toEqual([]);
    }));
  });

  it('flags a number far from every fact', () => {
    fc.assert(fc.property(fc.integer({ min: 20, max: 10_000 }), (fact) => {
      const wrong = fact * 3 + 7;
      expect(isFact({ text: String(wrong), value: wrong, unit: '', decimals: 0 }, [fact])).toBe(false);
    }));
  });
});
