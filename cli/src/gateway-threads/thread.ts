import { parentPort, workerData } from 'node:worker_threads';
import { Topics, createLogger, createMetricsRegistry, type Bus, type Logger } from '@helios/core';
import { createThreadPublisher, openBus, replayStrandedSpools } from '@helios/bus';
import type { IncidentWriter, StoreReader } from '@helios/store';
import { createGapPublisher } from '@helios/detection';
import { createGateway } from '@helios/gateway';
import { warnWhenOpenWithoutAuth } from '../open-listener.js';
import { INCIDENT_API_WRITE_METHODS, STORE_READER_METHODS, fromThreadError, threadError, type FromGatewayThread, type GatewayThreadData, type ToGatewayThread } from './protocol.js';

/**
 * A gateway thread: HTTP only. Requests are parsed and validated here, then on the in-process bus handed
 * to the pipeline thread (bus, store, detection, reporting) over `busPort`; on Kafka produced by this
 * thread's own Kafka bus behind its own spool (a 2xx after the broker's ack or the spool's fsync, as on one
 * thread). Store reads of the read API and /metrics go to the pipeline thread over the parent port.
 */
const data = workerData as GatewayThreadData;
const parent = parentPort!;
const send = (message: FromGatewayThread) => parent.postMessage(message);

let nextId = 0;
const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
function call(message: Omit<Extract<FromGatewayThread, { t: 'store' }>, 'id'> | { t: 'scrape' }): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    send({ ...message, id } as FromGatewayThread);
  });
}

// Log lines go to the pipeline thread's logger (one stream, its level and format).
const logger: Logger = createLogger({ level: data.config.log.level, format: 'json', stream: { write: (line) => send({ t: 'log', line }) } });
// Process metrics (CPU, heap, event loop) come from the pipeline thread's registry: one set per process.
const metrics = createMetricsRegistry({ defaultMetrics: false });
const { config } = data;
let bus: Bus;
try {
  bus = data.busPort !== undefined
    ? createThreadPublisher(data.busPort, { capacity: config.bus.capacity, topic: Topics.events, publishers: data.threads })
    : await openBus(config, { logger, metrics, spool: true, thread: data.index });
} catch (err) {
  send({ t: 'failed', error: threadError(err) });
  throw err;
}
const stranded = replayStrandedSpools(config, { threads: data.threads, thread: data.index, logger });
// Readiness: /readyz on any thread answers for every thread's bus (each may lose its broker connection on its own).
const othersNotReady = new Map<number, string>();
let ownNotReady: string | undefined;
const readinessCheck = setInterval(() => {
  const reason = bus.isReady() ? undefined : bus.notReadyReason?.() ?? 'not ready';
  if (reason === ownNotReady) return;
  ownNotReady = reason;
  send({ t: 'readiness', reason });
}, 100);
readinessCheck.unref();
// The incident API's writes go to the pipeline thread's store too (the one store of the process).
const store = data.hasStore ? (Object.fromEntries([...STORE_READER_METHODS, ...INCIDENT_API_WRITE_METHODS].map((method) => [method, (...args: unknown[]) => call({ t: 'store', method, args })])) as unknown as StoreReader & Pick<IncidentWriter, (typeof INCIDENT_API_WRITE_METHODS)[number]>) : undefined;
const hop = config.detection.hopMs;
const gaps = createGapPublisher({ bus, marginMs: hop, logger });
if (data.index === 0) warnWhenOpenWithoutAuth(config.gateway, logger);
const gateway = createGateway({
  config: config.gateway, bus, ...(store === undefined ? {} : { store }), logger, metrics, metricsConfig: config.metrics, redaction: config.redaction,
  scrapeMetrics: () => call({ t: 'scrape' }) as Promise<string>,
  notReadyReason: () => {
    for (const [index, reason] of othersNotReady) return `gateway thread ${index}'s bus: ${reason}`;
    return undefined;
  },
  onCapacityRefusal: (at, code) => {
    gaps.refused(at, code);
    send({ t: 'gap', from: at - hop, to: at + hop });
  },
});

parent.on('message', (message: ToGatewayThread) => {
  switch (message.t) {
    case 'reply': {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.value);
      else waiting?.reject(fromThreadError(message.error));
      return;
    }
    case 'metrics-json':
      metrics.getMetricsAsJSON().then((json) => send({ t: 'metrics-json', id: message.id, json }), () => send({ t: 'metrics-json', id: message.id, json: [] }));
      return;
    case 'readiness':
      if (message.reason === undefined) othersNotReady.delete(message.index);
      else othersNotReady.set(message.index, message.reason);
      return;
    case 'drain':
      bus.drain(message.timeoutMs).then((drained) => send({ t: 'drained', id: message.id, drained }), () => send({ t: 'drained', id: message.id, drained: false }));
      return;
    case 'stop':
      // Stop listening, finish requests in flight, hand over everything accepted (Kafka: acknowledged, or
      // left in the spool for the next start), then say so.
      void (async () => {
        clearInterval(readinessCheck);
        await gateway.stop();
        await gaps.close();
        await stranded.close();
        await bus.close();
        send({ t: 'stopped' });
      })();
  }
});

gateway.start().then(
  ({ port, otlpPort, otlpGrpcPort }) => send({ t: 'started', port, otlpPort, otlpGrpcPort, transport: gateway.transport }),
  (err: unknown) => send({ t: 'failed', error: threadError(err) }),
);
