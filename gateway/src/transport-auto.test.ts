import { afterEach, expect, it } from 'vitest';
import { createMetricsRegistry, defaultConfig, silentLogger, Topics, type HeliosEvent, type Logger } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { loadUws } from './http/uws-transport.js';
import { createGateway, type Gateway } from './index.js';

/**
 * gateway.transport `auto`: uWebSockets.js where its binary loads, node:http with one warning where it
 * does not. Which branch runs depends on the Node and the C library: on Node 20 uWS loads here; under
 * Node 22 and 24 on glibc older than 2.38 (this machine: 2.36) it does not, and sdk/test/node-versions.test.ts
 * runs this file under those Node builds, so both branches run in `npm test`.
 */

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

it('auto serves over uWS when its binary loads, else over node:http with a warning naming why; either way a POST is stored and answered 202', async () => {
  const uws = loadUws();
  const warnings: Array<[Record<string, unknown>, string]> = [];
  const logger: Logger = silentLogger();
  logger.warn = ((fields: Record<string, unknown>, message: string) => void warnings.push([fields, message])) as Logger['warn'];
  const bus = createMemoryBus({ capacity: 1000 });
  const received: HeliosEvent[] = [];
  bus.subscribe<HeliosEvent>(Topics.events, 'test', async (records) => void received.push(...records.map((r) => r.value)));
  const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, transport: 'auto' as const };
  gateway = createGateway({ config, bus, logger, metrics: createMetricsRegistry({ defaultMetrics: false }) });
  const { port } = await gateway.start();

  if ('uws' in uws) {
    expect(gateway.transport).toBe('uws');
    expect(warnings).toEqual([]);
  } else {
    expect(gateway.transport).toBe('node');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![1]).toMatch(/uWebSockets\.js did not load .*falls back to node:http/);
    expect(warnings[0]![0]).toMatchObject({ err: uws.error.message, node: process.version, abi: process.versions.modules });
  }

  const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: `auto-on-node-${process.versions.node}` }) });
  expect(res.status).toBe(202);
  await bus.drain();
  expect(received.map((e) => e.service)).toEqual([`auto-on-node-${process.versions.node}`]);
});

it("transport uws is an error, not a fallback, where the binary does not load", async () => {
  const uws = loadUws();
  const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, transport: 'uws' as const };
  gateway = createGateway({ config, bus: createMemoryBus({ capacity: 10 }), logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  if ('uws' in uws) {
    await gateway.start();
    expect(gateway.transport).toBe('uws');
  } else {
    await expect(gateway.start()).rejects.toThrow(/uWS\.js/);
    gateway = undefined;
  }
});
