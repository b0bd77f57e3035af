import type { EventsBodyKind } from './event/parse-body.js';
import type { HeliosEvent } from './event/schema.js';

/**
 * The event bus between the gateway and everything behind it. Two implementations share this
 * interface: the in-process bus (embedded default) and Kafka. Guarantees every implementation keeps:
 * - `publish` resolves only once the bus has taken the records under its durability guarantee
 *   (in memory for the in-process bus; acknowledged by the brokers for Kafka). A 2xx depends on it.
 * - records with the same key are delivered in publish order;
 * - every consumer group sees every record at least once; a handler's batch counts as consumed only
 *   when its promise resolves, so handlers must be idempotent (events carry ids for that).
 */
export interface BusRecord<T> {
  /** Partitioning key; Helios uses `tenant/service` so one service's events stay in order. */
  key: string;
  value: T;
}

/** The partitioning key of a tenant's service: its events, anomalies and reports stay in order. */
export function busKey(of: { tenant: string; service: string }): string {
  return `${of.tenant}/${of.service}`;
}

/**
 * The events of one Helios JSON request together with the bytes they were read from. A bus that serializes
 * records (Kafka) may send those bytes as they came instead of writing every event again on the gateway's
 * thread; its consumers then read them with the same parse and normalization (same ids, same defaults).
 */
export interface EventRequestBatch {
  /** The request's events, normalized, in body order: what a bus without `publishEvents` publishes. */
  events: readonly HeliosEvent[];
  /** The identity-decoded body (owned by the batch: not a view of memory the transport reuses). */
  body: Buffer;
  kind: EventsBodyKind;
  tenant: string;
  /** The `now` the events were normalized with: the default timestamp. */
  receivedAt: number;
  /** The `idBase` they were normalized with (their ids derive from it: EventIdSequence). */
  idBase: string;
}

/** The records a bus without `publishEvents` gets for a request's events. */
export function eventRecords(events: readonly HeliosEvent[]): BusRecord<HeliosEvent>[] {
  const records: BusRecord<HeliosEvent>[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) records[i] = { key: busKey(events[i]!), value: events[i]! };
  return records;
}

export type BusHandler<T> = (records: readonly BusRecord<T>[]) => Promise<void>;

export interface SubscribeOptions {
  /** Most records handed to one handler call. */
  maxBatch?: number;
  /**
   * Partitions whose batches may be handled at the same time (Kafka; default 1). Only for handlers
   * that are safe to call concurrently: records of one key still arrive in order, one call at a time.
   */
  partitionsConcurrently?: number;
}

export interface Subscription {
  /** Stop consuming after the batch in flight; safe to call twice. */
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: string;
  publish<T>(topic: string, records: readonly BusRecord<T>[]): Promise<void>;
  /**
   * Optional, only for buses that take records synchronously (the in-process bus): `publish` without the
   * promise. Returning means the records are taken exactly as when `publish` resolves (same guarantee,
   * same ordering against other publishes); throwing means nothing was taken, with the error `publish`
   * would reject with. Lets the gateway answer within the HTTP callback. Buses that wrap another bus
   * must not forward it unless their own `publish` adds nothing (otherwise leave it undefined); the
   * in-process bus defines it non-enumerable so that `{ ...bus, publish }` wrappers do not inherit it.
   */
  publishSync?<T>(topic: string, records: readonly BusRecord<T>[]): void;
  /**
   * Optional: publish a request's events with the request's bytes (`EventRequestBatch`); same guarantees and
   * per-key order as `publish(topic, eventRecords(batch.events))`, and consumers receive the same events.
   */
  publishEvents?(topic: string, batch: EventRequestBatch): Promise<void>;
  /**
   * Optional, for buses that take a request's bytes synchronously (the gateway thread's bridge to the
   * pipeline thread): `publishEvents` without the promise, with `publishSync`'s contract. `batch.body` may
   * be borrowed from the transport: the bus reads (copies) it before returning.
   */
  publishEventsSync?(topic: string, batch: EventRequestBatch): void;
  subscribe<T>(topic: string, group: string, handler: BusHandler<T>, options?: SubscribeOptions): Subscription;
  /** False while the bus cannot take records (gateway answers 503 on /readyz). */
  isReady(): boolean;
  /** While not ready, why (shown in /readyz's body): e.g. the spool or a topic is full, the brokers are unreachable. */
  notReadyReason?(): string | undefined;
  /** Wait until every group consumed everything published so far (or the timeout passed). */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Refuse new publishes, drain, stop consumers. Idempotent. */
  close(timeoutMs?: number): Promise<void>;
}

export const Topics = {
  events: 'helios.events',
  /** Incident openings (`Anomaly`), acknowledgements and resolutions (`IncidentAcknowledgement`, `IncidentResolution`, after their anomaly, same key): `isAnomalyRecord`, `isIncidentAcknowledgement` and `isIncidentResolution` tell them apart. */
  anomalies: 'helios.anomalies',
  reports: 'helios.reports',
  /** Control records (`TelemetryGapRecord`): spans in which a gateway lost telemetry, for every detect worker. */
  telemetryGaps: 'helios.telemetry-gaps',
} as const;

/**
 * A span of event time in which telemetry was lost (the gateway refused events for capacity), published on
 * `Topics.telemetryGaps` so that detect workers in other processes do not judge the windows it touches.
 */
export interface TelemetryGapRecord {
  /** Event time, epoch ms: [from, to). */
  from: number;
  to: number;
  /** Only this tenant lost telemetry; absent: any tenant may have. */
  tenant?: string;
  /** Refusals in the span by error code (e.g. HLS_ERR_BUS_FULL: 12). */
  refusals: Record<string, number>;
  /** Who lost it, e.g. `gateway`. */
  source: string;
}
