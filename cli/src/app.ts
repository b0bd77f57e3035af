import { createLogger, createMemoryBus, createMetricsRegistry, type HeliosConfig, type IncidentReport, type Logger, type Registry } from '@helios/core';
import { openStore, startStorageConsumer, type Store } from '@helios/store';
import { loadPlugins, startDetectRuntime, startReportRuntime, type DetectRuntime, type DetectorHooks, type LoadedPlugin, type ReporterHooks } from '@helios/plugins';
import { createGateway, type Gateway } from '@helios/gateway';

export interface HeliosAppOptions {
  config: HeliosConfig;
  /** Folder plugin paths and names resolve from (the config file's folder). */
  baseDir: string;
  logger?: Logger;
  onReport?: (report: IncidentReport) => void;
  now?: () => number;
}

export interface HeliosApp {
  readonly port: number;
  readonly otlpPort: number | undefined;
  readonly transport: 'uws' | 'node';
  readonly store: Store;
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

/**
 * `helios up`: gateway + storage + detection + reporting in one process, on the configured bus and store.
 * Start order is from the back of the pipeline to the front, so nothing is accepted before it can be handled;
 * stop order is the reverse.
 */
export async function startHelios(options: HeliosAppOptions): Promise<HeliosApp> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const metrics = createMetricsRegistry();
  const store = await openStore(config);
  const bus = createMemoryBus({ capacity: config.bus.capacity, logger });
  const cleanup: Array<() => Promise<void>> = [() => store.close()];
  try {
    const host = { baseDir: options.baseDir, logger, metrics, store, dataDir: config.dataDir, timeoutMs: config.plugins.timeoutMs, now: options.now };
    const detectors = await loadPlugins(config.plugins.detectors, 'detector', host);
    cleanup.unshift(async () => void (await Promise.all(detectors.map((d) => d.shutdown()))));
    const reporters = await loadPlugins(config.plugins.reporters, 'reporter', host);
    cleanup.unshift(async () => void (await Promise.all(reporters.map((r) => r.shutdown()))));

    const storage = startStorageConsumer({ bus, store, logger });
    const reporting = startReportRuntime({ bus, store, reporters, logger, metrics, now: options.now, onReport: options.onReport });
    const detection: DetectRuntime = startDetectRuntime({ bus, detectors, detection: config.detection, logger, metrics, now: options.now });
    const gateway: Gateway = createGateway({ config: config.gateway, bus, store, logger, metrics, now: options.now });
    const { port, otlpPort } = await gateway.start();

    let stopped: Promise<void> | undefined;
    return {
      port, otlpPort, store, metrics, detectors, reporters,
      get transport() {
        return gateway.transport;
      },
      settle: (timeoutMs) => bus.drain(timeoutMs),
      async flushDetection() {
        await bus.drain();
        await detection.flush();
        await bus.drain();
      },
      stop() {
        stopped ??= (async () => {
          await gateway.stop();
          await bus.drain(30_000);
          await detection.close();
          await bus.close();
          await reporting.close();
          await storage.close();
          for (const step of cleanup) await step();
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const step of cleanup) await step().catch(() => undefined);
    throw err;
  }
}
