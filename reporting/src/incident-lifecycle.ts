import { Counter } from 'prom-client';
import { metricSeriesName, type Anomaly, type IncidentAcknowledgement, type IncidentRecord, type IncidentResolution, type Logger, type Redactor, type Registry, type Silence } from '@helios/core';
import type { Store } from '@helios/store';
import type { LoadedPlugin, ReporterHooks } from '@helios/plugins';

export interface IncidentLifecycleOptions {
  store: Store;
  reporters: ReadonlyArray<LoadedPlugin<ReporterHooks>>;
  logger: Logger;
  metrics: Registry;
  now: () => number;
  /** The report runtime's redaction stage: what reporters are told passes it, like the reports they deliver. */
  redactor: Redactor;
}

/** What the report runtime learns when an anomaly opens its incident. */
export interface OpenedIncident {
  incident: IncidentRecord;
  /** The silence in force when the incident opened: paging reporters are not called for it. */
  silence: Silence | undefined;
}

/**
 * The incident lifecycle as the report runtime keeps it: an anomaly opens an incident in the store (with
 * the silence covering its service, if any), its report is linked to it, and its resolution (from the
 * detector or the API, on the anomalies topic after the anomaly) is handed to every reporter with a
 * `resolve` hook, once: the store records that it was, so a redelivered resolution is not sent again. An
 * acknowledgement through the API goes to the reporters' `acknowledge` hook the same way.
 */
export function createIncidentLifecycle(options: IncidentLifecycleOptions) {
  const { store, logger, now, redactor } = options;
  const delivered = (what: string) => new Counter({
    name: `helios_incident_${what}_delivered_total`, help: `Incident ${what} handed to reporters, by reporter and outcome (delivered, failed, silenced)`,
    labelNames: ['reporter', 'status'], registers: [options.metrics],
  });
  const counters = { resolve: delivered('resolutions'), acknowledge: delivered('acknowledgements') };

  /** Paging reporters stay quiet for an incident opened under a silence: neither its opening nor its resolution pages. */
  const holdsBack = (reporter: LoadedPlugin<ReporterHooks>, incident: IncidentRecord): boolean => reporter.hooks.pages === true && incident.silencedBy !== undefined;

  /**
   * Hand a lifecycle change to every reporter with the hook, the incident and its report passed through the
   * redaction stage (a feedback comment, a key name or a metric label may hold a secret); outcomes as
   * `reporter:status`.
   */
  async function tell(hook: 'resolve' | 'acknowledge', incident: IncidentRecord): Promise<string[]> {
    const hooked = options.reporters.filter((r) => typeof r.hooks[hook] === 'function');
    if (hooked.length === 0) return [];
    const report = incident.reportId === undefined ? undefined : await store.getReport(incident.reportId, { tenant: incident.tenant });
    const notice = redactor.value({ incident, ...(report === undefined ? {} : { report }) });
    return Promise.all(hooked.map(async (r) => {
      if (holdsBack(r, incident)) {
        counters[hook].inc({ reporter: r.name, status: 'silenced' });
        return `${r.name}:silenced`;
      }
      const result = await r.guard.call(hook, () => r.hooks[hook]!(notice));
      counters[hook].inc({ reporter: r.name, status: result.ok ? 'delivered' : 'failed' });
      if (!result.ok) logger.error({ err: result.error, reporter: r.name, incident: incident.id }, `could not deliver an incident ${hook === 'resolve' ? 'resolution' : 'acknowledgement'}`);
      return `${r.name}:${result.ok ? 'delivered' : 'failed'}`;
    }));
  }

  async function resolved(resolution: IncidentResolution): Promise<void> {
    const incident = await store.resolveIncident(resolution.incidentId, { by: resolution.by, at: resolution.resolvedAt, tenant: resolution.tenant });
    if (incident === undefined) {
      logger.warn({ incident: resolution.incidentId, tenant: resolution.tenant }, 'resolution of an incident the store does not hold; nothing to deliver');
      return;
    }
    if (incident.resolutionDeliveredAt !== undefined) return; // redelivered: already handed to the reporters
    const outcomes = await tell('resolve', incident);
    await store.markResolutionDelivered(incident.id, now());
    logger.info({ tenant: incident.tenant, service: incident.service, incident: incident.id, by: incident.resolvedBy, deliveries: outcomes }, 'incident resolved');
  }

  /**
   * The API stored the acknowledgement before publishing it; reporters hear of it while the incident is
   * still acknowledged (a resolution that came first wins: it was delivered already, an ack after it would
   * reopen nothing). Not recorded as delivered: a redelivered record acknowledges again, which PagerDuty and
   * an Alertmanager silence take as the same thing.
   */
  async function acknowledged(ack: IncidentAcknowledgement): Promise<void> {
    const incident = await store.getIncident(ack.incidentId, { tenant: ack.tenant });
    if (incident === undefined || incident.status !== 'acknowledged') {
      logger.info({ incident: ack.incidentId, tenant: ack.tenant, status: incident?.status }, 'acknowledgement of an incident not acknowledged (any more); nothing to deliver');
      return;
    }
    const outcomes = await tell('acknowledge', incident);
    logger.info({ tenant: incident.tenant, service: incident.service, incident: incident.id, by: incident.acknowledgedBy, deliveries: outcomes }, 'incident acknowledged');
  }

  /**
   * The tracker keeps one open incident per series, and a resolution reaches this runtime before the next
   * opening of its series (same key): an incident of the series still unresolved when a new one opens was
   * orphaned (the detect process lost its state, e.g. it restarted). It is resolved as `superseded`, so the
   * pages it raised are closed rather than left open for ever.
   */
  async function resolveSuperseded(anomaly: Anomaly): Promise<void> {
    const series = anomaly.metric === undefined ? undefined : metricSeriesName(anomaly.metric);
    for (const orphan of await store.unresolvedIncidents({ tenant: anomaly.tenant, service: anomaly.service, series })) {
      if (orphan.id === anomaly.id || orphan.openedAt > anomaly.detectedAt) continue;
      await resolved({ kind: 'incident-resolved', incidentId: orphan.id, tenant: orphan.tenant, service: orphan.service, resolvedAt: now(), by: 'superseded' });
    }
  }

  return {
    holdsBack,
    resolved,
    acknowledged,

    async opened(anomaly: Anomaly): Promise<OpenedIncident> {
      await resolveSuperseded(anomaly);
      const silence = await store.activeSilence(anomaly.tenant, anomaly.service, anomaly.detectedAt);
      const incident = await store.openIncident(anomaly, { ...(silence === undefined ? {} : { silencedBy: silence.id }), at: now() });
      // A redelivered anomaly keeps the decision made when it first opened (the stored silencedBy), whatever
      // silences say now; the silence itself is looked up only to quote it (it may have been deleted since).
      let kept: Silence | undefined;
      if (incident.silencedBy !== undefined) {
        kept = silence?.id === incident.silencedBy ? silence : (await store.listSilences({ tenant: anomaly.tenant, service: anomaly.service })).find((s) => s.id === incident.silencedBy);
      }
      if (incident.silencedBy !== undefined) logger.info({ tenant: anomaly.tenant, service: anomaly.service, incident: incident.id, silence: incident.silencedBy }, 'incident opened under a silence: paging reporters hold back');
      return { incident, silence: kept };
    },

    reported: (incidentId: string, reportId: string): Promise<void> => store.setIncidentReport(incidentId, reportId),
  };
}

export type IncidentLifecycle = ReturnType<typeof createIncidentLifecycle>;
