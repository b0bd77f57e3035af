import { MessageChannel } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Topics, newEventId, normalizeEventBatch, parseEventsBody, type EventsBodyKind, type HeliosEvent } from '@helios/core';
import { createMemoryBus } from './memory-bus.js';
import { createThreadPublisher, serveThreadPublisher } from './thread-bus.js';

/** A request as a gateway thread handles it: its bytes, parsed and normalized, then handed over. */
function request(events: Array<{ service: string; message: string }>, kind: EventsBodyKind, tenant: string) {
  const text = kind === 'json' ? JSON.stringify(events) : events.map((e) => JSON.stringify(e)).join('\n');
  const body = Buffer.from(text);
  const receivedAt = 1_700_000_000_000;
  const idBase = newEventId();
  const normalized = normalizeEventBatch(parseEventsBody(body, kind, 1_000_000), { tenant, now: receivedAt, idBase });
  return { events: normalized, body, kind, tenant, receivedAt, idBase };
}

const arbRequest = fc.record({
  kind: fc.constantFrom<EventsBodyKind>('json', 'ndjson'),
  tenant: fc.constantFrom('default', 'acme'),
  events: fc.array(fc.record({ service: fc.constantFrom('a', 'b', 'c'), message: fc.string({ maxLength: 20 }) }), { minLength: 1, maxLength: 20 }),
  /** Yield to the event loop after this request (the publisher then sends what it gathered). */
  pause: fc.boolean(),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('thread bus (gateway thread -> pipeline thread)', () => {
  it('delivers every accepted event exactly once, field for field, in order per service; refused ones never', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(arbRequest, { maxLength: 15 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 20, max: 400 }), async (perPublisher, capacity) => {
        const bus = createMemoryBus({ capacity });
        const stored: HeliosEvent[] = [];
        // A consumer slower than the publishers, so some publishes meet a full bus.
        bus.subscribe<HeliosEvent>(Topics.events, 'storage', async (records) => {
          await sleep(1);
          for (const r of records) stored.push(r.value);
        }, { maxBatch: 50 });
        const channels = perPublisher.map(() => new MessageChannel());
        const pipelines = channels.map((c) => serveThreadPublisher(c.port2, { bus, topic: Topics.events, statusIntervalMs: 1 }));
        const publishers = channels.map((c) => createThreadPublisher(c.port1, { capacity, topic: Topics.events }));
        const accepted: HeliosEvent[][] = perPublisher.map(() => []);
        await Promise.all(perPublisher.map(async (requests, p) => {
          for (const r of requests) {
            const batch = request(r.events, r.kind, r.tenant);
            try {
              publishers[p]!.publishEventsSync!(Topics.events, batch);
              accepted[p]!.push(...batch.events);
            } catch (err) {
              expect(err).toMatchObject({ code: 'HLS_ERR_BUS_FULL', status: 429 });

            }
            if (r.pause) await sleep(0);
          }
        }));
        await Promise.all(pipelines.map((p) => p.sync()));
        expect(await bus.drain(10_000)).toBe(true);
        const all = accepted.flat();
        expect(stored).toHaveLength(all.length);
        expect(new Set(stored.map((e) => e.id)).size).toBe(all.length);
        const byId = new Map(stored.map((e) => [e.id, e]));
        for (const e of all) expect(byId.get(e.id)).toEqual(e);
        // Per publisher (a gateway thread) and service: stored in the order accepted.
        for (const events of accepted) {
          for (const service of ['a', 'b', 'c']) {
            const sent = events.filter((e) => e.service === service).map((e) => e.id);
            const ids = new Set(sent);
            expect(stored.filter((e) => ids.has(e.id)).map((e) => e.id)).toEqual(sent);
          }
        }
        for (const p of pipelines) p.close();
        for (const c of channels) c.port1.close();
        await bus.close();
      }),
      { numRuns: 25 },
    );
  });

  it('refuses with HLS_ERR_BUS_FULL (429) while the pipeline holds capacity, and accepts again once it is consumed', async () => {
    const bus = createMemoryBus({ capacity: 10 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bus.subscribe(Topics.events, 'slow', () => gate);
    const { port1, port2 } = new MessageChannel();
    const pipeline = serveThreadPublisher(port2, { bus, topic: Topics.events, statusIntervalMs: 1 });
    const publisher = createThreadPublisher(port1, { capacity: 10, topic: Topics.events });
    const events = (n: number) => request(Array.from({ length: n }, (_, i) => ({ service: 'a', message: `m${i}` })), 'json', 'default');
    publisher.publishEventsSync!(Topics.events, events(8));
    // In transit counts too: before the pipeline reported anything, 8 + 3 passes the capacity.
    expect(() => publisher.publishEventsSync!(Topics.events, events(3))).toThrow(expect.objectContaining({ code: 'HLS_ERR_BUS_FULL', status: 429 }));
    await pipeline.sync();
    await sleep(20);
    expect(() => publisher.publishEventsSync!(Topics.events, events(3))).toThrow(expect.objectContaining({ code: 'HLS_ERR_BUS_FULL' }));
    expect(publisher.isReady()).toBe(true);
    publisher.publishEventsSync!(Topics.events, events(2));
    await pipeline.sync();
    await sleep(20);
    expect(publisher.isReady()).toBe(false);
    expect(publisher.notReadyReason?.()).toMatch(/full/);
    release();
    expect(await bus.drain(5000)).toBe(true);
    await sleep(20);
    expect(publisher.isReady()).toBe(true);
    publisher.publishEventsSync!(Topics.events, events(10));
    await pipeline.sync();
    expect(await bus.drain(5000)).toBe(true);
    pipeline.close();
    port1.close();
    await bus.close();
  });
});
