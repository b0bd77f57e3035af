import { HeliosError } from '@helios/core';
import type { KafkaBus, KafkaBusOptions } from './kafka-options.js';

/** The libraries the Kafka bus loads (optionalDependencies of @helios/bus). */
export const KAFKA_CLIENT_PACKAGES = ['kafkajs', '@platformatic/kafka', 'kafkajs-snappy', 'lz4js'] as const;

type KafkaBusModule = typeof import('./kafka-bus.js');

/**
 * The Kafka modules, loaded on first use: a process on the in-process bus never loads a Kafka client
 * (importing @helios/bus costs no Kafka memory), and an install without the optional Kafka libraries
 * (`npm install --omit=optional`) fails here, with a coded error naming what is missing, only if it
 * asks for Kafka. `importModule` is replaceable for the test of that error.
 */
export async function loadKafkaBusModule(importModule: () => Promise<KafkaBusModule> = () => import('./kafka-bus.js')): Promise<KafkaBusModule> {
  try {
    return await importModule();
  } catch (err) {
    const missing = missingPackage(err);
    if (missing === undefined) throw err;
    throw new HeliosError(
      'HLS_ERR_KAFKA_CLIENT_MISSING',
      `bus.kind is kafka but ${missing} is not installed; install @helios/bus with its optional dependencies (${KAFKA_CLIENT_PACKAGES.join(', ')}), e.g. npm install without --omit=optional`,
      { cause: err },
    );
  }
}

/** The Kafka library a failed import could not find, if that is why it failed. */
function missingPackage(err: unknown): string | undefined {
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' || typeof message !== 'string') return undefined;
  return KAFKA_CLIENT_PACKAGES.find((name) => message.includes(`'${name}'`) || message.includes(`"${name}"`) || message.includes(`/${name}/`));
}

/** A Kafka bus (kafka-bus.ts), its modules loaded on first use. */
export async function createKafkaBus(options: KafkaBusOptions): Promise<KafkaBus> {
  return (await loadKafkaBusModule()).createKafkaBus(options);
}
