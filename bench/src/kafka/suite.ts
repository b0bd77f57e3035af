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
import { readFileSync } from 'node:fs';
import { createMetricsRegistry, defaultConfig, encodeJsonBatch, newEventId, normalizeEventBatch, parseEventsBody, silentLogger, type Bus } from '@helios/core';
import { createKafkaBus, decodeEventBatchRecord, eventBatchRecords, KAFKA_COMPRESSIONS, type KafkaCompression } from '@helios/bus';
import { createGateway, type GatewayRequest } from '@helios/gateway';
import { createPgliteClient, createPostgresClient, createSqlStore, startStorageConsumer, type SqlClient, type Store } from '@helios/store';
import type { HeliosEvent } from '@helios/core';
import type { BenchResult } from '../result.js';
import { intFromEnv } from '../env.js';
import { nullSinkBus } from '../null-sink-bus.js';
import { median } from '../result.js';
import { load, startHeliosUp } from '../gateway/pipeline-suite.js';
import { upperQuantileOfSorted } from '@helios/plugins/stats';



/** Services sending in every run: requests rotate through them, `perRequest` of them in each. */
const TOTAL_SERVICES = 20;

/**
 * JSON arrays of `batch` events, each holding `perRequest` of the TOTAL_SERVICES services (an SDK's request
 * holds one; a log shipper's, several), together covering all of them: the traffic of a fleet, spread
 * over the topic's partitions either way.
 */
function requestBodies(batch: number, perRequest: number): Buffer[] {
  return Array.from({ length: Math.ceil(TOTAL_SERVICES / perRequest) }, (_, k) => {
    const events = Array.from({ length: batch }, (_, i) => ({
      service: `svc-${(k * perRequest + (i % perRequest)) % TOTAL_SERVICES}`, level: i % 50 === 0 ? 'ERROR' : 'INFO', message: `GET /api/items/${i} ok`, endpoint: `/api/e${i % 30}`,
      latency_ms: (i * 7919) % 1000, status_code: 200, attributes: { 'http.method': 'GET', 'user.tier': i % 3 === 0 ? 'pro' : 'free' },
    }));
    return Buffer.from(JSON.stringify(events));
  });
}

/**
 * CPU time (user + system, ms) the broker process used so far, read from /proc (Linux, USER_HZ 100),
 * when HELIOS_BENCH_KAFKA_BROKER_PID names it (`bash scripts/kafka.sh status` prints it).
 */
function brokerCpuMs(): number | undefined {
  const pid = process.env['HELIOS_BENCH_KAFKA_BROKER_PID'];
  if (pid === undefined || pid === '') return undefined;
  // Fields after the command name (which may contain spaces, so split after its closing parenthesis).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Throughput {
  eventsPerSecond: number;
  /** This process's CPU time per acknowledged event (gateway, bus and client library together). */
  gatewayCpuMicrosPerEvent: number;
  brokerCpuMicrosPerEvent: number | undefined;
  /** Share of the wall time the main thread (gateway + bus) was busy: near 1 when it is the limit. */
  mainThreadBusy: number;
}

/** Events per second acknowledged by the gateway over `seconds`, `concurrency` requests in flight. */
async function gatewayThroughput(bus: Bus, bodies: readonly Buffer[], batch: number, concurrency: number, seconds: number): Promise<Throughput> {
  const config = defaultConfig().gateway;
  const gateway = createGateway({ config: { ...config, maxEventsPerRequest: Math.max(batch, config.maxEventsPerRequest) }, bus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  const requests: GatewayRequest[] = bodies.map((body) => ({
    method: 'POST', path: '/api/v1/events', query: '', body,
    headers: { 'content-type': 'application/json', 'content-encoding': '', authorization: '', 'x-api-key': '' },
  }));
  let sent = 0;
  const run = async (ms: number) => {
    const deadline = Date.now() + ms;
    let events = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const res = await gateway.handle(requests[sent++ % requests.length]!);
        if (res.status !== 202) throw new Error(`gateway answered ${res.status}: ${String(res.body)}`);
        events += batch;
      }
    }));
    return events;
  };
  await run(1000); // warm up the JIT, the connections and the topic's partition leaders
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const broker0 = brokerCpuMs();
  const elu0 = performance.eventLoopUtilization();
  const events = await run(seconds * 1000);
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const broker1 = brokerCpuMs();
  return {
    eventsPerSecond: events / (Number(process.hrtime.bigint() - t0) / 1e9),
    gatewayCpuMicrosPerEvent: (cpu.user + cpu.system) / events,
    mainThreadBusy: elu.utilization,
    brokerCpuMicrosPerEvent: broker0 === undefined || broker1 === undefined ? undefined : ((broker1 - broker0) * 1000) / events,
  };
}

/** A migrated store of its own: a fresh PostgreSQL schema (HELIOS_PG_URL), or PGlite in memory without it. */
async function benchStore(): Promise<{ store: Store; kind: string; close(): Promise<void> }> {
  const pgUrl = process.env['HELIOS_PG_URL'];
  if (pgUrl === undefined || pgUrl === '') {
    const store = createSqlStore(await createPgliteClient());
    await store.migrate();
    return { store, kind: 'PGlite', close: () => store.close() };
  }
  const schema = `helios_bench_${randomBytes(6).toString('hex')}`;
  const admin: SqlClient = createPostgresClient({ connectionString: pgUrl, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const store = createSqlStore(createPostgresClient({ connectionString: url, max: 4 }));
  await store.migrate();
  return {
    store, kind: 'PostgreSQL',
    async close() {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await admin.close();
    },
  };
}


/**
 * Post -> stored latency at a steady (open-loop) rate: `rate` requests/s of `batch` events through the
 * gateway's handler into Kafka, and the storage consumer (group helios-storage, same settings as
 * `helios worker --role storage`) writing them to the store. Each event carries its request's number;
 * its latency ends when the store's insert that contains it committed.
 */
async function postToStoredLatency(brokers: string[], namespace: string, rate: number, batch: number, seconds: number): Promise<{ p50: number; p99: number; max: number; events: number; storeKind: string }> {
  const { store: inner, kind: storeKind, close: closeStore } = await benchStore();
  const sentAt: number[] = [];
  const latencies: number[] = [];
  /** Requests below this number are the warm-up: stored, not counted. */
  let firstMeasured = Number.POSITIVE_INFINITY;
  let stored = 0;
  const store: Store = Object.create(inner, {
    insertEvents: {
      value: async (events: readonly HeliosEvent[]) => {
        await inner.insertEvents(events);
        const now = performance.now();
        stored += events.length;
        for (const e of events) {
          const request = e.attributes['bench.request'] as number;
          if (request >= firstMeasured) latencies.push(now - sentAt[request]!);
        }
      },
    },
  });
  const bus = await createKafkaBus({ brokers, namespace, clientId: 'helios-bench-e2e' });
  // HELIOS_BENCH_KAFKA_E2E_FLUSH_MS overrides the writer's flush interval (default the storage role's, 200 ms), to see its share.
  const flushMs = process.env['HELIOS_BENCH_KAFKA_E2E_FLUSH_MS'];
  const consumer = startStorageConsumer({ bus, store, logger: silentLogger(), maintenanceIntervalMs: 0, ...(flushMs === undefined ? {} : { flushIntervalMs: Number(flushMs) }) });
  const config = defaultConfig().gateway;
  const gateway = createGateway({ config: { ...config, maxEventsPerRequest: Math.max(batch, config.maxEventsPerRequest) }, bus, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
  const body = (request: number) => Buffer.from(JSON.stringify(Array.from({ length: batch }, (_, i) => ({
    service: `svc-${i % 20}`, message: `GET /api/items/${i} ok`, latency_ms: (i * 7919) % 1000, attributes: { 'bench.request': request },
  }))));
  try {
    const waitStored = async (count: number) => {
      const deadline = Date.now() + 120_000;
      while (stored < count) {
        if (Date.now() > deadline) throw new Error(`only ${stored} of ${count} events stored after 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    let next = 0;
    /** Open loop: request n leaves at t0 + n/rate whether or not earlier ones were answered. */
    const send = async (count: number) => {
      const t0 = performance.now();
      const inFlight: Array<Promise<void>> = [];
      for (let n = 0; n < count; n++) {
        const wait = t0 + (n * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const request = next++;
        const req: GatewayRequest = {
          method: 'POST', path: '/api/v1/events', query: '', body: body(request),
          headers: { 'content-type': 'application/json', 'content-encoding': '', authorization: '', 'x-api-key': '' },
        };
        sentAt[request] = performance.now();
        inFlight.push(gateway.handle(req).then((res) => {
          if (res.status !== 202) throw new Error(`gateway answered ${res.status}: ${String(res.body)}`);
        }));
      }
      await Promise.all(inFlight);
    };
    // Warm-up: the consumer group's first join (the broker delays it by group.initial.rebalance.delay.ms),
    // the store's connections and the JIT; measured from the first request after everything before is stored.
    const warmUp = Math.max(1, Math.round(rate * 2));
    await send(warmUp);
    await waitStored(warmUp * batch);
    firstMeasured = next;
    const total = Math.max(1, Math.round(rate * seconds));
    await send(total);
    const expected = total * batch;
    await waitStored(stored - latencies.length + expected);
    const sorted = latencies.slice().sort((a, b) => a - b);
    return { p50: upperQuantileOfSorted(sorted, 0.5), p99: upperQuantileOfSorted(sorted, 0.99), max: sorted[sorted.length - 1]!, events: expected, storeKind };
  } finally {
    await consumer.close();
    await bus.close(5000);
    await closeStore();
  }
}

/**
 * What consumers pay to read a request's events back, per event, in this process (no broker): request
 * bytes (`decodeEventBatchRecord`: parse, validate, normalize again) against one normalized event per
 * record (JSON.parse of each value, the format the gateway wrote before).
 */
function consumerDecodeNanos(body: Buffer): { requestBytes: number; eventJson: number } {
  const idBase = newEventId();
  const events = normalizeEventBatch(parseEventsBody(body, 'json', Number.POSITIVE_INFINITY), { tenant: 'bench', now: Date.now(), idBase });
  const records = eventBatchRecords({ events, body, kind: 'json', tenant: 'bench', receivedAt: Date.now(), idBase }, '1', Number.POSITIVE_INFINITY)!;
  const values = encodeJsonBatch(events, (e) => e, true);
  const time = (read: () => number) => {
    for (let i = 0; i < 500; i++) read();
    const rounds = 3000;
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (let i = 0; i < rounds; i++) n += read();
    return Number(process.hrtime.bigint() - t0) / n;
  };
  const requestBytes = time(() => records.reduce((n, r) => n + decodeEventBatchRecord(r.value, (name) => r.headers[name]).length, 0));
  const eventJson = time(() => values.reduce((n, v) => n + (JSON.parse(v.toString()) === null ? 0 : 1), 0));
  return { requestBytes, eventJson };
}

export async function runKafkaBench(_options: { json: boolean }): Promise<BenchResult[]> {
  const brokers = (process.env['HELIOS_KAFKA_BROKERS'] ?? '').split(',').filter((b) => b.length > 0);
  if (brokers.length === 0) throw new Error('the kafka suite needs a broker: bash scripts/kafka.sh start && export HELIOS_KAFKA_BROKERS=127.0.0.1:9092');
  const batch = intFromEnv('HELIOS_BENCH_KAFKA_BATCH', 100);
  const concurrency = intFromEnv('HELIOS_BENCH_KAFKA_CONCURRENCY', 64);
  const seconds = intFromEnv('HELIOS_BENCH_KAFKA_SECONDS', 5);
  // Services per request (of 20 sending): 20, every request from all of them; 1, each request from one.
  const services = intFromEnv('HELIOS_BENCH_KAFKA_SERVICES', 20);
  const bodies = requestBodies(batch, services);
  const results: BenchResult[] = [];

  const decode = consumerDecodeNanos(bodies[0]!);
  results.push({ name: `consumer decode, request bytes (${services} of ${TOTAL_SERVICES} services per request)`, value: decode.requestBytes, unit: 'ns/event', baseline: 'consumer decode, one normalized event per record', baselineValue: decode.eventJson, ratio: decode.requestBytes / decode.eventJson });

  const baselineName = `gateway -> null sink (${batch} events/request, ${services} of ${TOTAL_SERVICES} services per request)`;
  const nullRun = await gatewayThroughput(nullSinkBus, bodies, batch, concurrency, seconds);
  const baseline = nullRun.eventsPerSecond;
  results.push({ name: baselineName, value: baseline, unit: 'events/s' });
  results.push({ name: `${baselineName}: gateway CPU per event`, value: nullRun.gatewayCpuMicrosPerEvent, unit: 'µs' });
  results.push({ name: `${baselineName}: main thread busy`, value: nullRun.mainThreadBusy, unit: 'share' });

  const namespace = `helios-bench.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
  const compressions = (process.env['HELIOS_BENCH_KAFKA_COMPRESSIONS'] ?? KAFKA_COMPRESSIONS.join(',')).split(',') as KafkaCompression[];
  // Parallel idempotent producers (the bus's `producers`), e.g. `1,2,4`; and the records cap per request.
  const producerCounts = (process.env['HELIOS_BENCH_KAFKA_PRODUCERS'] ?? '1').split(',').map(Number);
  // The kafkajs producer, the producer thread and library-written record batches were measured and removed
  // (issue 19; bench/RESULTS.md, Kafka): the bus produces with @platformatic/kafka and batches it writes itself.
  const maxBatchRecords = process.env['HELIOS_BENCH_KAFKA_MAX_BATCH_RECORDS'] === undefined ? undefined : Number(process.env['HELIOS_BENCH_KAFKA_MAX_BATCH_RECORDS']);
  // Request bytes forwarded (the default, 1) and/or every event written as JSON by the gateway (0), e.g. `1,0`.
  const requestBytesVariants = (process.env['HELIOS_BENCH_KAFKA_REQUEST_BYTES'] ?? '1').split(',').map((t) => t !== '0');
  // Interleaved (producer count inside compression) so a slow phase of the shared machine hits all alike.
  // HELIOS_BENCH_KAFKA_THROUGHPUT=0 skips these variants (latency only).
  for (const compression of process.env['HELIOS_BENCH_KAFKA_THROUGHPUT'] === '0' ? [] : compressions) {
    for (const producers of producerCounts) for (const requestBytes of requestBytesVariants) {
      const bus = await createKafkaBus({
        brokers, namespace: `${namespace}${compression}.p${producers}.r${Number(requestBytes)}.`, clientId: 'helios-bench', compression, producers,
        ...(maxBatchRecords === undefined ? {} : { maxBatchRecords }),
      });
      try {
        // Without publishEvents the gateway publishes its events one by one, each written as JSON (before 2026-11-24).
        const measured = await gatewayThroughput(requestBytes ? bus : { ...bus, publishEvents: undefined }, bodies, batch, concurrency, seconds);
        const value = measured.eventsPerSecond;
        const stats = bus.stats();
        const label = `gateway -> kafka (${producers} producer${producers === 1 ? '' : 's'}${requestBytes ? ', request bytes' : ', events written as JSON'}), ${compression}`;
        results.push({ name: `${label} (${batch} events/request, acks=all, idempotent)`, value, unit: 'events/s', baseline: baselineName, baselineValue: baseline, ratio: value / baseline });
        results.push({ name: `${label}: requests sharing one produce request`, value: stats.publishCalls / stats.produceRequests, unit: 'publishes/produce' });
        // process.cpuUsage counts every thread of the process.
        results.push({ name: `${label}: gateway process CPU per event`, value: measured.gatewayCpuMicrosPerEvent, unit: 'µs' });
        results.push({ name: `${label}: main thread busy`, value: measured.mainThreadBusy, unit: 'share' });
        if (measured.brokerCpuMicrosPerEvent !== undefined) results.push({ name: `${label}: broker CPU per event`, value: measured.brokerCpuMicrosPerEvent, unit: 'µs' });
      } finally {
        await bus.close(5000);
      }
    }
  }
  if (process.env['HELIOS_BENCH_KAFKA_THREADS'] !== '0') results.push(...await gatewayThreadsOnKafka(brokers, `${namespace}threads.`, batch, concurrency, seconds));
  if (process.env['HELIOS_BENCH_KAFKA_E2E'] !== '0') {
    const rates = (process.env['HELIOS_BENCH_KAFKA_E2E_RATES'] ?? '20,200').split(',').map(Number);
    const e2eBatch = intFromEnv('HELIOS_BENCH_KAFKA_E2E_BATCH', 100);
    const e2eSeconds = intFromEnv('HELIOS_BENCH_KAFKA_E2E_SECONDS', 10);
    for (const rate of rates) {
      const r = await postToStoredLatency(brokers, `${namespace}e2e-${rate}.`, rate, e2eBatch, e2eSeconds);
      const label = `post -> stored (${rate} requests/s x ${e2eBatch} events, ${r.storeKind}, ${r.events} events)`;
      results.push({ name: `${label} p50`, value: r.p50, unit: 'ms' });
      results.push({ name: `${label} p99`, value: r.p99, unit: 'ms' });
      results.push({ name: `${label} max`, value: r.max, unit: 'ms' });
    }
  }
  return results;
}

/**
 * `helios up --role gateway` on Kafka over HTTP (autocannon, `concurrency` connections, `batch` events per
 * request), gateway.threads 1 (the main thread) vs 2 (each thread its own Kafka producer and spool), rounds
 * alternating (HELIOS_BENCH_ROUNDS, default 3), medians. A 202 is Kafka's acknowledgement (acks=all).
 */
async function gatewayThreadsOnKafka(brokers: string[], namespace: string, batch: number, concurrency: number, seconds: number): Promise<BenchResult[]> {
  const rounds = intFromEnv('HELIOS_BENCH_ROUNDS', 3);
  const start = (threads: number) => startHeliosUp(threads, {
    roles: ['gateway'],
    config: { bus: { kind: 'kafka', kafka: { brokers, namespace: `${namespace}t${threads}.` } }, gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1, threads, maxEventsPerRequest: Math.max(batch, 1000) } },
  });
  const one = await start(1);
  const two = await start(2);
  const rates: [number[], number[]] = [[], []];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [i, server] of [one, two].entries()) {
        const r = await load(server.url, 'helios', batch, concurrency, seconds);
        if (r.acceptedEventsPerSecond < r.eventsPerSecond * 0.99) throw new Error(`gateway.threads ${i + 1} on Kafka refused requests: ${JSON.stringify(r.statuses)}`);
        rates[i]!.push(r.acceptedEventsPerSecond);
      }
      process.stderr.write(`round ${round + 1}: helios gateway -> kafka, 1 thread ${Math.round(rates[0].at(-1)!)} events/s, 2 threads ${Math.round(rates[1].at(-1)!)} events/s\n`);
    }
  } finally {
    await one.stop();
    await two.stop();
  }
  const label = (threads: number) => `helios up --role gateway -> kafka over HTTP, gateway.threads ${threads} (${batch} events/request, ${concurrency} conn, lz4, acks=all)`;
  const [oneRate, twoRate] = [median(rates[0]), median(rates[1])];
  return [
    { name: label(1), value: oneRate, unit: 'events/s' },
    { name: label(2), value: twoRate, unit: 'events/s', baseline: label(1), baselineValue: oneRate, ratio: twoRate / oneRate },
  ];
}
