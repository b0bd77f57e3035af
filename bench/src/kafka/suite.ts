/**
 * Gateway -> Kafka throughput on a real broker (HELIOS_KAFKA_BROKERS, e.g. `scripts/kafka.sh start`),
 * as a ratio of the same gateway's throughput into a null sink measured in the same run.
 *
 * The driver calls the gateway's request handler directly (parse, validate, normalize, publish, 202),
 * with HELIOS_BENCH_KAFKA_CONCURRENCY requests in flight (default 64), each a JSON array of
 * HELIOS_BENCH_KAFKA_BATCH events (default 100), for HELIOS_BENCH_KAFKA_SECONDS per variant (default 5).
 * Every 202 counted here is a Kafka acknowledgement with acks=all on the idempotent producer, the
 * durability the gateway runs with. The HTTP transport is left out on purpose: it is the same in both
 * variants and measured by the gateway suite.
 */
import { randomBytes } from 'node:crypto';
import { createKafkaBus, createMetricsRegistry, defaultConfig, KAFKA_COMPRESSIONS, silentLogger, type Bus, type KafkaBusOptions, type KafkaCompression } from '@helios/core';
import { createGateway, type GatewayRequest } from '@helios/gateway';
import type { BenchResult } from '../result.js';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

/** Takes everything at once: the gateway's own cost with no bus behind it. */
const nullSink: Bus = {
  kind: 'null',
  publish: async () => undefined,
  subscribe: () => ({ close: async () => undefined }),
  isReady: () => true,
  drain: async () => true,
  close: async () => undefined,
};

function requestBody(batch: number): Buffer {
  const events = Array.from({ length: batch }, (_, i) => ({
    service: `svc-${i % 20}`, level: i % 50 === 0 ? 'ERROR' : 'INFO', message: `GET /api/items/${i} ok`, endpoint: `/api/e${i % 30}`,
    latency_ms: (i * 7919) % 1000, status_code: 200, attributes: { 'http.method': 'GET', 'user.tier': i % 3 === 0 ? 'pro' : 'free' },
  }));
  return Buffer.from(JSON.stringify(events));
}

/** Events per second acknowledged by the gateway over `seconds`, `concurrency` requests in flight. */
async function gatewayThroughput(bus: Bus, body: Buffer, batch: number, concurrency: number, seconds: number): Promise<number> {
  const config = defaultConfig().gateway;
  const gateway = createGateway({ config: { ...config, maxEventsPerRequest: Math.max(batch, config.maxEventsPerRequest) }, bus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  const request: GatewayRequest = {
    method: 'POST', path: '/api/v1/events', query: '', body,
    headers: { 'content-type': 'application/json', 'content-encoding': '', authorization: '', 'x-api-key': '' },
  };
  const run = async (ms: number) => {
    const deadline = Date.now() + ms;
    let events = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const res = await gateway.handle(request);
        if (res.status !== 202) throw new Error(`gateway answered ${res.status}: ${String(res.body)}`);
        events += batch;
      }
    }));
    return events;
  };
  await run(1000); // warm up the JIT, the connections and the topic's partition leaders
  const t0 = process.hrtime.bigint();
  const events = await run(seconds * 1000);
  return events / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function runKafkaBench(_options: { json: boolean }): Promise<BenchResult[]> {
  const brokers = (process.env['HELIOS_KAFKA_BROKERS'] ?? '').split(',').filter((b) => b.length > 0);
  if (brokers.length === 0) throw new Error('the kafka suite needs a broker: bash scripts/kafka.sh start && export HELIOS_KAFKA_BROKERS=127.0.0.1:9092');
  const batch = intFromEnv('HELIOS_BENCH_KAFKA_BATCH', 100);
  const concurrency = intFromEnv('HELIOS_BENCH_KAFKA_CONCURRENCY', 64);
  const seconds = intFromEnv('HELIOS_BENCH_KAFKA_SECONDS', 5);
  const body = requestBody(batch);
  const results: BenchResult[] = [];

  const baselineName = `gateway -> null sink (${batch} events/request)`;
  const baseline = await gatewayThroughput(nullSink, body, batch, concurrency, seconds);
  results.push({ name: baselineName, value: baseline, unit: 'events/s' });

  const namespace = `helios-bench.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
  const clients = (process.env['HELIOS_BENCH_KAFKA_CLIENTS'] ?? 'kafkajs,platformatic').split(',') as Array<NonNullable<KafkaBusOptions['producerClient']>>;
  const compressions = (process.env['HELIOS_BENCH_KAFKA_COMPRESSIONS'] ?? KAFKA_COMPRESSIONS.join(',')).split(',') as KafkaCompression[];
  // Interleaved (client inside compression) so a slow phase of the shared machine hits both clients alike.
  for (const compression of compressions) {
    for (const producerClient of clients) {
      const bus = await createKafkaBus({ brokers, namespace: `${namespace}${producerClient}.${compression}.`, clientId: 'helios-bench', compression, producerClient });
      try {
        const value = await gatewayThroughput(bus, body, batch, concurrency, seconds);
        const stats = bus.stats();
        const label = `gateway -> kafka (${producerClient}), ${compression}`;
        results.push({ name: `${label} (${batch} events/request, acks=all, idempotent)`, value, unit: 'events/s', baseline: baselineName, baselineValue: baseline, ratio: value / baseline });
        results.push({ name: `${label}: requests sharing one produce request`, value: stats.publishCalls / stats.produceRequests, unit: 'publishes/produce' });
      } finally {
        await bus.close(5000);
      }
    }
  }
  return results;
}
