import { availableParallelism } from 'node:os';
import { createServer, type Server } from 'node:net';
import { MessageChannel, Worker } from 'node:worker_threads';
import { HeliosError, Topics, mergedMetricsText, workerModuleUrl, type HeliosConfig, type Logger, type Registry } from '@helios/core';
import { serveThreadPublisher, type MemoryBus, type ThreadPipeline } from '@helios/bus';
import type { Store } from '@helios/store';
import { INCIDENT_API_WRITE_METHODS, STORE_READER_METHODS, fromThreadError, threadError, type FromGatewayThread, type GatewayThreadData, type ToGatewayThread } from './protocol.js';

/**
 * The gateway on worker threads (`gateway.threads`), the pipeline (in-process bus, store, detection,
 * reporting) on this one: HTTP parsing and validation no longer wait behind PGlite, and several threads
 * take connections on one port. On Kafka each thread produces on its own Kafka bus and spool; this thread
 * keeps the consumers (storage, detect, report) of the roles the process runs.
 */

export interface GatewayThreadsOptions {
  config: HeliosConfig;
  /** The in-process bus the threads hand their events to; on Kafka (`bus.kind`) unused: each thread opens its own. */
  bus: MemoryBus | undefined;
  store: Store | undefined;
  logger: Logger;
  /** This thread's registry: /metrics serves it merged with every gateway thread's. */
  metrics: Registry;
  /** A detect role in this process: told at once of spans in which a gateway thread refused events. */
  localGap?: (from: number, to: number) => void;
}

export interface GatewayThreads {
  port: number;
  otlpPort: number | undefined;
  otlpGrpcPort: number | undefined;
  transport: 'uws' | 'node';
  threads: number;
  /** Resolves once everything the threads accepted before now is on the bus (Kafka: acknowledged, spools replayed); false when that took longer than timeoutMs. */
  sync(timeoutMs?: number): Promise<boolean>;
  /** Stop listening, finish requests in flight and hand everything accepted to the bus. */
  stop(): Promise<void>;
}

/** gateway.threads, 0 meaning one per core. */
export function gatewayThreadCount(config: HeliosConfig): number {
  return config.gateway.threads === 0 ? availableParallelism() : config.gateway.threads;
}

const listen = (server: Server, options: { host?: string; port?: number; path?: string; exclusive?: boolean }) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

const portInUse = (host: string, port: number) =>
  new HeliosError('HLS_ERR_PORT_IN_USE', `could not listen on ${host}:${port}: the port is in use by another process (or binding it is not permitted); choose another with --port or gateway.port, or set gateway.reusePort: true to share it on purpose`);

/**
 * Several threads of this process listen on one port with SO_REUSEPORT, which any other process of the
 * same user could join too, silently taking part of the connections into its own store. So before they
 * bind: the port must be free (a plain exclusive bind of it succeeds; a listener of any kind, with
 * SO_REUSEPORT or not, makes it fail), and the process holds a lock named after the port (an abstract
 * Unix socket on Linux: released by the kernel when the process dies) that a second Helios cannot take.
 * Returns the port (a free one for 0) and the lock to release at stop.
 */
async function claimPort(host: string, port: number): Promise<{ port: number; lock: Server | undefined }> {
  const probe = createServer();
  try {
    await listen(probe, { host, port, exclusive: true });
  } catch {
    throw portInUse(host, port);
  }
  const bound = (probe.address() as { port: number }).port;
  let lock: Server | undefined;
  if (process.platform === 'linux') {
    lock = createServer();
    try {
      await listen(lock, { path: `\0helios-gateway-port-${bound}` });
    } catch {
      await close(probe);
      throw portInUse(host, bound);
    }
  }
  await close(probe);
  return { port: bound, lock };
}

interface RunningThread {
  worker: Worker;
  /** The in-process bus's handoff; undefined on Kafka. */
  pipeline: ThreadPipeline | undefined;
  stopped: Promise<void>;
}

export async function startGatewayThreads(options: GatewayThreadsOptions): Promise<GatewayThreads> {
  const { config, bus, store, logger, metrics } = options;
  const threads = gatewayThreadCount(config);
  const gateway = config.gateway;
  // One thread listens exclusively by itself (uWS's LIBUS_LISTEN_EXCLUSIVE_PORT); several share the port.
  const shared = threads > 1 && !gateway.reusePort;
  const locks: Server[] = [];
  const release = async () => {
    for (const lock of locks.splice(0)) await close(lock);
  };
  const claim = async (port: number) => {
    if (!shared || port < 0) return port;
    const claimed = await claimPort(gateway.host, port);
    if (claimed.lock !== undefined) locks.push(claimed.lock);
    return claimed.port;
  };
  let port: number;
  let otlpPort: number;
  try {
    port = await claim(gateway.port);
    otlpPort = gateway.otlpPort === gateway.port ? port : await claim(gateway.otlpPort);
  } catch (err) {
    await release();
    throw err;
  }

  const running: RunningThread[] = [];
  const started: Array<Promise<Extract<FromGatewayThread, { t: 'started' }>>> = [];
  const onKafka = config.bus.kind === 'kafka';
  if (!onKafka && bus === undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'gateway threads on the in-process bus need that bus');
  for (let index = 0; index < threads; index++) {
    const channel = onKafka ? undefined : new MessageChannel();
    const threadConfig: HeliosConfig = {
      ...config,
      gateway: {
        ...gateway, port, otlpPort, reusePort: gateway.reusePort || threads > 1,
        // The gRPC server (node:http2) cannot share its port between threads: the first thread serves it.
        otlpGrpcPort: index === 0 ? gateway.otlpGrpcPort : -1,
      },
    };
    const data: GatewayThreadData = { config: threadConfig, index, threads, busPort: channel?.port2, hasStore: store !== undefined };
    const worker = new Worker(workerModuleUrl(import.meta.url, 'thread.js'), { workerData: data, transferList: channel === undefined ? [] : [channel.port2] });
    const pipeline = channel === undefined ? undefined : serveThreadPublisher(channel.port1, { bus: bus!, topic: Topics.events, onError: (err) => logger.error({ err }, 'gateway thread handoff: could not publish what a gateway thread accepted') });
    let onStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (onStopped = resolve));
    running.push({ worker, pipeline, stopped });
    const post = (message: ToGatewayThread) => worker.postMessage(message);
    started.push(new Promise((resolve, reject) => {
      worker.on('error', (err) => {
        logger.error({ err, thread: index }, 'gateway thread failed');
        reject(err);
        onStopped();
      });
      worker.on('exit', () => {
        reject(new HeliosError('HLS_ERR_INTERNAL', `gateway thread ${index} exited before it started`));
        // A thread that is gone hands nothing over any more: nobody waits for it (settle, stop).
        pipeline?.close();
        onStopped();
      });
      worker.on('message', (message: FromGatewayThread) => {
        switch (message.t) {
          case 'started':
            return resolve(message);
          case 'failed':
            return reject(fromThreadError(message.error));
          case 'stopped':
            return onStopped();
          case 'log':
            return relayLog(logger, message.line);
          case 'gap':
            return options.localGap?.(message.from, message.to);
          case 'store':
            void answerStore(store, message).then(post);
            return;
          case 'scrape':
            void scrape().then(
              (text) => post({ t: 'reply', id: message.id, ok: true, value: text }),
              (err: unknown) => post({ t: 'reply', id: message.id, ok: false, error: threadError(err) }),
            );
            return;
          case 'metrics-json':
            metricsWaiters.get(message.id)?.(message.json);
            metricsWaiters.delete(message.id);
            return;
          case 'readiness':
            for (const [other, { worker: peer }] of running.entries()) if (other !== index) peer.postMessage({ t: 'readiness', index, reason: message.reason } satisfies ToGatewayThread);
            return;
          case 'drained':
            drainWaiters.get(message.id)?.(message.drained);
            drainWaiters.delete(message.id);
        }
      });
    }));
  }

  let nextRequestId = 0;
  const metricsWaiters = new Map<number, (json: unknown) => void>();
  const drainWaiters = new Map<number, (drained: boolean) => void>();
  /** Every thread's metrics and this one's, merged. */
  async function scrape(): Promise<string> {
    const parts = await Promise.all(running.map(({ worker }) => new Promise<unknown>((resolve) => {
      const id = nextRequestId++;
      metricsWaiters.set(id, resolve);
      worker.postMessage({ t: 'metrics-json', id } satisfies ToGatewayThread);
    })));
    return (await mergedMetricsText([await metrics.getMetricsAsJSON(), ...(parts as Awaited<ReturnType<Registry['getMetricsAsJSON']>>[])])).text;
  }

  async function stop(): Promise<void> {
    for (const { worker } of running) worker.postMessage({ t: 'stop' } satisfies ToGatewayThread);
    await Promise.all(running.map((r) => r.stopped));
    // Everything a thread accepted was taken before it said stopped; what came while the bus was full waits in a backlog.
    for (const { pipeline } of running) while (pipeline !== undefined && pipeline.backlog() > 0) await new Promise((resolve) => setTimeout(resolve, 2));
    for (const { worker, pipeline } of running) {
      pipeline?.close();
      await worker.terminate();
    }
    await release();
  }

  let first: Extract<FromGatewayThread, { t: 'started' }>;
  try {
    [first] = await Promise.all(started) as [Extract<FromGatewayThread, { t: 'started' }>];
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port: first.port, otlpPort: first.otlpPort, otlpGrpcPort: first.otlpGrpcPort, transport: first.transport, threads,
    sync: async (timeoutMs = 30_000) => {
      const drained = await Promise.all(running.map(({ worker, pipeline, stopped }) => {
        if (pipeline !== undefined) return pipeline.sync().then(() => true);
        // A thread that is gone answers no more; it had nothing left to hand over (it stopped) or failed.
        return Promise.race([stopped.then(() => false), new Promise<boolean>((resolve) => {
          const id = nextRequestId++;
          drainWaiters.set(id, resolve);
          worker.postMessage({ t: 'drain', id, timeoutMs } satisfies ToGatewayThread);
        })]);
      }));
      return drained.every(Boolean);
    },
    stop,
  };
}

/** A gateway thread's log line (pino JSON) through this thread's logger. */
function relayLog(logger: Logger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, name: _name, ...fields } = record;
  const method = ({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as const)[level as 10] ?? 'info';
  logger[method](fields, typeof msg === 'string' ? msg : '');
}

async function answerStore(store: Store | undefined, message: Extract<FromGatewayThread, { t: 'store' }>): Promise<ToGatewayThread> {
  try {
    if (store === undefined || ![...STORE_READER_METHODS, ...INCIDENT_API_WRITE_METHODS].includes(message.method)) throw new HeliosError('HLS_ERR_NOT_FOUND', 'this process serves no store API');
    const read = store[message.method] as (...args: unknown[]) => Promise<unknown>;
    return { t: 'reply', id: message.id, ok: true, value: await read.apply(store, message.args) };
  } catch (err) {
    return { t: 'reply', id: message.id, ok: false, error: threadError(err) };
  }
}
