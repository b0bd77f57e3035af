import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeliosError, METRIC_FEATURE_NAMES, newEventId, type IncidentRecord, type IncidentReport, type PluginSpec } from '@helios/core';
import type { DetectorHooks, PluginKind, ReporterHooks } from '../define.js';
import { loadPlugin, type LoadedPlugin, type PluginHostOptions } from '../loader.js';
import { renderReportMarkdown } from '../report-markdown.js';
import { anomalousWindow, metricWindowSeries, sampleIncident, testHost, windowSeries } from './fixtures.js';

export interface ConformanceOptions {
  /** Options the plugin is loaded with (e.g. a file reporter's folder). */
  options?: unknown;
  /** Options that must be rejected at load with HLS_ERR_PLUGIN_CONFIG, and the key the error must name. */
  badOptions?: { options: unknown; key: string };
  host?: Partial<PluginHostOptions>;
}

export interface ConformanceResult {
  name: string;
  version: string;
  kind: PluginKind;
  /** What the plugin produced from the fixtures (detections or the composed report / delivery). */
  outputs: unknown[];
}

function fail(plugin: string, message: string): never {
  throw new Error(`${plugin} is not a conforming Helios plugin: ${message}`);
}

/**
 * The contract every Helios plugin keeps, run through the real loader: load -> start (setup) ->
 * events (windows for detectors, an incident for reporters) -> shutdown, twice. Bad options are
 * refused at load naming the key. Throws with a message naming what broke.
 */
export async function checkPluginConformance(use: string, kind: PluginKind, options: ConformanceOptions = {}): Promise<ConformanceResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'helios-conformance-'));
  const host = testHost({ dataDir, ...options.host });
  const spec: PluginSpec = options.options === undefined ? { use } : { use, options: options.options };

  if (options.badOptions !== undefined) {
    const err = await loadPlugin({ use, options: options.badOptions.options }, kind, 0, host).then(() => undefined, (e: unknown) => e);
    if (!(err instanceof HeliosError) || err.code !== 'HLS_ERR_PLUGIN_CONFIG') fail(use, `bad options were not refused with HLS_ERR_PLUGIN_CONFIG (got ${String(err)})`);
    if (!err.message.includes(options.badOptions.key)) fail(use, `the error for bad options does not name "${options.badOptions.key}": ${err.message}`);
  }

  const plugin = await loadPlugin(spec, kind, 0, host);
  const outputs: unknown[] = [];
  if (kind === 'detector') {
    const detector = plugin as LoadedPlugin<DetectorHooks>;
    for (const window of [...windowSeries(240), anomalousWindow()]) {
      const result = await detector.guard.call('detect', () => detector.hooks.detect(window));
      if (!result.ok) fail(use, `detect threw on a valid window: ${result.error.message}`);
      const d = result.value;
      if (d !== undefined) {
        if (typeof d.score !== 'number' || !Number.isFinite(d.score)) fail(use, `detect returned a non-finite score: ${String(d.score)}`);
        if (typeof d.anomalous !== 'boolean') fail(use, 'detect returned no boolean `anomalous`');
        if (!Array.isArray(d.explanation)) fail(use, 'detect returned no explanation array');
        outputs.push(d);
      }
    }
    // The optional metric-series hook (plugin API 1.1): same verdict shape, explanations in metric features.
    if (detector.hooks.detectMetric !== undefined) {
      for (const window of metricWindowSeries(240, { shiftAt: 239 })) {
        const result = await detector.guard.call('detectMetric', () => detector.hooks.detectMetric!(window));
        if (!result.ok) fail(use, `detectMetric threw on a valid metric window: ${result.error.message}`);
        const d = result.value;
        if (d === undefined) continue;
        if (typeof d.score !== 'number' || !Number.isFinite(d.score)) fail(use, `detectMetric returned a non-finite score: ${String(d.score)}`);
        if (typeof d.anomalous !== 'boolean') fail(use, 'detectMetric returned no boolean `anomalous`');
        if (!Array.isArray(d.explanation) || d.explanation.some((e) => !(METRIC_FEATURE_NAMES as readonly string[]).includes(e.feature))) fail(use, 'detectMetric must explain in metric features (METRIC_FEATURE_NAMES)');
        outputs.push(d);
      }
    }
  } else {
    const reporter = plugin as LoadedPlugin<ReporterHooks>;
    const incident = sampleIncident();
    if (reporter.hooks.compose !== undefined) {
      const result = await reporter.guard.call('compose', () => reporter.hooks.compose!(incident));
      if (!result.ok) fail(use, `compose threw: ${result.error.message}`);
      const s = result.value.sections;
      for (const key of ['executiveSummary', 'rootCauseAnalysis', 'impactAssessment'] as const) if (typeof s?.[key] !== 'string' || s[key].length === 0) fail(use, `compose returned no ${key}`);
      outputs.push(result.value);
    }
    if (reporter.hooks.deliver !== undefined) {
      const draft = { title: 'conformance', severity: 'high' as const, sections: { executiveSummary: 'e', rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: ['a'], shortTerm: [], longTerm: [] }, preventionMeasures: ['p'] } };
      const report: IncidentReport = {
        id: newEventId(), anomalyId: incident.anomaly.id, tenant: incident.anomaly.tenant, service: incident.anomaly.service, createdAt: Date.now(),
        composer: 'conformance', notes: [], deliveries: [], ...draft, markdown: renderReportMarkdown(draft, incident, { composer: 'conformance', createdAt: Date.now() }),
      };
      const result = await reporter.guard.call('deliver', () => reporter.hooks.deliver!(report, incident));
      if (!result.ok) fail(use, `deliver threw: ${result.error.message}`);
      outputs.push(result.value);
      // The optional resolution hook (plugin API 1.3): the same incident, resolved by the detector.
      if (reporter.hooks.resolve !== undefined) {
        const a = incident.anomaly;
        const resolvedAt = a.detectedAt + 600_000;
        const record: IncidentRecord = {
          id: a.id, tenant: a.tenant, service: a.service, severity: a.severity, status: 'resolved', openedAt: a.detectedAt, updatedAt: resolvedAt,
          resolvedAt, resolvedBy: 'detector', reportId: report.id,
        };
        const resolved = await reporter.guard.call('resolve', () => reporter.hooks.resolve!({ incident: record, report }));
        if (!resolved.ok) fail(use, `resolve threw: ${resolved.error.message}`);
        outputs.push(resolved.value);
      }
    }
  }
  await plugin.shutdown();
  await plugin.shutdown(); // idempotent
  if (plugin.guard.health.errors > 0) fail(use, `hooks failed ${plugin.guard.health.errors} time(s): ${plugin.guard.health.lastError}`);
  return { name: plugin.name, version: plugin.version, kind, outputs };
}
