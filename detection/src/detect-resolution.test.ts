import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Topics, createMetricsRegistry, isIncidentResolution, loadConfig, normalizeEventInput, silentLogger, type AnomalyTopicRecord, type Bus, type FeatureWindow } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { PluginGuard, pluginGuardMetrics, type DetectorHooks, type LoadedPlugin } from '@helios/plugins';
import { startDetectRuntime } from './detect-runtime.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/**
 * Two outages in `svc`, each followed by long enough normal traffic to resolve it, judged by a detector that
 * calls a window anomalous exactly when it holds errors. `refusals`: the anomalies-topic publishes the bus
 * refuses (by call number, from 1), as a bus that is briefly unavailable would.
 */
async function runOutages(refusals: ReadonlySet<number> = new Set()): Promise<Array<{ key: string; value: AnomalyTopicRecord }>> {
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  // Anomalous exactly when a window holds errors: the incident opens with the failing minutes and resolves after them.
  const errorsDetector: LoadedPlugin<DetectorHooks> = {
    name: 'errors', version: '1.0.0', kind: 'detector', source: 'errors', guard: new PluginGuard('errors', 2000, silentLogger(), pluginGuardMetrics(metrics)), shutdown: async () => undefined,
    hooks: { detect: (w: FeatureWindow) => ({ score: w.features.error_rate, threshold: 0.1, anomalous: w.features.error_rate > 0.1, explanation: [], modelVersion: 'v' }) },
  };
  const memory = createMemoryBus({ capacity: 100_000 });
  let anomalyPublishes = 0;
  const bus: Bus = {
    ...memory, kind: memory.kind, subscribe: memory.subscribe.bind(memory), isReady: memory.isReady.bind(memory), drain: memory.drain.bind(memory), close: memory.close.bind(memory),
    publish: async (topic, records) => {
      if (topic === Topics.anomalies && refusals.has(++anomalyPublishes)) throw new Error(`bus unavailable (publish ${anomalyPublishes})`);
      return memory.publish(topic, records);
    },
  };
  const records: Array<{ key: string; value: AnomalyTopicRecord }> = [];
  bus.subscribe<AnomalyTopicRecord>(Topics.anomalies, 'test', async (batch) => void records.push(...batch));
  const config = loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'helios-resolve-')) }).config;
  const runtime = startDetectRuntime({
    bus, detectors: [errorsDetector], logger: silentLogger(), metrics, now: () => T0 + 1e9,
    detection: { ...config.detection, idleFlushMs: 0, confirmWindows: 1, resolveAfterWindows: 2, immediateRatio: 0 },
  });
  // Two outages, each followed by long enough normal traffic to resolve it.
  const failing = (m: number) => (m >= 20 && m < 25) || (m >= 60 && m < 65);
  for (let m = 0; m < 100; m++) {
    const events = Array.from({ length: 20 }, (_, i) => normalizeEventInput({ service: 'svc', timestamp: T0 + m * MIN + i * 3000, latency_ms: 20, status_code: failing(m) ? 500 : 200, endpoint: '/a' }, { tenant: 't', now: T0 }));
    await bus.publish(Topics.events, events.map((value) => ({ key: 't/svc', value })));
    await bus.drain();
  }
  await runtime.flush();
  await bus.drain();
  await runtime.close();
  await bus.close();
  return records;
}

describe('detect runtime: incident resolution', () => {
  it('publishes one resolution per incident, after its anomaly on the same key, naming the anomaly as the incident', async () => {
    const records = await runOutages();
    expect(records.map((r) => (isIncidentResolution(r.value) ? 'resolved' : 'opened'))).toEqual(['opened', 'resolved', 'opened', 'resolved']);
    for (const [opening, resolution] of [[records[0]!, records[1]!], [records[2]!, records[3]!]]) {
      expect(resolution.key).toBe(opening.key);
      expect(resolution.value).toMatchObject({ kind: 'incident-resolved', incidentId: opening.value.id, tenant: 't', service: 'svc', by: 'detector', resolvedAt: T0 + 1e9 });
    }
  }, 60_000);

  it('loses neither an opening nor a resolution the bus refused: they are published later, once each, in order', async () => {
    // Refuse the first opening twice and the first resolution once (publish calls 1, 2 and 4).
    const records = await runOutages(new Set([1, 2, 4]));
    expect(records.map((r) => (isIncidentResolution(r.value) ? `resolved ${r.value.incidentId}` : `opened ${r.value.id}`))).toEqual([
      `opened ${records[0]!.value.id}`, `resolved ${records[0]!.value.id}`, `opened ${records[2]!.value.id}`, `resolved ${records[2]!.value.id}`,
    ]);
  }, 60_000);
});
