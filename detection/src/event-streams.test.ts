import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HeliosEvent } from '@helios/core';
import { ServiceIncidents } from './service-incidents.js';
import { WindowAggregator } from './windows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);

function ev(fields: Partial<HeliosEvent>): HeliosEvent {
  return { id: '', timestamp: T0, service: 'checkout', level: 'INFO', message: '', kind: 'event', endpoint: null, latency_ms: null, status_code: null, error_code: null, trace_id: null, span_id: null, sample_rate: 1, attributes: {}, resource: {}, tenant: 't', ...fields };
}

/** One auto-instrumented request: SERVER span, HTTP and DB CLIENT children, an INTERNAL span, a log record. */
function request(at: number, failedCall: boolean): HeliosEvent[] {
  return [
    ev({ kind: 'span', timestamp: at, latency_ms: 100, status_code: failedCall ? 500 : 200, level: failedCall ? 'ERROR' : 'INFO', endpoint: '/api/checkout', attributes: { 'span.kind': 'server' } }),
    ev({ kind: 'span', timestamp: at, latency_ms: failedCall ? 1800 : 20, status_code: failedCall ? 503 : 200, level: failedCall ? 'ERROR' : 'INFO', endpoint: 'inventory GET /items/:id', attributes: { 'span.kind': 'client', 'peer.name': 'inventory', parent_span_id: '1' } }),
    ev({ kind: 'span', timestamp: at, latency_ms: 3, endpoint: 'postgresql SELECT', attributes: { 'span.kind': 'client', 'peer.name': 'postgresql', parent_span_id: '1' } }),
    ev({ kind: 'span', timestamp: at, latency_ms: 1, attributes: { 'span.kind': 'internal', parent_span_id: '1' } }),
    ev({ kind: 'log', timestamp: at, level: failedCall ? 'ERROR' : 'INFO' }),
    ev({ kind: 'metric', timestamp: at, status_code: 500, message: 'http.server.request.duration', attributes: { 'metric.name': 'http.server.request.duration', 'metric.type': 'gauge', 'metric.value': 1 } }),
  ];
}

describe('request, dependency and log series', () => {
  it('counts each request once, and windows the calls per peer and the logs apart from the requests', () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), (failures) => {
      const windows = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0 });
      failures.forEach((failed, i) => {
        for (const e of request(T0 + i * 100, failed)) windows.add(e, T0 + MIN);
      });
      const closed = windows.closeUpTo(T0 + MIN);
      const byStream = Object.fromEntries(closed.map((w) => [w.stream === undefined ? 'requests' : w.stream.kind === 'logs' ? 'logs' : w.stream.peer, w]));
      expect(Object.keys(byStream).sort()).toEqual(['inventory', 'logs', 'postgresql', 'requests']);
      const failedCount = failures.filter(Boolean).length;
      expect(byStream.requests!.features).toMatchObject({ total_events: failures.length, error_rate: failedCount / failures.length, avg_latency: 100, unique_endpoints: 1 });
      expect(byStream.inventory!.features).toMatchObject({ total_events: failures.length, error_rate: failedCount / failures.length });
      expect(byStream.postgresql!.features).toMatchObject({ total_events: failures.length, error_rate: 0, avg_latency: 3 });
      expect(byStream.logs!.features).toMatchObject({ total_events: failures.length, error_rate: failedCount / failures.length });
      expect(byStream.inventory!.stream).toEqual({ kind: 'dependency', peer: 'inventory' });
    }), { numRuns: 30 });
  });

  it('bounds the dependency series per service and counts the calls it could not window', () => {
    const windows = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0, maxDependencySeries: 3 });
    for (let i = 0; i < 10; i++) windows.add(ev({ kind: 'span', timestamp: T0 + i, attributes: { 'span.kind': 'client', 'peer.name': `host-${i}` } }), T0);
    expect(windows.closeUpTo(T0 + MIN).filter((w) => w.stream?.kind === 'dependency')).toHaveLength(3);
    expect(windows.dependencyOverflowCalls).toBe(7);
  });

  it('keeps Helios JSON events requests unless their kind says otherwise', () => {
    const windows = new WindowAggregator({ windowMs: MIN, hopMs: MIN, allowedLatenessMs: 0 });
    windows.add(ev({}), T0);
    windows.add(ev({ kind: 'span' }), T0); // a root span without a kind: a request
    windows.add(ev({ kind: 'span', attributes: { parent_span_id: '1' } }), T0); // a child without a kind: internal
    const [requests] = windows.closeUpTo(T0 + MIN);
    expect(requests!.stream).toBeUndefined();
    expect(requests!.features.total_events).toBe(2);
  });
});

describe('one incident per service across its streams', () => {
  const opened = { opened: {}, resolved: false };
  const normal = { resolved: false };
  const resolved = { resolved: true };
  const requests = { tenant: 't', service: 'checkout', start: 0, end: 1, features: {} as never };
  const calls = { ...requests, stream: { kind: 'dependency' as const, peer: 'inventory' } };
  const other = { ...requests, service: 'catalog' };

  it('raises the first series to open, stays silent while any series of the service is open, and raises again after', () => {
    const incidents = new ServiceIncidents();
    expect(incidents.raise(calls, opened)).toBe(true);
    expect(incidents.raise(requests, opened)).toBe(false); // the same failure seen in the requests
    expect(incidents.raise(other, opened)).toBe(true); // another service is another incident
    expect(incidents.raise(calls, resolved)).toBe(false);
    expect(incidents.raise(requests, normal)).toBe(false);
    expect(incidents.raise(requests, resolved)).toBe(false);
    expect(incidents.raise(requests, opened)).toBe(true);
  });
});
