/**
 * Test-only: a gateway on loopback over a chosen transport, in front of an in-process bus whose
 * consumed events are collected. Shared by the gateway's HTTP-level tests.
 */
import { createMetricsRegistry, defaultConfig, silentLogger, Topics, type Bus, type HeliosConfig, type HeliosEvent, type Registry } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import type { StoreReader } from '@helios/store';
import { createGateway, type Gateway } from './index.js';

export interface Harness {
  gateway: Gateway;
  bus: Bus;
  metrics: Registry;
  url: string;
  port: number;
  otlpPort: number | undefined;
  otlpGrpcPort: number | undefined;
  /** Events the bus delivered to a consumer (empty when the harness was started without one). */
  received: HeliosEvent[];
}

export interface HarnessOptions {
  /** The in-process bus's capacity; 100,000 unless given. */
  capacity?: number;
  /** Consume the bus into `received` (default true). A bus nobody consumes fills up: backpressure tests. */
  consume?: boolean;
  /** Use this bus instead of a new in-process one. */
  bus?: Bus;
  onCapacityRefusal?: (at: number) => void;
  /** Serve the read API (/api/v1/anomalies, /api/v1/reports) from this store. */
  store?: StoreReader;
  /** The `metrics` config section (defaults otherwise). */
  metricsConfig?: Partial<HeliosConfig['metrics']>;
  now?: () => number;
}

export async function startHarness(transport: 'uws' | 'node', overrides: Partial<HeliosConfig['gateway']> = {}, options: HarnessOptions = {}): Promise<Harness> {
  const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, transport, maxBodyBytes: 64 * 1024, maxInflatedBytes: 256 * 1024, maxEventsPerRequest: 100, ...overrides };
  const bus = options.bus ?? createMemoryBus({ capacity: options.capacity ?? 100_000 });
  const received: HeliosEvent[] = [];
  if (options.consume !== false) bus.subscribe<HeliosEvent>(Topics.events, 'test', async (records) => void received.push(...records.map((r) => r.value)));
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const gateway = createGateway({
    config, bus, logger: silentLogger(), metrics, metricsConfig: { ...defaultConfig().metrics, ...options.metricsConfig },
    ...(options.onCapacityRefusal === undefined ? {} : { onCapacityRefusal: options.onCapacityRefusal }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.store === undefined ? {} : { store: options.store }),
  });
  const { port, otlpPort, otlpGrpcPort } = await gateway.start();
  return { gateway, bus, metrics, url: `http://127.0.0.1:${port}`, port, otlpPort, otlpGrpcPort, received };
}
