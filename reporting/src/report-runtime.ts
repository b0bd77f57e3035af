import { Counter, Histogram } from 'prom-client';
import { HeliosError, backoffDelayMs, ReportDraftSchema, createRedactor, describeRedactions, type RedactionCounts, type RedactionOptions, Topics, busKey, compileValidator, isIncidentResolution, isIncidentAcknowledgement, newEventId, type Anomaly, type AnomalyTopicRecord, type Bus, type Incident, type IncidentReport, type Logger, type Registry, type ReportDelivery, type Subscription } from '@helios/core';
import type { Store } from '@helios/store';
import { renderIncidentCharts, renderReportMarkdown, type ReportDraft, type ReporterHooks, type LoadedPlugin } from '@helios/plugins';
import { createIncidentLifecycle } from './incident-lifecycle.js';

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
   * Longest wait, without progress, for the storage writer to store events up to the anomalous window's
   * end before the context is read (it consumes the same events in parallel and may lag behind detection
   * under load: embedded PGlite writes on a thread of its own). While the service's newest stored event
   * moves on, the wait goes on, up to twelve times this in all; a silent service never catches up, so it
   * ends after this long without progress. Default 5 s.
   */
  freshnessTimeoutMs?: number;
  /**
   * Failed deliveries are retried in the background with exponential backoff, each attempt's outcome
   * stored with the report. Defaults: 5 attempts in all, 1 s first wait, doubling, at most 60 s apart.
   */
  deliveryRetry?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number };
  /**
   * The redaction stage (config `redaction`): composers get the incident redacted, and the composed report
   * is redacted again before it is stored or delivered. Secrets always; personal data unless `pii: false`.
   */
  redaction?: RedactionOptions;
}

/** How far before an anomalous window the report's timeline reaches (minutes for the chart, anomalies of the run). */
const TIMELINE_BEFORE_MS = 3 * 3_600_000;

/** The reporting role's handle: stop consuming, and wait for background delivery retries. */
export interface ReportRuntime extends Subscription {
  /** Resolves when no delivery retry is scheduled or running (tests, benchmarks, the demo). */
  idle(): Promise<void>;
}

/**
 * The reporter role: anomaly -> incident opened in the store -> context from the store -> the first composer
 * that succeeds writes the report -> stored -> every deliverer gets it (paging ones not while a silence covers
 * the service), each delivery recorded with the report; an incident's resolution goes to every `resolve` hook.
 * At-least-once: saving is an upsert per anomaly, so a redelivered anomaly rewrites, not duplicates.
 */
export function startReportRuntime(options: ReportRuntimeOptions): ReportRuntime {
  const { bus, store, reporters, logger } = options;
  const now = options.now ?? Date.now;
  const composers = reporters.filter((r) => typeof r.hooks.compose === 'function');
  const deliverers = reporters.filter((r) => typeof r.hooks.deliver === 'function');
  const duration = new Histogram({
    name: 'helios_report_generation_duration_seconds', help: 'Anomaly to stored, delivered report', labelNames: ['composer'], registers: [options.metrics],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const deliveries = new Counter({ name: 'helios_report_deliveries_total', help: 'Report deliveries by reporter and outcome', labelNames: ['reporter', 'status'], registers: [options.metrics] });

  const retry = { maxAttempts: 5, initialBackoffMs: 1000, maxBackoffMs: 60_000, ...options.deliveryRetry };
  const freshnessTimeoutMs = options.freshnessTimeoutMs ?? 5000;
  // Anomalies already reported by this process: a redelivery (at-least-once bus) is acknowledged
  // without composing again (an LLM call costs money) or delivering twice. Bounded, oldest forgotten first;
  // across processes the store's upsert per anomaly still keeps one report.
  const reported = new Set<string>();
  const rememberReported = (anomalyId: string) => {
    reported.add(anomalyId);
    if (reported.size > 10_000) reported.delete(reported.values().next().value!);
  };
  let closing = false;
  const retryTimers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  async function waitForStoredWindow(anomaly: Anomaly): Promise<void> {
    const started = performance.now();
    let progressed = started;
    let newest: number | undefined;
    while (performance.now() - progressed < freshnessTimeoutMs && performance.now() - started < 12 * freshnessTimeoutMs) {
      const latest = await store.latestEventTime(anomaly.tenant, anomaly.service);
      if (latest !== undefined && latest >= anomaly.windowEnd) return;
      if (latest !== undefined && (newest === undefined || latest > newest)) {
        newest = latest;
        progressed = performance.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    logger.debug({ service: anomaly.service, windowEnd: anomaly.windowEnd }, 'store has no events after the window; reporting with what is stored');
  }

  const draftValidator = compileValidator<ReportDraft>(ReportDraftSchema);
  const redactor = createRedactor(options.redaction);
  const lifecycle = createIncidentLifecycle({ store, reporters, logger, metrics: options.metrics, now, redactor });

  async function report(anomaly: Anomaly): Promise<void> {
    if (reported.has(anomaly.id)) {
      logger.debug({ anomaly: anomaly.id }, 'anomaly redelivered; its report was already written');
      return;
    }
    const started = performance.now();
    const opened = await lifecycle.opened(anomaly);
    await waitForStoredWindow(anomaly);
    const [context, timeline] = await Promise.all([
      store.incidentContext({ tenant: anomaly.tenant, service: anomaly.service, from: anomaly.windowStart, to: anomaly.windowEnd }),
      // Enough minutes before the window for the chart's baseline band, and the anomalies of the hours
      // around it: the incident's run of windows and the other services hit at the same time.
      store.incidentTimeline({ tenant: anomaly.tenant, service: anomaly.service, from: anomaly.windowStart - TIMELINE_BEFORE_MS, anomaliesFrom: anomaly.windowStart - TIMELINE_BEFORE_MS, anomaliesTo: anomaly.windowEnd + TIMELINE_BEFORE_MS }),
    ]);
    context.timeline = timeline;
    // Nothing a plugin sees holds a secret: composers (an LLM sends this out of the process), deliverers
    // and the stored report all get the redacted incident. Routing fields (ids, tenant, service) stay as
    // stored so the report is filed under its anomaly.
    const redactions: RedactionCounts = new Map();
    const incident: Incident = redactor.value({ anomaly, context }, redactions);
    const notes: string[] = [];
    let composed: { draft: NonNullable<Awaited<ReturnType<NonNullable<ReporterHooks['compose']>>>>; by: string } | undefined;
    for (const c of composers) {
      const result = await c.guard.call('compose', () => c.hooks.compose!(incident));
      if (!result.ok) {
        notes.push(`${c.name} could not write this report (${result.error.message}).`);
        continue;
      }
      // Only a report that fits the schema is stored; a malformed one counts as a failed composer.
      if (!draftValidator.check(result.value)) {
        notes.push(`${c.name} returned a report that does not fit the report schema (${draftValidator.errors(result.value).slice(0, 3).join('; ')}).`);
        continue;
      }
      composed = { draft: result.value, by: c.name };
      break;
    }
    if (composed === undefined) throw new HeliosError('HLS_ERR_PLUGIN_FAILED', `no reporter could compose a report for anomaly ${anomaly.id}: ${redactor.text(notes.join(' '))}`);
    if (notes.length > 0) notes.push(`Fallback: this report was written by ${composed.by} instead.`);
    const createdAt = now();
    // A composer may bring text of its own (a model's answer, a plugin reading the store): the draft passes
    // the same stage. The audit line counts what the replacements removed, context and draft together.
    const draft = redactor.value({ ...composed.draft, notes: [...notes, ...(composed.draft.notes ?? [])] }, redactions);
    const notice = draft.notes.slice(0, notes.length).join(' ');
    // Rendering joins redacted parts; the Markdown passes once more so no secret can form across them.
    const markdown = redactor.text(renderReportMarkdown(draft, incident, { composer: composed.by, createdAt, ...(notice !== '' ? { notice } : {}) }), redactions);
    const charts = renderIncidentCharts(incident);
    const audit = describeRedactions(redactions);
    if (audit !== '') draft.notes.push(`Redacted before composing, storing and delivering: ${audit}.`);
    const report: IncidentReport = {
      id: newEventId(), anomalyId: anomaly.id, tenant: anomaly.tenant, service: anomaly.service, createdAt,
      title: draft.title, severity: draft.severity, composer: composed.by, notes: draft.notes, sections: draft.sections, markdown, deliveries: [],
      ...(charts.length === 0 ? {} : { charts }),
    };
    report.id = await store.saveReport(report); // a retried anomaly keeps the id of its first report
    await lifecycle.reported(anomaly.id, report.id);
    // Every deliverer's outcome, by reporter, in config order; stored after each attempt. Writes are
    // chained so a slow earlier write can never overwrite a newer status.
    const statuses = new Map<string, ReportDelivery>();
    let stored: Promise<void> = Promise.resolve();
    const storeStatuses = (): Promise<void> => {
      const snapshot = deliverers.map((d) => statuses.get(d.name)).filter((x): x is ReportDelivery => x !== undefined);
      report.deliveries = snapshot;
      stored = stored.then(() => store.setDeliveries(report.id, snapshot)).catch((err: unknown) => logger.error({ err, report: report.id }, 'could not store delivery statuses'));
      return stored;
    };
    const attempt = async (d: (typeof deliverers)[number], n: number): Promise<void> => {
      const result = await d.guard.call('deliver', () => d.hooks.deliver!(report, incident));
      let delivery: ReportDelivery;
      if (result.ok) {
        delivery = { reporter: d.name, status: 'delivered', at: now(), ...(result.value?.location !== undefined ? { location: redactor.text(result.value.location) } : {}) };
      } else {
        const wait = backoffDelayMs(n, { initialMs: retry.initialBackoffMs, maxMs: retry.maxBackoffMs });
        const more = n < retry.maxAttempts && !closing;
        // Stored and served by the API: a failed webhook's error message names its URL, a token and all.
        delivery = { reporter: d.name, status: 'failed', at: now(), error: `${redactor.text(result.error.message)} (attempt ${n} of ${retry.maxAttempts}${more ? `; retrying in ${wait} ms` : '; gave up'})` };
        if (more) {
          const timer = setTimeout(() => {
            retryTimers.delete(timer);
            track(attempt(d, n + 1));
          }, wait);
          timer.unref();
          retryTimers.add(timer);
        }
      }
      deliveries.inc({ reporter: d.name, status: delivery.status });
      statuses.set(d.name, delivery);
      await storeStatuses();
    };
    // First attempts run side by side and are awaited (each bounded by the plugin time limit); retries run
    // in the background, so a failing channel delays neither the others nor the next anomaly.
    // A paging reporter is not called while a silence covers the service; the report records that it was held back.
    const holdBack = async (d: (typeof deliverers)[number]): Promise<void> => {
      deliveries.inc({ reporter: d.name, status: 'silenced' });
      statuses.set(d.name, { reporter: d.name, status: 'silenced', at: now(), error: redactor.text(`held back by silence ${opened.incident.silencedBy}${opened.silence === undefined ? '' : ` (${opened.silence.comment || 'no comment'}, until ${new Date(opened.silence.endsAt).toISOString()})`}`) });
      await storeStatuses();
    };
    await Promise.all(deliverers.map((d) => (lifecycle.holdsBack(d, opened.incident) ? holdBack(d) : attempt(d, 1))));
    const results = report.deliveries;
    duration.observe({ composer: composed.by }, (performance.now() - started) / 1000);
    logger.info({ service: report.service, report: report.id, deliveries: results.map((d) => `${d.reporter}:${d.status}${d.location ? `:${d.location}` : ''}`) }, 'incident report written');
    await bus.publish(Topics.reports, [{ key: busKey(report), value: { ...report } }]);
    rememberReported(anomaly.id);
    options.onReport?.({ ...report });
  }

  // Anomalies open incidents; acknowledgements and resolutions (same topic and key, so after their anomaly) follow.
  const subscription = bus.subscribe<AnomalyTopicRecord>(Topics.anomalies, 'helios-report', async (records) => {
    for (const r of records) await (isIncidentResolution(r.value) ? lifecycle.resolved(r.value) : isIncidentAcknowledgement(r.value) ? lifecycle.acknowledged(r.value) : report(r.value));
  }, { maxBatch: 10 });

  async function idle(): Promise<void> {
    // A finishing attempt may schedule the next one: wait until neither timers nor attempts are left.
    while (retryTimers.size > 0 || inFlight.size > 0) {
      if (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  let closed: Promise<void> | undefined;
  return {
    idle,
    close() {
      closed ??= (async () => {
        closing = true;
        await subscription.close();
        // Retries not yet due are dropped (their last status, "failed … retrying", stays stored); attempts
        // already running finish and store their outcome.
        for (const t of retryTimers) clearTimeout(t);
        retryTimers.clear();
        await Promise.allSettled([...inFlight]);
      })();
      return closed;
    },
  };
}
