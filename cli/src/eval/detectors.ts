import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeliosError, createMetricsRegistry, silentLogger, type PluginSpec } from '@helios/core';
import { loadPlugins, type DetectorHooks, type LoadedPlugin } from '@helios/plugins';
import type { StoreReader } from '@helios/store';

const noStore = (): never => {
  throw new HeliosError('HLS_ERR_STORE', 'no store during an evaluation: detectors judge the dataset\u2019s windows only');
};

/**
 * Detector plugins loaded through the real loader (options validated as in production), with a fresh
 * state folder: an evaluation never reads or overwrites models persisted by a running Helios.
 */
export async function loadEvaluationDetectors(specs: readonly PluginSpec[], baseDir: string): Promise<Array<LoadedPlugin<DetectorHooks>>> {
  const store: StoreReader = { incidentContext: noStore, listAnomalies: noStore, listReports: noStore, getReport: noStore, countEvents: noStore, latestEventTime: noStore, rollups: noStore, searchEvents: noStore, eventsAfter: noStore, traceEvents: noStore, serviceOverview: noStore, detectorSeriesStates: noStore, incidentTimeline: noStore, getIncident: noStore, listIncidents: noStore, listSilences: noStore, unresolvedIncidents: noStore };
  const dataDir = mkdtempSync(join(tmpdir(), 'helios-eval-'));
  return loadPlugins(specs, 'detector', { baseDir, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), store, dataDir, timeoutMs: 60_000 });
}
