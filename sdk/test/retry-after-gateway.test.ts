import { afterEach, expect, it } from 'vitest';
import { createMetricsRegistry, resolveConfig, silentLogger, Topics, type Bus } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createGateway, type Gateway } from '@helios/gateway';
import { createHeliosClient, type HeliosClient } from '../src/index.js';
import { waitFor } from './fake-gateway.js';

/**
 * 429 with Retry-After from the real gateway code: its in-process bus has room for one batch and the
 * consumer holds that batch until the test releases it, so the second batch is answered 429 deterministically.
 */
let gateway: Gateway | undefined;
let bus: Bus | undefined;
let sdk: HeliosClient | undefined;

afterEach(async () => {
  await sdk?.shutdown();
  await gateway?.stop();
  await bus?.close(1000);
});

it('a 429 from the gateway is retried no sooner than its Retry-After, and every event arrives once', async () => {
  bus = createMemoryBus({ capacity: 10 });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const consumed: string[] = [];
  bus.subscribe<{ message: string }>(Topics.events, 'test', async (records) => {
    await held;
    consumed.push(...records.map((r) => r.value.message));
  });
  const config = resolveConfig({ gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, retryAfterSeconds: 1 } }).gateway;
  gateway = createGateway({ config, bus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  const { port } = await gateway.start();

  // Retry-After (1 s) is above maxBackoffMs's jittered delays, so only the header can explain the wait.
  sdk = createHeliosClient({ service: 'checkout', endpoint: `http://127.0.0.1:${port}`, maxBatchSize: 10, initialBackoffMs: 5, maxBackoffMs: 5000, onDiagnostic: () => {} });
  for (let i = 0; i < 20; i++) sdk.event({ message: `e${i}` });
  const flushed = sdk.flush({ timeoutMs: 20_000 });
  await waitFor(() => sdk!.stats().failedRequests >= 1);
  const refusedAt = Date.now();
  release();
  expect(await flushed).toBe(true);
  const waited = Date.now() - refusedAt;

  expect(waited).toBeGreaterThanOrEqual(900); // lower bound only: the SDK waited for Retry-After
  await bus.drain(5000);
  expect(consumed.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`).sort());
  expect(sdk.stats()).toMatchObject({ sent: 20, dropped: 0, rejected: 0 });
});
