import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventRole, peerOf, type HeliosEvent } from '@helios/core';
import { EVENT_ROLE_SQL, PEER_SQL } from './event-role-sql.js';
import { createPgliteClient, createSqlStore } from './index.js';
import { event, T0 } from './store-contract.testkit.js';

const MIN = 60_000;

/** Events of every shape the role rule looks at: kind, span.kind (any value and type), parent span, peer attributes. */
const shapedEvent = fc.record({
  kind: fc.constantFrom('event', 'span', 'log', 'metric'),
  spanKind: fc.option(fc.oneof(fc.constantFrom('server', 'client', 'producer', 'consumer', 'internal', 'SERVER', ''), fc.integer({ min: 0, max: 5 })), { nil: undefined }),
  parent: fc.option(fc.constantFrom('00f067aa0ba902b7', null), { nil: undefined }),
  peerName: fc.option(fc.constantFrom('inventory', '', 'postgresql orders'), { nil: undefined }),
  peerService: fc.option(fc.constantFrom('pricing', ''), { nil: undefined }),
  serverAddress: fc.option(fc.oneof(fc.constantFrom('db-1', ''), fc.integer()), { nil: undefined }),
}).map((s) => {
  const attributes: Record<string, string | number | null> = {};
  if (s.spanKind !== undefined) attributes['span.kind'] = s.spanKind;
  if (s.parent !== undefined) attributes['parent_span_id'] = s.parent;
  if (s.peerName !== undefined) attributes['peer.name'] = s.peerName;
  if (s.peerService !== undefined) attributes['peer.service'] = s.peerService;
  if (s.serverAddress !== undefined) attributes['server.address'] = s.serverAddress;
  return event({ kind: s.kind, attributes, timestamp: T0 });
});

describe('event roles in SQL', () => {
  it('the store derives the role and peer of every event as core does', async () => {
    const client = await createPgliteClient();
    const store = createSqlStore(client);
    await store.migrate();
    try {
      await fc.assert(fc.asyncProperty(fc.array(shapedEvent, { minLength: 1, maxLength: 30 }), async (events) => {
        await client.exec('DELETE FROM helios_events');
        await store.insertEvents(events);
        const { rows } = await client.query<{ id: string; role: string; peer: string }>(`SELECT id, ${EVENT_ROLE_SQL} AS role, ${PEER_SQL} AS peer FROM helios_events`);
        const byId = new Map<string, HeliosEvent>(events.map((e) => [e.id, e]));
        expect(rows).toHaveLength(events.length);
        for (const r of rows) {
          const e = byId.get(r.id)!;
          expect({ role: r.role, peer: r.peer }, JSON.stringify(e.attributes)).toEqual({ role: eventRole(e), peer: peerOf(e) });
        }
      }), { numRuns: 15 });
    } finally {
      await store.close();
    }
  });

  it('counts requests once in the report context: client, internal spans, logs and metric points are not requests', async () => {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const server = (i: number, failed: boolean) => event({ kind: 'span', timestamp: T0 + i, latency_ms: 100, status_code: failed ? 500 : 200, trace_id: (100_000 + i).toString(16).padStart(32, 'a'), attributes: { 'span.kind': 'server' } });
    const client = (i: number, failed: boolean) => event({ kind: 'span', timestamp: T0 + i, latency_ms: failed ? 2000 : 10, status_code: failed ? 503 : 200, trace_id: (100_000 + i).toString(16).padStart(32, 'a'), attributes: { 'span.kind': 'client', 'peer.name': 'inventory', 'peer.type': 'http', parent_span_id: '00f067aa0ba902b7' } });
    const events = [];
    for (let i = 0; i < 20; i++) {
      const failed = i < 6;
      events.push(server(i, failed), client(i, failed), event({ kind: 'span', timestamp: T0 + i, latency_ms: 1, attributes: { 'span.kind': 'internal' } }));
      events.push(event({ kind: 'log', level: failed ? 'ERROR' : 'INFO', timestamp: T0 + i, message: failed ? 'stock lookup failed' : 'ok' }));
      events.push(event({ kind: 'metric', timestamp: T0 + i, status_code: 500, endpoint: '/metric-route', message: 'http.server.request.duration' }));
    }
    // A normal baseline for the dependency, the window before.
    for (let i = 0; i < 20; i++) events.push(client(-MIN + i * 100, false));
    await store.insertEvents(events);
    const ctx = await store.incidentContext({ tenant: 'acme', service: 'checkout', from: T0, to: T0 + MIN, baselineWindows: 1 });
    expect(ctx.window).toMatchObject({ events: 20, errors: 6, avgLatencyMs: 100 });
    expect(ctx.slowestEndpoints.map((e) => e.endpoint)).not.toContain('/metric-route');
    expect(ctx.topErrors.map((e) => e.message).sort()).toEqual(['', 'stock lookup failed']);
    expect(ctx.topErrors.map((e) => e.message)).not.toContain('http.server.request.duration');
    expect(ctx.dependencies).toHaveLength(1);
    expect(ctx.dependencies![0]).toMatchObject({
      peer: 'inventory', peerType: 'http', topFailure: '503', requestErrorsWithFailedCall: 6,
      window: { calls: 20, errors: 6, errorRate: 0.3 }, baseline: { calls: 20, errors: 0, errorRate: 0, p95LatencyMs: 10 },
    });
    expect(ctx.dependencies![0]!.exampleTraceIds).toHaveLength(3);
    // Rollups count requests and log records, not dependency calls, internal spans or metric points.
    await store.maintain({ now: T0 });
    const [minute] = await store.rollups({ tenant: 'acme', service: 'checkout', from: T0, to: T0 + MIN });
    expect(minute).toMatchObject({ events: 40, errors: 12 });
    await store.close();
  });
});
