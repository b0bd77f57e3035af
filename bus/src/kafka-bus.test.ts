import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHeliosError, createLogger, parseEventsBody, newEventId, normalizeEventBatch, type BusRecord, type EventRequestBatch, type EventsBodyKind, type HeliosEvent } from '@helios/core';
import { createSpooledBus } from './spooled-bus.js';
import { createKafkaBus } from './kafka-bus.js';
import { DEAD_LETTER_REASON_HEADER, KAFKA_COMPRESSIONS, type KafkaBus, type KafkaBusOptions } from './kafka-options.js';

/**
 * Integration tests against a real broker: `scripts/kafka.sh start`, then
 * HELIOS_KAFKA_BROKERS=127.0.0.1:9092 [HELIOS_KAFKA_SCRIPT=$PWD/scripts/kafka.sh] npx vitest run bus/src/kafka-bus.test.ts
 * The broker-kill test runs only with HELIOS_KAFKA_SCRIPT: it starts a broker of its own on port
 * HELIOS_KAFKA_KILL_PORT (default 9292) and SIGKILLs that one, never the shared broker other suites use meanwhile.
 */
const brokers = (process.env['HELIOS_KAFKA_BROKERS'] ?? '').split(',').filter((b) => b.length > 0);
const killScript = process.env['HELIOS_KAFKA_SCRIPT'];
const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const topicName = (name: string) => `helios.test.${run}.${name}`;
const run$ = promisify(execFile);

describe('kafka bus environment', () => {
  it.runIf(process.env['CI'] === 'true')('has a broker in CI', () => {
    // In CI a missing broker must fail, not skip: otherwise the Kafka guarantees would go untested silently.
    expect(brokers, 'HELIOS_KAFKA_BROKERS must be set when CI=true (scripts/kafka.sh start prints it)').not.toHaveLength(0);
  });
});

/** Poll until `condition` holds; the deadline only bounds a hung test, it asserts nothing about speed. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Numbered {
  id: string;
  seq: number;
  pad?: string;
}

describe.runIf(brokers.length > 0)('kafka bus against a real broker', () => {
  const buses: KafkaBus[] = [];
  const admin = new kafkajs.Kafka({ clientId: 'helios-test-admin', brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();

  async function openBus(topics: KafkaBusOptions['topics'], extra: Partial<KafkaBusOptions> = {}): Promise<KafkaBus> {
    const bus = await createKafkaBus({ brokers, clientId: `helios-test-${run}`, topics, retryMs: 10, ...(process.env['HELIOS_TEST_LOG'] ? { logger: createLogger({ level: 'debug' }) } : {}), ...extra });
    buses.push(bus);
    return bus;
  }

  beforeAll(async () => {
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close(5000)));
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`helios.test.${run}.`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
  });

  it('delivers every record to each of two groups, in publish order per key', async () => {
    const topic = topicName('roundtrip');
    const bus = await openBus({ [topic]: { partitions: 10 } });
    const seen = { a: [] as BusRecord<Numbered>[], b: [] as BusRecord<Numbered>[] };
    bus.subscribe<Numbered>(topic, `g-a-${run}`, async (records) => void seen.a.push(...records), { maxBatch: 37 });
    bus.subscribe<Numbered>(topic, `g-b-${run}`, async (records) => void seen.b.push(...records));

    const keys = Array.from({ length: 20 }, (_, i) => `tenant-${i % 3}/service-${i}`);
    for (let seq = 0; seq < 50; seq++) {
      await bus.publish<Numbered>(topic, keys.map((key) => ({ key, value: { id: `${key}#${seq}`, seq } })));
    }
    await waitFor(() => seen.a.length >= 1000 && seen.b.length >= 1000, 'both groups to consume 1000 records');
    expect(await bus.drain(30_000)).toBe(true);

    for (const records of [seen.a, seen.b]) {
      expect(records).toHaveLength(1000);
      for (const key of keys) {
        expect(records.filter((r) => r.key === key).map((r) => r.value.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      }
    }
    const lag = await bus.lag(topic, `g-a-${run}`);
    expect(lag).toHaveLength(10);
    expect(lag.every((p) => p.lag === 0)).toBe(true);
    expect(lag.reduce((sum, p) => sum + p.endOffset, 0)).toBe(1000);
  });

  it('loses and duplicates nothing under 200 concurrent publishes of 50 records into 10 partitions', async () => {
    const topic = topicName(`concurrent`);
    const bus = await openBus({ [topic]: { partitions: 10 } });
    const counts = new Map<string, number>();
    bus.subscribe<Numbered>(topic, `${topic}.g`, async (records) => {
      for (const r of records) counts.set(r.value.id, (counts.get(r.value.id) ?? 0) + 1);
    });

    const publishes = Array.from({ length: 200 }, (_, call) =>
      bus.publish<Numbered>(topic, Array.from({ length: 50 }, (_, i) => ({ key: `k${(call * 50 + i) % 37}`, value: { id: `${call}:${i}`, seq: i } }))),
    );
    await Promise.all(publishes);
    await waitFor(() => counts.size >= 10_000, 'all 10,000 records');
    expect(await bus.drain(30_000)).toBe(true);

    expect(counts.size).toBe(10_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const stats = bus.stats();
    expect(stats.recordsAcknowledged).toBe(10_000);
    // Many publish calls share produce requests (the gateway's 2xx responses share one Kafka ack).
    expect(stats.produceRequests).toBeLessThan(200);
    const ends = await admin.fetchTopicOffsets(topic);
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(10_000);
  });

  it('with 3 parallel producers keeps per-key order and loses and duplicates nothing under 200 concurrent publishes', async () => {
    const topic = topicName('producers-3');
    const bus = await openBus({ [topic]: { partitions: 10 } }, { producers: 3 });
    const seen: BusRecord<Numbered>[] = [];
    bus.subscribe<Numbered>(topic, `${topic}.g`, async (records) => void seen.push(...records));

    // Publish call `call` carries seq `call` for every one of 37 keys, so each key's seqs must come out 0..199.
    const keys = Array.from({ length: 37 }, (_, i) => `k${i}`);
    await Promise.all(Array.from({ length: 200 }, (_, call) => bus.publish<Numbered>(topic, keys.map((key) => ({ key, value: { id: `${key}#${call}`, seq: call } })))));
    await waitFor(() => seen.length >= 200 * keys.length, 'all 7,400 records');
    expect(await bus.drain(30_000)).toBe(true);

    expect(seen).toHaveLength(200 * keys.length);
    expect(new Set(seen.map((r) => r.value.id)).size).toBe(200 * keys.length);
    for (const key of keys) {
      expect(seen.filter((r) => r.key === key).map((r) => r.value.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
    expect(bus.stats().recordsAcknowledged).toBe(200 * keys.length);
  });

  // The bus's producer writes what the kafkajs consumer (and its snappy/lz4 codecs) reads back.
  it('round-trips every supported compression through the broker', async () => {
    for (const compression of KAFKA_COMPRESSIONS) {
      const topic = topicName(`compression-${compression}`);
      const bus = await openBus({ [topic]: { partitions: 2 } }, { compression });
      const got: Numbered[] = [];
      bus.subscribe<Numbered>(topic, `${topic}.g`, async (records) => void got.push(...records.map((r) => r.value)));
      // One key: one partition, so the whole publish (several hundred KB of varied text) is one compressed batch.
      const sent = Array.from({ length: 2000 }, (_, i) => ({
        key: 'one-key',
        value: { id: `${compression}-${i}`, seq: i, pad: `GET /api/users/${i * 7919} answered ${200 + (i % 5)} in ${(i * 31) % 977} ms ${randomBytes(8).toString('hex')}`.repeat(3) },
      }));
      await bus.publish(topic, sent);
      await waitFor(() => got.length >= 2000, `2000 records compressed with ${compression}`);
      expect(got).toEqual(sent.map((r) => r.value));
    }
  });

  it('splits a publish larger than the topic max.message.bytes into accepted batches', async () => {
    const topic = topicName('split');
    // 64 KiB per batch, and incompressible values: one request with all 800 KB would be refused.
    const bus = await openBus({ [topic]: { partitions: 1, config: { 'max.message.bytes': '65536' } } }, { compression: 'none' });
    const got: Numbered[] = [];
    bus.subscribe<Numbered>(topic, `${topic}.g`, async (records) => void got.push(...records.map((r) => r.value)));
    const sent = Array.from({ length: 400 }, (_, i) => ({ key: `k${i % 5}`, value: { id: `s${i}`, seq: i, pad: randomBytes(1000).toString('hex') } }));
    await bus.publish(topic, sent);
    expect(bus.stats().produceRequests).toBeGreaterThanOrEqual(13);
    await waitFor(() => got.length >= 400, '400 large records');
    expect(got.map((v) => v.id)).toEqual(sent.map((r) => r.value.id));

    const tooLarge = bus.publish(topic, [{ key: 'k', value: { id: 'big', seq: 0, pad: 'x'.repeat(70_000) } }]);
    await expect(tooLarge).rejects.toSatisfy((err: unknown) => isHeliosError(err, 'HLS_ERR_BODY_TOO_LARGE'));
  });

  it('retries a failing handler without skipping, and resumes a group from its committed offsets', async () => {
    const topic = topicName('retry');
    const bus = await openBus({ [topic]: { partitions: 1 } });
    await bus.publish(topic, Array.from({ length: 100 }, (_, i) => ({ key: 'k', value: { id: `r${i}`, seq: i } })));

    const got: number[] = [];
    let failuresLeft = 3;
    const first = bus.subscribe<Numbered>(
      topic,
      `${topic}.g`,
      async (records) => {
        if (records.some((r) => r.value.seq === 40) && failuresLeft-- > 0) throw new Error('downstream unavailable');
        got.push(...records.map((r) => r.value.seq));
      },
      { maxBatch: 10 },
    );
    await waitFor(() => got.length >= 100, 'the first 100 records');
    expect(failuresLeft).toBeLessThan(0);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await bus.drain(30_000)).toBe(true);
    await first.close();
    await first.close();

    await bus.publish(topic, Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: { id: `r${100 + i}`, seq: 100 + i } })));
    const resumed: number[] = [];
    bus.subscribe<Numbered>(topic, `${topic}.g`, async (records) => void resumed.push(...records.map((r) => r.value.seq)));
    await waitFor(() => resumed.length >= 50, 'the 50 records published after the first subscription closed');
    expect(await bus.drain(30_000)).toBe(true);
    expect(resumed).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
  });

  it('sends undecodable records to the dead-letter topic and keeps consuming the partition', async () => {
    const topic = topicName('poison');
    const dlq = topicName('dead-letter');
    const bus = await openBus({ [topic]: { partitions: 1 }, [dlq]: { partitions: 1 } }, { deadLetterTopic: dlq });
    const producer = new kafkajs.Kafka({ clientId: 'helios-test-raw', brokers, logLevel: kafkajs.logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic, messages: [
      { key: 'k', value: '{not json', headers: { 'helios-schema-version': '1' } },
      { key: 'k', value: '{}' },
      // Request bytes whose ids header does not match its events.
      { key: 'k', value: '[{"service":"a"},{"service":"a"}]', headers: { 'helios-schema-version': '1', 'helios-format': 'input-json', 'helios-request': '{"tenant":"t","receivedAt":1,"idBase":"0190a0b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b","indexes":[0]}' } },
    ] });
    await producer.disconnect();
    await bus.publish(topic, [{ key: 'k', value: { id: 'good', seq: 1 } }]);

    const got: Numbered[] = [];
    bus.subscribe<Numbered>(topic, `${topic}.g`, async (records) => void got.push(...records.map((r) => r.value)));
    const dead: Array<{ value: string; reason: string }> = [];
    // A bus subscription on the dead-letter topic itself skips its records instead of looping them back.
    bus.subscribe<unknown>(dlq, `${dlq}.g`, async () => {
      throw new Error('dead letters carry no schema header and never reach a handler');
    });
    const dlqConsumer = new kafkajs.Kafka({ clientId: 'helios-test-dlq', brokers, logLevel: kafkajs.logLevel.NOTHING }).consumer({ groupId: `raw-${run}` });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: dlq, fromBeginning: true });
    await dlqConsumer.run({
      eachMessage: async ({ message }) => void dead.push({ value: message.value?.toString() ?? '', reason: message.headers?.[DEAD_LETTER_REASON_HEADER]?.toString() ?? '' }),
    });
    await waitFor(() => got.length >= 1 && dead.length >= 3, 'the good record and three dead letters');
    expect(await bus.drain(30_000)).toBe(true);
    await dlqConsumer.disconnect();
    expect(bus.stats().deadLettered).toBe(6);
    expect(got).toEqual([{ id: 'good', seq: 1 }]);
    expect(dead.map((d) => d.value)).toEqual(['{not json', '{}', '[{"service":"a"},{"service":"a"}]']);
    expect(dead[0]!.reason).toMatch(/not JSON/);
    expect(dead[1]!.reason).toMatch(/schema version \(missing\)/);
    expect(dead[2]!.reason).toMatch(/request bytes \(input-json\) do not decode: record holds 2 events but helios-request gives 1 indexes/);
  });

  it('publishes request bytes (publishEvents) that consumers read back as the very events, in order per service', async () => {
    const topic = topicName(`request-bytes`);
    const bus = await openBus({ [topic]: { partitions: 4 } });
    const now = Date.UTC(2026, 10, 24);
    const request = (text: string, kind: EventsBodyKind): EventRequestBatch => {
      const body = Buffer.from(text);
      const idBase = newEventId();
      return { events: normalizeEventBatch(parseEventsBody(body, kind, 1000), { tenant: 'acme', now, idBase }), body, kind, tenant: 'acme', receivedAt: now, idBase };
    };
    // One service as it came; several services cut per service; NDJSON of several services written event by event.
    const batches = [
      request(JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ service: 'one', message: `m "${i}" ✓`, attributes: { seq: i } }))), 'json'),
      request(JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ service: `s${i % 3}`, message: 'x', attributes: { seq: 30 + i } }))), 'json'),
      request(Array.from({ length: 6 }, (_, i) => JSON.stringify({ service: `s${i % 2}`, attributes: { seq: 60 + i } })).join('\n'), 'ndjson'),
    ];
    for (const batch of batches) await bus.publishEvents(topic, batch);
    const got: HeliosEvent[] = [];
    bus.subscribe<HeliosEvent>(topic, `${topic}.g`, async (records) => {
      for (const r of records) expect(r.key).toBe(`${r.value.tenant}/${r.value.service}`);
      got.push(...records.map((r) => r.value));
    });
    await waitFor(() => got.length >= 66, 'all 66 events');
    const sent = batches.flatMap((b) => b.events);
    expect(got.length).toBe(66);
    // Field for field what the gateway normalized (ids, default timestamps), each service in publish order.
    for (const service of ['one', 's0', 's1', 's2']) {
      expect(got.filter((e) => e.service === service)).toEqual(sent.filter((e) => e.service === service));
    }
  });

  it.runIf(killScript !== undefined)(
    'consumes every acknowledged publish after the broker is SIGKILLed and restarted mid-load',
    async () => {
      const port = Number(process.env['HELIOS_KAFKA_KILL_PORT'] ?? 9292);
      const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_STATE_DIR: mkdtempSync(join(tmpdir(), `helios-kafka-${port}-`)) };
      const broker = (command: string) => run$('bash', [killScript!, command], { env, timeout: 180_000 });
      await broker('start');
      try {
        const topic = topicName('kill9');
        const bus = await openBus({ [topic]: { partitions: 10 } }, { reconnectMs: 200, brokers: [`127.0.0.1:${port}`] });
        const acknowledged = new Set<string>();
        let rejected = 0;
        let stop = false;
        let notReadySeen = false;
        const publisher = async (worker: number) => {
          for (let call = 0; !stop; call++) {
            const records = Array.from({ length: 20 }, (_, i) => ({ key: `svc-${(worker * 7 + i) % 23}`, value: { id: `${worker}:${call}:${i}`, seq: i } }));
            try {
              await bus.publish(topic, records);
              for (const r of records) acknowledged.add(r.value.id);
            } catch {
              rejected++;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
            if (!bus.isReady()) notReadySeen = true;
          }
        };
        const publishers = Array.from({ length: 8 }, (_, w) => publisher(w));

        await waitFor(() => acknowledged.size >= 5000, '5,000 acknowledged records before the kill');
        await broker('kill9');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await broker('start');
        const atRestart = acknowledged.size;
        await waitFor(() => acknowledged.size >= atRestart + 5000, '5,000 more acknowledged records after the restart', 120_000);
        stop = true;
        await Promise.all(publishers);

        const seen = new Set<string>();
        bus.subscribe<Numbered>(topic, `${topic}.g`, async (records) => {
          for (const r of records) seen.add(r.value.id);
        });
        await waitFor(() => [...acknowledged].every((id) => seen.has(id)), 'every acknowledged record to be consumed', 120_000);
        const missing = [...acknowledged].filter((id) => !seen.has(id));
        expect(missing).toEqual([]);
        expect(bus.isReady()).toBe(true);
        // Report what the outage looked like to the publishers (informational, not asserted).
        console.info(`kill9: ${acknowledged.size} acknowledged, ${rejected} publish calls rejected, isReady false seen: ${notReadySeen}`);
        await bus.close(5000);
      } finally {
        await broker('clean');
      }
    },
    300_000,
  );
  it.runIf(killScript !== undefined)(
    'starts behind the spool while the broker is down, and delivers the spooled publishes once it is up',
    async () => {
      const port = Number(process.env['HELIOS_KAFKA_LATE_PORT'] ?? 9392);
      const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_STATE_DIR: mkdtempSync(join(tmpdir(), `helios-kafka-${port}-`)) };
      const broker = (command: string) => run$('bash', [killScript!, command], { env, timeout: 180_000 });
      await broker('clean');
      try {
        const topic = topicName('late-broker');
        const kafka = await openBus({ [topic]: { partitions: 3 } }, {
          brokers: [`127.0.0.1:${port}`], startWhileUnreachable: true, reconnectMs: 200, connectionTimeoutMs: 1000,
          retry: { initialRetryTime: 100, maxRetryTime: 500, retries: 2 },
        });
        expect(kafka.isReady()).toBe(false);
        const direct = await kafka.publish(topic, [{ key: 'k', value: { id: 'x', seq: 0 } }]).then(() => 'published', (err: unknown) => err);
        expect(isHeliosError(direct, 'HLS_ERR_BUS_CLOSED')).toBe(true);

        const spooled = await createSpooledBus(kafka, { dir: mkdtempSync(join(tmpdir(), 'helios-spool-late-')), maxBytes: 64 * 1024 * 1024, retryMs: 100 });
        expect(spooled.isReady()).toBe(true);
        const sent = Array.from({ length: 20 }, (_, call) => Array.from({ length: 50 }, (_, i) => ({ key: `svc-${i % 7}`, value: { id: `${call}:${i}`, seq: call * 50 + i } })));
        for (const records of sent) await spooled.publish<Numbered>(topic, records);
        expect(spooled.spoolStats()).toMatchObject({ spooling: true, appendedRecords: 1000 });
        // A subscription made before the broker answers starts once it does.
        const got = new Map<string, number[]>();
        spooled.subscribe<Numbered>(topic, `${topic}.g`, async (records) => {
          for (const r of records) got.set(r.key, [...(got.get(r.key) ?? []), r.value.seq]);
        });

        await broker('start');
        await waitFor(() => [...got.values()].reduce((n, seqs) => n + seqs.length, 0) >= 1000, `the 1,000 spooled records to be consumed (got ${[...got.values()].reduce((n, s) => n + s.length, 0)}, ready ${kafka.isReady()}, spool ${JSON.stringify(spooled.spoolStats())})`, 120_000);
        expect(kafka.isReady()).toBe(true);
        for (const [key, seqs] of got) {
          const expected = sent.flat().filter((r) => r.key === key).map((r) => r.value.seq);
          expect(seqs).toEqual(expected);
        }
        await waitFor(() => spooled.spoolStats().bytes === 0, 'the spool to be empty');
        await spooled.close(5000);
      } finally {
        await broker('clean');
      }
    },
    300_000,
  );
});
