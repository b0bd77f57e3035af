import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SASLOptions } from 'kafkajs';
import type { Registry } from 'prom-client';
import { HeliosError, sleep, type HeliosConfig, type Logger, type Bus } from '@helios/core';
import { createKafkaBus } from './kafka.js';
import type { KafkaBusOptions } from './kafka-options.js';
import { createMemoryBus } from './memory-bus.js';
import { createSpooledBus, type SpooledBus } from './spooled-bus.js';

export interface OpenBusOptions {
  logger: Logger;
  metrics?: Registry;
  /**
   * Wrap a Kafka bus in the on-disk spool (when `bus.spool.enabled`). Only the process running the
   * gateway asks for it: the spool keeps the gateway's 2xx durable through a Kafka outage, while workers
   * just retry their batches (their input stays in Kafka).
   */
  spool?: boolean;
  /**
   * The gateway thread this bus is for (cli/src/gateway-threads/): each thread produces on its own and
   * spools into a folder of its own (`gatewaySpoolDir`). Default 0: the main thread's folder.
   */
  thread?: number;
  /** Start while the brokers are unreachable (retrying in the background) even without a spool; default: only behind one. */
  startWhileUnreachable?: boolean;
}

/**
 * The spool folder of gateway thread `thread` (0: the main thread, or the only gateway): `bus.spool.dir`,
 * default `<dataDir>/spool`, and `thread-<n>` inside it for the others (the spool's pid lock cannot tell
 * threads of one process apart, so they must not share a folder). Undefined: no spool folder (:memory:).
 */
export function gatewaySpoolDir(config: Pick<HeliosConfig, 'bus' | 'dataDir'>, thread = 0): string | undefined {
  const spool = config.bus.spool;
  const dir = spool.dir !== '' ? spool.dir : config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'spool');
  return dir === undefined || thread === 0 ? dir : join(dir, `thread-${thread}`);
}

/**
 * Spool folders of gateway threads beyond the first `threads` (an earlier run had more of them): what they
 * hold was acknowledged and must still be replayed (a running gateway thread replays each).
 */
export function strandedSpoolDirs(config: Pick<HeliosConfig, 'bus' | 'dataDir'>, threads: number): Array<{ thread: number; dir: string }> {
  const root = gatewaySpoolDir(config);
  if (root === undefined) return [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names
    .map((name) => /^thread-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= threads)
    .map((m) => ({ thread: Number(m[1]), dir: join(root, m[0]) }));
}

/** kafkajs connection options from the `bus.kafka` config: brokers, client id, TLS files, SASL. */
export function kafkaBusOptions(config: Pick<HeliosConfig, 'bus'>): KafkaBusOptions {
  const k = config.bus.kafka;
  const read = (key: string, path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus.kafka.ssl.${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const ssl = !k.ssl.enabled
    ? undefined
    : {
        rejectUnauthorized: k.ssl.rejectUnauthorized,
        ...(k.ssl.caFile === '' ? {} : { ca: [read('caFile', k.ssl.caFile)] }),
        ...(k.ssl.certFile === '' ? {} : { cert: read('certFile', k.ssl.certFile) }),
        ...(k.ssl.keyFile === '' ? {} : { key: read('keyFile', k.ssl.keyFile) }),
      };
  let sasl: SASLOptions | undefined;
  if (k.sasl.mechanism !== 'none') {
    if (k.sasl.username === '') throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus.kafka.sasl.username: required when bus.kafka.sasl.mechanism is '${k.sasl.mechanism}'`);
    sasl = { mechanism: k.sasl.mechanism, username: k.sasl.username, password: k.sasl.password } as SASLOptions;
  }
  return {
    brokers: k.brokers,
    clientId: k.clientId,
    ...(k.namespace === '' ? {} : { namespace: k.namespace }),
    topics: k.topics,
    compression: k.compression,
    lingerMs: k.lingerMs,
    sessionTimeoutMs: k.sessionTimeoutMs,
    ...(k.deadLetterTopic === '' ? {} : { deadLetterTopic: k.deadLetterTopic }),
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl }),
  };
}

/** The bus the config asks for: in-process, Kafka, or Kafka behind the gateway's spool. */
export async function openBus(config: Pick<HeliosConfig, 'bus' | 'dataDir'>, options: OpenBusOptions): Promise<Bus> {
  const { logger, metrics } = options;
  if (config.bus.kind === 'memory') return createMemoryBus({ capacity: config.bus.capacity, logger });
  const spool = config.bus.spool;
  const spooled = options.spool === true && spool.enabled;
  const dir = gatewaySpoolDir(config, options.thread);
  if (spooled && dir === undefined) logger.warn('bus.spool is enabled but dataDir is :memory: and bus.spool.dir is empty; running without a spool (503 while Kafka is down)');
  // Behind the spool the gateway starts while Kafka is down (the spool takes the publishes meanwhile);
  // without it, a start against unreachable brokers fails rather than answering 503 to everything.
  const kafka = await createKafkaBus({
    ...kafkaBusOptions(config), logger, startWhileUnreachable: options.startWhileUnreachable === true || (spooled && dir !== undefined),
    ...(metrics === undefined ? {} : { metrics }),
  });
  if (!spooled || dir === undefined) return kafka;
  try {
    return await createSpooledBus(kafka, {
      dir, maxBytes: spool.maxBytes, fsyncIntervalMs: spool.fsyncIntervalMs, handoffTimeoutMs: spool.handoffTimeoutMs, logger,
      ...(metrics === undefined ? {} : { metrics }),
    });
  } catch (err) {
    await kafka.close(1000).catch(() => undefined);
    throw err;
  }
}

/**
 * Replay, in the background, the stranded spool folders (`strandedSpoolDirs`) that fall to gateway thread
 * `thread` of `threads` (folder n goes to thread n mod threads): each through a spooled Kafka bus of its
 * own, removed once empty. `close` stops; what is not replayed yet stays on disk for the next start.
 */
export function replayStrandedSpools(config: Pick<HeliosConfig, 'bus' | 'dataDir'>, options: { threads: number; thread: number; logger: Logger }): { close(): Promise<void> } {
  const { threads, thread, logger } = options;
  if (config.bus.kind !== 'kafka' || !config.bus.spool.enabled) return { close: async () => undefined };
  const mine = strandedSpoolDirs(config, threads).filter((s) => s.thread % threads === thread);
  let closed = false;
  let current: Bus | undefined;
  const done = (async () => {
    for (const { dir } of mine) {
      if (closed) return;
      logger.warn({ dir }, 'replaying the spool of a gateway thread an earlier run had and this one has not');
      const bus = (current = await openBus({ ...config, bus: { ...config.bus, spool: { ...config.bus.spool, dir } } }, { logger, spool: true })) as SpooledBus;
      while (!closed && bus.spoolStats().bytes > 0) await sleep(200);
      await bus.close();
      if (!closed) rmSync(dir, { recursive: true, force: true });
    }
  })().catch((err: unknown) => logger.error({ err }, 'could not replay a stranded gateway spool; it stays on disk for the next start'));
  return {
    async close() {
      closed = true;
      await current?.close();
      await done;
    },
  };
}
