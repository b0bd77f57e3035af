import { Counter, Histogram } from 'prom-client';
import { HeliosError, Topics, newEventId, type Anomaly, type Bus, type Incident, type IncidentReport, type Logger, type Registry, type ReportDelivery, type Subscription } from '@helios/core';
import type { Store } from '@helios/store';
import type { ReporterHooks } from './define.js';
import type { LoadedPlugin } from './loader.js';
import { renderReportMarkdown } from './report-markdown.js';

export interface ReportRuntimeOptions {
  bus: Bus;
  store: Store;
  reporters: ReadonlyArray<LoadedPlugin<ReporterHooks>>;
  logger: Logger;
  metrics: Registry;
  now?: () => number;
  /** Called after a report is stored and delivered (tests, the demo). */
  onReport?: (report: IncidentReport) => void;
  /**
   * Longest wait for the storage writer to store events up to the anomalous window's end before the
   * context is read (it consumes the same events in parallel). A silent service never catches up, so
   * the wait is bounded. Default 5 s.
   */
  freshnessTimeoutMs?: number;
}

/**
 * The reporter role: anomaly -> context from the store -> the first composer that succeeds writes
 * the report -> stored -> every deliverer gets it, each delivery recorded with the report.
 * At-least-once: saving is an upsert per anomaly, so a redelivered anomaly rewrites, not duplicates.
 */
export function startReportRuntime(options: ReportRuntimeOptions): Subscription {
  const { bus, store, reporters, logger } = options;
  const now = options.now ?? Date.now;
  const composers = reporters.filter((r) => typeof r.hooks.compose === 'function');
  const deliverers = reporters.filter((r) => typeof r.hooks.deliver === 'function');
  const duration = new Histogram({
    name: 'helios_report_generation_duration_seconds', help: 'Anomaly to stored, delivered report', labelNames: ['composer'], registers: [options.metrics],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const deliveries = new Counter({ name: 'helios_report_deliveries_total', help: 'Report deliveries by reporter and outcome', labelNames: ['reporter', 'status'], registers: [options.metrics] });

  const freshnessTimeoutMs = options.freshnessTimeoutMs ?? 5000;
  async function waitForStoredWindow(anomaly: Anomaly): Promise<void> {
    const deadline = performance.now() + freshnessTimeoutMs;
    while (performance.now() < deadline) {
      const latest = await store.latestEventTime(anomaly.service);
      if (latest !== undefined && latest >= anomaly.windowEnd) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    logger.debug({ service: anomaly.service, windowEnd: anomaly.windowEnd }, 'store has no events after the window; reporting with what is stored');
  }

  async function report(anomaly: Anomaly): Promise<void> {
    const started = performance.now();
    await waitForStoredWindow(anomaly);
    const context = await store.incidentContext({ tenant: anomaly.tenant, service: anomaly.service, from: anomaly.windowStart, to: anomaly.windowEnd });
    const incident: Incident = { anomaly, context };
    const notes: string[] = [];
    let composed: { draft: NonNullable<Awaited<ReturnType<NonNullable<ReporterHooks['compose']>>>>; by: string } | undefined;
    for (const c of composers) {
      const result = await c.guard.call('compose', () => c.hooks.compose!(incident));
      if (result.ok) {
        composed = { draft: result.value, by: c.name };
        break;
      }
      notes.push(`${c.name} failed (${result.error.message}); fell back to the next composer.`);
    }
    if (composed === undefined) throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `no reporter could compose a report for anomaly ${anomaly.id}`);
    const createdAt = now();
    const draft = { ...composed.draft, notes: [...(composed.draft.notes ?? []), ...notes] };
    const report: IncidentReport = {
      id: newEventId(), anomalyId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, createdAt,
      title: draft.title, severity: draft.severity, composer: composed.by, notes: draft.notes, sections: draft.sections,
      markdown: renderReportMarkdown(draft, incident, { composer: composed.by, createdAt }), deliveries: [],
    };
    report.id = await store.saveReport(report); // a retried anomaly keeps the id of its first report
    const results: ReportDelivery[] = [];
    await Promise.all(deliverers.map(async (d) => {
      const result = await d.guard.call('deliver', () => d.hooks.deliver!(report, incident));
      const delivery: ReportDelivery = result.ok
        ? { reporter: d.name, status: 'delivered', at: now(), ...(result.value?.location !== undefined ? { location: result.value.location } : {}) }
        : { reporter: d.name, status: 'failed', error: result.error.message, at: now() };
      deliveries.inc({ reporter: d.name, status: delivery.status });
      results.push(delivery);
    }));
    report.deliveries = results;
    await store.setDeliveries(report.id, results);
    duration.observe({ composer: composed.by }, (performance.now() - started) / 1000);
    logger.info({ service: report.service, report: report.id, deliveries: results.map((d) => `${d.reporter}:${d.status}${d.location ? `:${d.location}` : ''}`) }, 'incident report written');
    await bus.publish(Topics.reports, [{ key: `${report.tenant}/${report.service}`, value: report }]);
    options.onReport?.(report);
  }

  return bus.subscribe<Anomaly>(Topics.anomalies, 'helios-report', async (records) => {
    for (const r of records) await report(r.value);
  }, { maxBatch: 10 });
}
