import type { Bus } from '@helios/core';

/** Takes everything, keeps nothing: what the gateway costs with no bus behind it (the baseline of the gateway and Kafka suites). */
export const nullSinkBus: Bus = {
  kind: 'null',
  publish: async () => undefined,
  subscribe: () => ({ close: async () => undefined }),
  isReady: () => true,
  drain: async () => true,
  close: async () => undefined,
};
