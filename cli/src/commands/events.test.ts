import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, defaultConfig, newEventId, normalizeEventInput, silentLogger, type HeliosEvent } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createGateway, type Gateway } from '@helios/gateway';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import type { CommandContext, OptionValues } from './command.js';
import { events as eventsCommand, humanLine, tail as tailCommand } from './events.js';

/** `helios events` and `helios tail` against a gateway with auth on: they print what the API serves, for the key's tenant. */
const NOW = Date.now();
const KEY = 'key-of-alpha-0001';

describe('helios events / helios tail', () => {
  let store: Store;
  let gateway: Gateway;
  let url: string;
  const mine: HeliosEvent[] = [];

  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
    const all: HeliosEvent[] = [];
    for (let i = 0; i < 30; i++) {
      for (const tenant of ['alpha', 'bravo']) {
        const e = normalizeEventInput({ id: newEventId(), timestamp: NOW - 60_000 + i * 100, service: i % 2 === 0 ? 'checkout' : 'payments', level: i % 3 === 0 ? 'ERROR' : 'INFO', message: `${tenant} message ${i}` }, { tenant, now: NOW });
        all.push(e);
        if (tenant === 'alpha') mine.push(e);
      }
    }
    await store.insertEvents(all);
    const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, transport: 'node' as const, auth: { enabled: true, keys: [{ key: KEY, tenant: 'alpha' }, { key: 'key-of-bravo-0001', tenant: 'bravo' }] }, readApi: { ...defaultConfig().gateway.readApi, tailPollMs: 100, tailDelayMs: 0 } };
    gateway = createGateway({ config, bus: createMemoryBus({ capacity: 1000 }), store, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
    url = `http://127.0.0.1:${(await gateway.start()).port}`;
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await store?.close();
  });

  function contextOf(values: OptionValues, json: boolean, out: string[]): CommandContext {
    return { loaded: undefined as never, configSources: {}, values: { url, 'api-key': KEY, ...values }, positionals: [], json, portExplicit: false, stdout: (t) => void out.push(t) };
  }

  it('prints the key\u2019s tenant\u2019s matching events newest first as JSON lines, following pages up to --limit', async () => {
    const out: string[] = [];
    await eventsCommand.run(contextOf({ service: ['checkout'], level: ['error'], limit: '3' }, true, out));
    const printed = out.join('').trim().split('\n').map((l) => JSON.parse(l) as HeliosEvent);
    const expected = mine.filter((e) => e.service === 'checkout' && e.level === 'ERROR').reverse().slice(0, 3);
    expect(printed.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    const all: string[] = [];
    await eventsCommand.run(contextOf({ limit: '1000' }, true, all));
    expect(all.join('').trim().split('\n').map((l) => (JSON.parse(l) as HeliosEvent).tenant)).toEqual(mine.map(() => 'alpha'));
  });

  it('refuses a bad flag value with the API\u2019s error naming the flag', async () => {
    await expect(eventsCommand.run(contextOf({ since: 'yesterday' }, true, []))).rejects.toMatchObject({ code: 'HLS_ERR_QUERY_INVALID', message: expect.stringMatching(/^--since:/) });
    await expect(eventsCommand.run(contextOf({ limit: '0' }, true, []))).rejects.toMatchObject({ code: 'HLS_ERR_USAGE' });
    await expect(eventsCommand.run(contextOf({ 'api-key': 'not-a-key-000' }, true, []))).rejects.toMatchObject({ code: 'HLS_ERR_UNAUTHORIZED' });
  });

  it('tails new events until the server ends the stream', async () => {
    const out: string[] = [];
    const running = tailCommand.run(contextOf({ service: ['payments'] }, true, out));
    await new Promise((r) => setTimeout(r, 300));
    const fresh = [0, 1, 2].map((i) => normalizeEventInput({ id: newEventId(), timestamp: Date.now() + i, service: 'payments', message: `live ${i}` }, { tenant: 'alpha', now: Date.now() }));
    await store.insertEvents(fresh);
    for (let i = 0; i < 50 && out.length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    await gateway.stop(); // ends the tail with `event: end`: the command returns
    await running;
    expect(out.map((l) => (JSON.parse(l) as HeliosEvent).message)).toEqual(['live 0', 'live 1', 'live 2']);
  });

  it('formats a human line with time, level, service, message and trace', () => {
    const e = normalizeEventInput({ timestamp: Date.UTC(2026, 0, 1), service: 'checkout', level: 'ERROR', message: 'upstream\ntimeout', error_code: 'E_UP', trace_id: 'a'.repeat(32) }, { tenant: 't', now: 0 });
    expect(humanLine(e, false)).toBe(`2026-01-01T00:00:00.000Z  ERROR     checkout  upstream timeout  [E_UP]  trace=${'a'.repeat(32)}`);
  });
});
