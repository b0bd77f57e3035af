import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RouteTemplates, routeFromPath, routeTemplateHash } from '../src/middleware/request-event.js';

/** Path segments of every kind the guess tells apart: words, ids of each shape, `:id` itself, empty. */
const segment = fc.oneof(
  fc.constantFrom('users', 'orders', 'v1', 'api', '', ':id', 'a-b_c', 'été', '42x'),
  fc.integer({ min: 0, max: 1e9 }).map(String),
  fc.uuid(),
  fc.stringMatching(/^[0-9a-f]{16,40}$/),
  fc.stringMatching(/^[0-9A-Za-z_-]{18,24}$/),
  fc.string({ maxLength: 6 }),
);
const path = fc.tuple(
  fc.constantFrom('', 'http://host', 'x'),
  fc.array(segment, { maxLength: 6 }),
  fc.constantFrom('', '?q=1', '?next=/users/42', '?'),
).map(([prefix, segments, query]) => `${prefix}${segments.length > 0 ? '/' : ''}${segments.join('/')}${query}`);

describe('RouteTemplates', () => {
  it('gives routeFromPath\'s template for any path, first seen or known', () => {
    fc.assert(
      fc.property(fc.array(path, { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 8 }), (paths, maxTemplates) => {
        const templates = new RouteTemplates(maxTemplates);
        // Twice over: the second pass finds what the first one interned (or builds past the bound).
        for (const url of [...paths, ...paths]) expect(templates.of(url)).toBe(routeFromPath(url));
      }),
      { numRuns: 300 },
    );
  });

  it('tells apart templates whose hashes collide', () => {
    const byHash = new Map<number, string>();
    let pair: [string, string] | undefined;
    // Scrambled names: a 32-bit hash collides within about 10^5 random paths (short sequential names
    // differing in a few characters may never collide under FNV-1a).
    for (let i = 0; pair === undefined && i < 1_000_000; i++) {
      const url = `/w${(Math.imul(i, 2654435761) >>> 0).toString(36)}/list`;
      const hash = routeTemplateHash(url);
      const other = byHash.get(hash);
      if (other !== undefined) pair = [other, url];
      else byHash.set(hash, url);
    }
    expect(pair).toBeDefined();
    const [first, second] = pair!;
    const templates = new RouteTemplates();
    expect(templates.of(first)).toBe(first);
    expect(templates.of(second)).toBe(second);
    expect(templates.of(`${first}?page=2`)).toBe(first);
    expect(templates.of(second)).toBe(second);
  });

  it('keeps words, drops the query and replaces ids like routeFromPath', () => {
    const templates = new RouteTemplates();
    expect(templates.of('/users/42/orders/0190c2a4-6a4e-7cc1-8b52-4f7a1e6f0a11?x=1')).toBe('/users/:id/orders/:id');
    expect(templates.of('/users/43/orders/9f86d081884c7d659a2feaa0c55ad015')).toBe('/users/:id/orders/:id');
    expect(templates.of('/users/:id/orders/:id')).toBe('/users/:id/orders/:id');
    expect(templates.of('/users/me/orders')).toBe('/users/me/orders');
    expect(templates.of(undefined)).toBe('/');
    expect(templates.of('')).toBe('/');
  });
});
