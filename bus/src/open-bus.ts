import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SASLOptions } from 'kafkajs';
import type { Registry } from 'prom-client';
import { HeliosError, type HeliosConfig, type Logger, type Bus } from '@helios/core';
import { createKafkaBus } from './kafka.js';
import type { KafkaBusOptions } from './kafka-options.js';
import { createMemoryBus } from './memory-bus.js';
import { createSpooledBus } from './spooled-bus.js';

export interface OpenBusOptions {
  logger: Logger;
  metrics?: Registry;
  /**
   * Wrap a Kafka bus in the on-disk spool (when `bus.spool.enabled`). Only the process running the
   * gateway asks for it: the spool keeps the gateway's 2xx durable through a Kafka outage, while workers
   * just retry their batches (their input stays in Kafka).
   */
  spool?: boolean;
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
  const dir = spool.dir !== '' ? spool.dir : config.dataDir === ':memory:' ? undefined : join(config.dataDir, 'spool');
  if (spooled && dir === undefined) logger.warn('bus.spool is enabled but dataDir is :memory: and bus.spool.dir is empty; running without a spool (503 while Kafka is down)');
  // Behind the spool the gateway starts while Kafka is down (the spool takes the publishes meanwhile);
  // without it, a start against unreachable brokers fails rather than answering 503 to everything.
  const kafka = await createKafkaBus({
    ...kafkaBusOptions(config), logger, startWhileUnreachable: spooled && dir !== undefined,
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
