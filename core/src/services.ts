import type { ServiceDetectionStatus } from './series-status.js';

/**
 * What the services API answers (store rollups, the anomalies table, the detect runtime's series states):
 * defined here so the store, the gateway and the console (type-only) share one shape.
 */

/** One tenant's service during one minute; what detectors can train on instead of raw events. */
export interface ServiceMinute {
  /** Start of the minute, epoch ms. */
  minute: number;
  tenant: string;
  service: string;
  events: number;
  /** Events by level. */
  levels: { TRACE: number; DEBUG: number; INFO: number; WARN: number; ERROR: number; CRITICAL: number };
  /** ERROR or CRITICAL, or status code >= 500. */
  errors: number;
  latencyAvgMs: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  latencyMaxMs: number | null;
  uniqueEndpoints: number;
}

/** One minute of a service's sparkline. */
export interface ServicePoint {
  /** Start of the minute, epoch ms. */
  minute: number;
  events: number;
  errors: number;
  latencyP95Ms: number | null;
}

/** A tenant's service as the rollups and the anomalies table know it over [from, to). */
export interface ServiceOverview {
  tenant: string;
  service: string;
  /** The latest rolled-up minute's events per second (the series shows the trend). */
  eventsPerSecond: number;
  /** The latest rolled-up minute's errors / events. */
  errorRate: number;
  /** The latest rolled-up minute's p95 latency (null when it had no latencies). */
  latencyP95Ms: number | null;
  /** Start of the latest minute with a rollup. */
  lastMinute: number;
  /** Per-minute points, oldest first: only minutes with events (a missing minute had none, or is not rolled up yet). */
  series: ServicePoint[];
  /** Anomalies detected in [from, to), and the newest one's time (null when none). */
  anomalies: { count: number; lastDetectedAt: number | null };
}

/** A service as GET /api/v1/services lists it: its overview and its detection state. */
export interface ServiceSummary extends ServiceOverview {
  /** Null until a detect worker has judged the service. */
  detectorState: ServiceDetectionStatus | null;
}
