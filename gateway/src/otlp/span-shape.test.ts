import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dependencyEndpoint, peerOfSpan, templatePath, trimStacktrace } from './span-shape.js';

describe('endpoint templates from raw paths', () => {
  it('replaces every id segment (numbers, UUIDs, hex, long tokens) by :id and keeps the words', () => {
    const word = fc.stringMatching(/^[a-z]{1,12}(-[a-z]{1,8})?$/);
    const id = fc.oneof(fc.nat().map(String), fc.uuid(), fc.stringMatching(/^[0-9a-f]{8,40}$/).filter((h) => /\d/.test(h)), fc.stringMatching(/^[A-Za-z0-9_-]{20,40}$/).filter((t) => /\d/.test(t)));
    const segment = fc.oneof(word.map((w) => ({ raw: w, template: w })), id.map((i) => ({ raw: i, template: ':id' })));
    fc.assert(fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.option(fc.stringMatching(/^[a-z=&0-9]{1,20}$/)), (segments, query) => {
      const raw = `/${segments.map((s) => s.raw).join('/')}${query === null ? '' : `?${query}`}`;
      expect(templatePath(raw)).toBe(`/${segments.map((s) => s.template).join('/')}`);
    }));
  });

  it('makes one endpoint of the paths of one route', () => {
    expect(new Set(['/api/items/123', '/api/items/456?x=1', '/api/items/9f8e7d6c5b4a'].map(templatePath))).toEqual(new Set(['/api/items/:id']));
    expect(templatePath('/v1/users/me')).toBe('/v1/users/me');
  });
});

describe('peers of client spans', () => {
  it('names the peer by the semantic conventions, peer.service first', () => {
    expect(peerOfSpan({ 'peer.service': 'inventory', 'server.address': '10.0.0.7', 'http.request.method': 'GET' })).toEqual({ name: 'inventory', type: 'http' });
    expect(peerOfSpan({ 'db.system': 'postgresql', 'db.namespace': 'orders', 'server.address': 'db-1' })).toEqual({ name: 'postgresql orders', type: 'db' });
    expect(peerOfSpan({ 'db.system': 'redis' })).toEqual({ name: 'redis', type: 'db' });
    expect(peerOfSpan({ 'messaging.system': 'kafka', 'messaging.destination.name': 'payments' })).toEqual({ name: 'kafka payments', type: 'messaging' });
    expect(peerOfSpan({ 'http.method': 'GET', 'http.url': 'https://user@pricing.internal:8443/p?q=1' })).toEqual({ name: 'pricing.internal', type: 'http' });
    expect(peerOfSpan({ 'rpc.system': 'grpc', 'rpc.service': 'Stock' })).toEqual({ name: 'Stock', type: 'rpc' });
    expect(peerOfSpan({})).toEqual({ name: 'unknown', type: 'other' });
  });

  it('gives a client span the peer and the operation as its endpoint', () => {
    expect(dependencyEndpoint('inventory', { 'http.request.method': 'GET', 'url.full': 'http://inventory:8080/api/items/123?x=1' }, 'GET')).toBe('inventory GET /api/items/:id');
    expect(dependencyEndpoint('postgresql orders', { 'db.operation.name': 'SELECT', 'db.collection.name': 'orders' }, 'SELECT orders')).toBe('postgresql orders SELECT orders');
    expect(dependencyEndpoint('kafka payments', { 'messaging.operation.type': 'publish' }, 'payments publish')).toBe('kafka payments publish');
    expect(dependencyEndpoint('unknown', {}, 'compute')).toBe('unknown compute');
  });
});

describe('stack traces', () => {
  it('keeps the first lines of exception.stacktrace only', () => {
    const attributes: Record<string, string> = { 'exception.stacktrace': ['Error: boom', ...Array.from({ length: 40 }, (_, i) => `    at f${i} (a.js:${i})`)].join('\n') };
    trimStacktrace(attributes);
    expect(attributes['exception.stacktrace']!.split('\n')).toEqual(['Error: boom', ...Array.from({ length: 7 }, (_, i) => `    at f${i} (a.js:${i})`)]);
    const short = { 'exception.stacktrace': 'Error: boom\n    at f (a.js:1)' };
    trimStacktrace(short);
    expect(short['exception.stacktrace']).toBe('Error: boom\n    at f (a.js:1)');
  });
});
