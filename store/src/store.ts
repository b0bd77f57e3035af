import type { DetectorStateStore } from './detector-state.js';
import type { MaintenanceResult } from './maintenance.js';
import type { EventSearchPage, EventSearchQuery, EventTailQuery, StoredEvent } from './event-search.js';
import type { ServiceOverview } from './service-overview.js';
import type { SeriesStatusQuery } from './series-status.js';
import type { Anomaly, ServiceDetectionStatus, ServiceMinute, HeliosEvent, IncidentContext, IncidentReport, IncidentTimeline, ReportDelivery, StoredAnomaly, WindowTotals } from '@helios/core';
import type { IncidentReader, IncidentWriter } from './incident-store.js';
import type { Page } from './page.js';

export type { Page } from './page.js';

export interface ListOptions {
  limit?: number;
  /** Opaque cursor from a previous page. */
  before?: string;
  service?: string;
  /**
   * Only this tenant's rows. Undefined reads every tenant: for operators (and the read API with auth off);
   * anything serving one tenant passes it.
   */
  tenant?: string;
}

export interface ContextQuery {
  /** Every list and total is of this tenant's events only; another tenant's service of the same name never shows. */
  tenant: string;
  service: string;
  from: number;
  to: number;
  /**
   * What the window is compared with: `preceding` (default), the `baselineWindows` windows of the same
   * length just before `from`; `previous-days`, the same time of day on each of the `baselineWindows`
   * previous days (daily seasonality). Baseline totals are summed over those windows.
   */
  baseline?: 'preceding' | 'previous-days';
  /** How many windows make the baseline (default 3, at most 30). */
  baselineWindows?: number;
  /** Most rows in each list. */
  limit?: number;
}

export interface RollupQuery {
  /** Rollups are per (tenant, service): another tenant's service of the same name is a different series. */
  tenant: string;
  service: string;
  from: number;
  to: number;
}

export type { ServiceMinute } from '@helios/core';

/** Read access, as plugins see it through their context. */
export interface StoreReader extends IncidentReader {
  incidentContext(query: ContextQuery): Promise<IncidentContext>;
  /** Each with its incident's id, status and resolution time, and its report's id (once they exist). */
  listAnomalies(options?: ListOptions): Promise<Page<StoredAnomaly>>;
  listReports(options?: ListOptions): Promise<Page<IncidentReport>>;
  /** Undefined when there is no such report, or when `tenant` is given and the report is another tenant's. */
  getReport(id: string, options?: { tenant?: string }): Promise<IncidentReport | undefined>;
  countEvents(filter?: { service?: string; tenant?: string }): Promise<number>;
  /** Newest stored event time of a tenant's service (epoch ms), undefined when it has none; uses the (service, ts) index. */
  latestEventTime(tenant: string, service: string): Promise<number | undefined>;
  /** One tenant's service's per-minute rollups in [from, to), oldest first, at most 10,080 minutes (a week). Up to date as of the last maintenance run. */
  rollups(query: RollupQuery): Promise<ServiceMinute[]>;
  /** Events matching a filter in a bounded time range, newest first, keyset-paged (event-search.ts). */
  searchEvents(query: EventSearchQuery): Promise<EventSearchPage>;
  /** Events after a cursor, oldest first: what a live tail sends next. */
  eventsAfter(query: EventTailQuery): Promise<StoredEvent[]>;
  /** A trace's events oldest first, at most `limit`; only `tenant`'s when given. */
  traceEvents(query: { traceId: string; tenant?: string; limit: number }): Promise<{ items: HeliosEvent[]; truncated: boolean }>;
  /** Services with rollups in [from, to), with their per-minute series and recent anomalies (service-overview.ts). */
  serviceOverview(query: { tenant?: string; from: number; to: number }): Promise<ServiceOverview[]>;
  /** Each service's detection state as the detect worker owning it last saved it (series-status.ts). */
  detectorSeriesStates(query: SeriesStatusQuery): Promise<ServiceDetectionStatus[]>;
  /** The incident around an anomalous window: the service's minutes and the tenant's anomalous windows nearby (incident-timeline.ts). */
  incidentTimeline(query: TimelineQuery): Promise<IncidentTimeline>;
}

export interface TimelineQuery {
  /** Every row is of this tenant only. */
  tenant: string;
  service: string;
  /** The service's minutes from here (epoch ms) to its newest stored event, at most `maxMinutes`. */
  from: number;
  /** The tenant's anomalous windows overlapping [anomaliesFrom, anomaliesTo). */
  anomaliesFrom: number;
  anomaliesTo: number;
  /** Most minutes (default 360, at most 1,440); the newest are kept. */
  maxMinutes?: number;
}

/** Which events `scanEvents` reads: [from, to) of event time, optionally one service or tenant. */
export interface EventScan {
  from: number;
  to: number;
  service?: string;
  tenant?: string;
  /** Events per page (default 5,000, at most 50,000). */
  pageSize?: number;
}

/** An event the store refused, isolated from its batch by the writer (event-writer.ts). */
export interface DeadLetter {
  event: HeliosEvent;
  /** Why, as a bounded label: the SQLSTATE (`22P05`) or the error class (`RangeError`). */
  reason: string;
  /** The error's message. */
  error: string;
}

export interface Store extends StoreReader, IncidentWriter, DetectorStateStore {
  readonly dialect: 'pglite' | 'postgres';
  /**
   * Stored events oldest first (by time, then id), in pages: what `helios train` replays through the
   * window aggregator, so trained models see exactly the windows the running detector sees. Keyset paging
   * on (ts, id) keeps memory bounded however long the span.
   */
  scanEvents(scan: EventScan): AsyncIterable<HeliosEvent[]>;
  migrate(): Promise<number[]>;
  /** Idempotent by (tenant, event id): redelivered events are stored once; two tenants' same id are two events. Returns how many were new. */
  insertEvents(events: readonly HeliosEvent[]): Promise<number>;
  /**
   * Keep refused events in helios_dead_letters (the event as JSON text, which any event can be written as),
   * with the reason, for an operator to inspect and replay.
   */
  insertDeadLetters(letters: readonly DeadLetter[]): Promise<number>;
  /** Dead letters kept, optionally of one tenant. */
  countDeadLetters(filter?: { tenant?: string }): Promise<number>;
  /** Idempotent by anomaly id. */
  insertAnomalies(anomalies: readonly Anomaly[]): Promise<number>;
  /** Insert, or replace the report written for the same anomaly (a retried report). Returns the stored report's id. */
  saveReport(report: IncidentReport): Promise<string>;
  setDeliveries(reportId: string, deliveries: readonly ReportDelivery[]): Promise<void>;
  /** Create partitions ahead, drop expired ones, bring the rollups up to date; safe from several processes. */
  maintain(options?: { now?: number }): Promise<MaintenanceResult>;
  close(): Promise<void>;
}

export type { WindowTotals };
