import { describe, expect, it } from 'vitest';
import { isHeliosError } from '@helios/core';
import { KAFKA_CLIENT_PACKAGES, loadKafkaBusModule } from './kafka.js';

describe('loading the Kafka modules', () => {
  it.each(KAFKA_CLIENT_PACKAGES)('names the missing Kafka library %s with a coded error', async (name) => {
    const notFound = Object.assign(new Error(`Cannot find package '${name}' imported from /app/bus/dist/kafka-bus.js`), { code: 'ERR_MODULE_NOT_FOUND' });
    const err = await loadKafkaBusModule(() => Promise.reject(notFound)).catch((e: unknown) => e);
    expect(isHeliosError(err, 'HLS_ERR_KAFKA_CLIENT_MISSING')).toBe(true);
    expect((err as Error).message).toContain(name);
  });

  it('passes other failures through unchanged', async () => {
    const other = new Error('boom');
    await expect(loadKafkaBusModule(() => Promise.reject(other))).rejects.toBe(other);
  });

  it('loads the Kafka bus when the libraries are installed', async () => {
    expect(typeof (await loadKafkaBusModule()).createKafkaBus).toBe('function');
  });
});
