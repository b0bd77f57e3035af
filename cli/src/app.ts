import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createMetricsRegistry, HeliosError, type Bus, type HeliosConfig, type IncidentReport, type Logger, type Registry } from '@helios/core';
import { openBus, type MemoryBus } from '@helios/bus';
import { openStore, startStorageConsumer, type SeriesStatusQuery, type Store } from '@helios/store';
import { loadPlugins, type DetectorHooks, type LoadedPlugin, type ReporterHooks } from '@helios/plugins';
import { startReportRuntime } from '@helios/reporting';
import { createGapPublisher, startDetectRuntime, type DetectRuntime } from '@helios/detection';
import { createGateway, createMetricsAuthenticator, loadUws } from '@helios/gateway';
import { startGatewayThreads, type GatewayThreads } from './gateway-threads/threads.js';
import { warnWhenOpenWithoutAuth } from './open-listener.js';

/**
 * The process roles. `gateway` takes HTTP and publishes; `storage`, `detect` and `report` are the
 * consumer groups helios-storage, helios-detect and helios-report. With Kafka any subset may run in a
 * process; the in-process bus needs all four together.
 */
export const HELIOS_ROLES = ['gateway', 'storage', 'detect', 'report'] as const;
export type HeliosRole = (typeof HELIOS_ROLES)[number];

export interface HeliosAppOptions {
  config: HeliosConfig;
  /** Folder plugin paths and names resolve from (the config file's folder). */
  baseDir: string;
  /** Roles this process runs; default all of them. */
  roles?: readonly HeliosRole[];
  logger?: Logger;
  /** Registry the roles register their metrics on (served on /metrics); default a new one. */
  metrics?: Registry;
  /** Use this store instead of opening the configured one; the caller keeps owning it (stop does not close it). */
  store?: Store;
  onReport?: (report: IncidentReport) => void;
  now?: () => number;
}

export interface HeliosApp {
  readonly roles: readonly HeliosRole[];
  /** The gateway's port, or for a worker process the port of its /metrics and /healthz server. */
  readonly port: number;
  readonly otlpPort: number | undefined;
  /** The OTLP/gRPC port when the gateway bound one. */
  readonly otlpGrpcPort: number | undefined;
  readonly transport: 'uws' | 'node';
  /**
   * The process's store. A gateway-only process on the embedded store has none (the storage worker owns
   * that database): reading it then throws HLS_ERR_CONFIG_INVALID.
   */
  readonly store: Store;
  readonly bus: Bus;
  readonly metrics: Registry;
  readonly detectors: ReadonlyArray<LoadedPlugin<DetectorHooks>>;
  readonly reporters: ReadonlyArray<LoadedPlugin<ReporterHooks>>;
  /** Wait until everything accepted so far is stored, judged and reported. */
  settle(timeoutMs?: number): Promise<boolean>;
  /** Close windows still open (end of a replay) and wait for the results. */
  flushDetection(): Promise<void>;
  /** Stop intake, drain the pipeline, shut plugins down, close the store. Idempotent. */
  stop(): Promise<void>;
}

/** A started role: how to stop it. Roles stop in the reverse of their start order. */
interface RunningRole {
  stop(): Promise<void>;
}

interface RoleContext {
  options: HeliosAppOptions;
  config: HeliosConfig;
  logger: Logger;
  metrics: Registry;
  bus: Bus;
  store: Store | undefined;
}

function requireStore(ctx: RoleContext, role: HeliosRole): Store {
  if (ctx.store === undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `role ${role} needs a store`);
  return ctx.store;
}

function pluginHost(ctx: RoleContext, role: HeliosRole) {
  const { options, config, logger, metrics } = ctx;
  return { baseDir: options.baseDir, logger, metrics, store: requireStore(ctx, role), detectorState: requireStore(ctx, role), dataDir: config.dataDir, timeoutMs: config.plugins.timeoutMs, now: options.now };
}

/** Storage role: group helios-storage writes events and anomalies into the store. */
function startStorageRole(ctx: RoleContext): RunningRole {
  const { batchSize, flushIntervalMs, maintenanceIntervalMs } = ctx.config.store;
  const { kind, kafka } = ctx.config.bus;
  // Kafka: refused events also go to the dead-letter topic, next to undecodable records (the table keeps them either way).
  const deadLetterTopic = kind === 'kafka' && kafka.deadLetterTopic !== '' ? kafka.deadLetterTopic : undefined;
  const storage = startStorageConsumer({
    bus: ctx.bus, store: requireStore(ctx, 'storage'), logger: ctx.logger, metrics: ctx.metrics, batchSize, flushIntervalMs, maintenanceIntervalMs,
    ...(deadLetterTopic === undefined ? {} : { deadLetterTopic }),
  });
  return { stop: () => storage.close() };
}

/** Report role: group helios-report turns anomalies into reports with the configured reporter plugins. */
async function startReportRole(ctx: RoleContext): Promise<RunningRole & { reporters: ReadonlyArray<LoadedPlugin<ReporterHooks>> }> {
  const reporters = await loadPlugins(ctx.config.plugins.reporters, 'reporter', pluginHost(ctx, 'report'));
  const reporting = startReportRuntime({ bus: ctx.bus, store: requireStore(ctx, 'report'), reporters, logger: ctx.logger, metrics: ctx.metrics, now: ctx.options.now, onReport: ctx.options.onReport, redaction: ctx.config.redaction });
  return {
    reporters,
    async stop() {
      await reporting.close();
      await Promise.all(reporters.map((r) => r.shutdown()));
    },
  };
}

/** Detect role: group helios-detect windows events, runs the detector plugins, publishes anomalies. */
async function startDetectRole(ctx: RoleContext): Promise<RunningRole & { detectors: ReadonlyArray<LoadedPlugin<DetectorHooks>>; flush(): Promise<void>; markGap(from: number, to: number): void; serviceStates: DetectRuntime['serviceStates'] }> {
  const detectors = await loadPlugins(ctx.config.plugins.detectors, 'detector', pluginHost(ctx, 'detect'));
  const detection = startDetectRuntime({ bus: ctx.bus, detectors, detection: ctx.config.detection, logger: ctx.logger, metrics: ctx.metrics, metricsConfig: ctx.config.metrics, now: ctx.options.now, store: requireStore(ctx, 'detect') });
  return {
    detectors,
    flush: () => detection.flush(),
    markGap: (from: number, to: number) => detection.markGap(from, to),
    serviceStates: (q) => detection.serviceStates(q),
    async stop() {
      await detection.close();
      await Promise.all(detectors.map((d) => d.shutdown()));
    },
  };
}

/**
 * Gateway role: HTTP ingestion publishing to the bus, plus the read API when this process has a store.
 * Events refused for capacity are lost telemetry: the span around each refusal (one detection hop either
 * side) goes out as a `TelemetryGapRecord` on the bus, so detect workers in any process leave the windows
 * it touches unjudged; `localGap` also tells a detect role in this process at once.
 */
async function startGatewayRole(ctx: RoleContext, localGap?: (from: number, to: number) => void): Promise<RunningRole & { port: number; otlpPort: number | undefined; otlpGrpcPort: number | undefined; transport: 'uws' | 'node'; threads?: GatewayThreads }> {
  if (onGatewayThreads(ctx)) {
    const threads = await startGatewayThreads({ config: ctx.config, bus: ctx.bus as MemoryBus, store: ctx.store, logger: ctx.logger, metrics: ctx.metrics, ...(localGap === undefined ? {} : { localGap }) });
    return { ...threads, threads };
  }
  warnWhenOpenWithoutAuth(ctx.config.gateway, ctx.logger);
  const hop = ctx.config.detection.hopMs;
  const gaps = createGapPublisher({ bus: ctx.bus, marginMs: hop, logger: ctx.logger });
  const gateway = createGateway({
    config: ctx.config.gateway, bus: ctx.bus, ...(ctx.store === undefined ? {} : { store: ctx.store }), logger: ctx.logger, metrics: ctx.metrics, metricsConfig: ctx.config.metrics, now: ctx.options.now, redaction: ctx.config.redaction,
    onCapacityRefusal: (at, code) => {
      gaps.refused(at, code);
      localGap?.(at - hop, at + hop);
    },
  });
  const { port, otlpPort, otlpGrpcPort } = await gateway.start();
  return {
    port, otlpPort, otlpGrpcPort, transport: gateway.transport,
    async stop() {
      await gateway.stop();
      await gaps.close();
    },
  };
}

/**
 * The gateway runs on worker threads (gateway-threads/) when the bus is the in-process one (its consumers
 * are on this thread), uWS loads (node:http cannot share a port between threads), and no custom clock is
 * given (a function cannot cross to another thread).
 */
function onGatewayThreads(ctx: RoleContext): boolean {
  const { config, options } = ctx;
  if (config.bus.kind !== 'memory' || options.now !== undefined || config.gateway.transport === 'node') return false;
  return !('error' in loadUws());
}

/** A worker process has no gateway; it still serves /metrics (consumer lag) and /healthz for its operator. */
async function startWorkerHttp(ctx: RoleContext): Promise<RunningRole & { port: number }> {
  // The same /metrics rule as the gateway's: a metrics key when metrics.auth requires one.
  const authenticateMetrics = createMetricsAuthenticator(ctx.config.metrics, ctx.config.gateway.auth.enabled);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      try {
        authenticateMetrics?.({ authorization: req.headers.authorization ?? '' });
      } catch (err) {
        const error = (err as HeliosError).toJSON();
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify({ error }));
        return;
      }
      ctx.metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': ctx.metrics.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (path === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    else if (path === '/readyz') {
      const ready = ctx.bus.isReady();
      const body = ready ? { status: 'ready' } : { status: 'not ready', reason: `bus: ${ctx.bus.notReadyReason?.() ?? 'not ready'}` };
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.gateway.port, ctx.config.gateway.host, () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Start the given roles (default all: `helios up`) on the configured bus and store. Roles start from the
 * back of the pipeline to the front, so nothing is accepted before it can be handled; they stop in reverse.
 */
export async function startHelios(options: HeliosAppOptions): Promise<HeliosApp> {
  const { config } = options;
  const roles = [...new Set(options.roles ?? HELIOS_ROLES)];
  if (roles.length === 0) throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'roles: name at least one of gateway, storage, detect, report');
  if (config.bus.kind === 'memory' && roles.length < HELIOS_ROLES.length) {
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus.kind: the in-process bus needs every role in one process (got ${roles.join(', ')}); use bus.kind 'kafka' to split roles`);
  }
  const has = (role: HeliosRole) => roles.includes(role);
  const logger = options.logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const metrics = options.metrics ?? createMetricsRegistry();
  // The embedded database belongs to one process: a gateway-only process opens a store only on PostgreSQL.
  const wantsStore = has('storage') || has('detect') || has('report') || config.store.kind === 'postgres';
  // Start takes 10-30 s on a first run (database creation, migrations, model loading): say each phase, so
  // whoever watches knows what it waits for.
  const started = performance.now();
  const phase = (msg: string, fields: Record<string, unknown> = {}) => logger.info({ ...fields, elapsedMs: Math.round(performance.now() - started) }, msg);
  if (options.store === undefined && wantsStore) {
    phase(config.store.kind === 'postgres' ? 'opening the PostgreSQL store and applying migrations' : 'opening the embedded store and applying migrations (the first start creates the database)', config.store.kind === 'postgres' ? {} : { dataDir: config.dataDir });
  }
  const store = options.store ?? (wantsStore ? await openStore(config, { logger }) : undefined);
  const running: RunningRole[] = [];
  const closeStore = async () => {
    if (options.store === undefined) await store?.close();
  };
  let bus: Bus;
  try {
    phase(`opening the ${config.bus.kind === 'kafka' ? 'Kafka' : 'in-process'} bus`);
    bus = await openBus(config, { logger, metrics, spool: has('gateway') });
  } catch (err) {
    await closeStore();
    throw err;
  }
  const ctx: RoleContext = { options, config, logger, metrics, bus, store };
  try {
    const storage = has('storage') ? startStorageRole(ctx) : undefined;
    if (storage !== undefined) running.push(storage);
    if (has('report')) phase('loading reporter plugins', { reporters: config.plugins.reporters.map((p) => p.use) });
    const reporting = has('report') ? await startReportRole(ctx) : undefined;
    if (reporting !== undefined) running.push(reporting);
    if (has('detect')) phase('loading detector plugins', { detectors: config.plugins.detectors.map((p) => p.use) });
    const detection = has('detect') ? await startDetectRole(ctx) : undefined;
    if (detection !== undefined) running.push(detection);
    // The gateway tells detection when it refused events for capacity: windows around that moment may miss
    // telemetry, so they are not judged (a full queue must not look like a traffic drop). Over the bus for
    // detect workers anywhere, and directly to a detect role in this process.
    phase(`listening on ${config.gateway.host}:${config.gateway.port}`);
    // With the detect role in this process the API shows its series states live, not as last saved.
    const gatewayCtx = detection === undefined || store === undefined ? ctx : { ...ctx, store: { ...store, detectorSeriesStates: async (q: SeriesStatusQuery) => detection.serviceStates(q) } };
    const gateway = has('gateway') ? await startGatewayRole(gatewayCtx, detection === undefined ? undefined : (from, to) => detection.markGap(from, to)) : undefined;
    const front: RunningRole & { port: number } = gateway ?? (await startWorkerHttp(ctx));
    running.push(front);

    let stopped: Promise<void> | undefined;
    return {
      roles, port: front.port, otlpPort: gateway?.otlpPort, otlpGrpcPort: gateway?.otlpGrpcPort, bus, metrics,
      detectors: detection?.detectors ?? [], reporters: reporting?.reporters ?? [],
      transport: gateway?.transport ?? 'node',
      get store() {
        if (store === undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'this process has no store: a gateway-only process opens one only when store.kind is postgres');
        return store;
      },
      async settle(timeoutMs) {
        // Requests the gateway threads accepted are on the bus before it is drained.
        await gateway?.threads?.sync();
        return bus.drain(timeoutMs);
      },
      async flushDetection() {
        await gateway?.threads?.sync();
        await bus.drain();
        await detection?.flush();
        await bus.drain();
      },
      stop() {
        stopped ??= (async () => {
          await front.stop();
          // What the gateway accepted reaches the stages behind it before they stop (they publish too).
          if (has('gateway')) await bus.drain(30_000);
          await detection?.stop();
          await bus.close();
          await reporting?.stop();
          await storage?.stop();
          await closeStore();
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const role of running.reverse()) await role.stop().catch(() => undefined);
    await bus.close(1000).catch(() => undefined);
    await closeStore();
    throw err;
  }
}

/**
 * Keep a started app running until SIGINT/SIGTERM, then stop it (draining what was accepted) and exit 0.
 * A second signal exits at once.
 */
export function stopOnSignals(app: HeliosApp, logger: Logger): void {
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(1);
    logger.info({ signal }, 'stopping: draining accepted events');
    app.stop().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** The values of `--role a,b` (repeatable); `all` means every allowed role; undefined when not given. */
export function parseRoles(values: readonly string[] | undefined, allowed: readonly HeliosRole[]): HeliosRole[] | undefined {
  const names = (values ?? []).flatMap((v) => v.split(','));
  if (names.length === 0) return undefined;
  const roles: HeliosRole[] = [];
  for (const name of names.map((n) => n.trim())) {
    if (name === 'all') roles.push(...allowed);
    else if ((allowed as readonly string[]).includes(name)) roles.push(name as HeliosRole);
    else throw new HeliosError('HLS_ERR_USAGE', `--role: expected one of ${allowed.join(', ')}, all; got ${JSON.stringify(name)}`);
  }
  return [...new Set(roles)];
}
