import { type AttributeValue, type HeliosEvent, type MetricFeatures, type MetricFreshPoints, type MetricSeries, type MetricWindow } from '@helios/core';

/**
 * Sliding windows of metric series: one series per tenant + service + metric name + point attributes, in
 * event time, on the same window/hop grid and watermark as the request series (detection/src/windows.ts,
 * which owns this and routes events of kind `metric` here). Metric points never count as requests.
 */

/** A closed metric window; `incomplete` as for request windows (it overlaps lost telemetry). */
export interface ClosedMetricWindow extends MetricWindow {
  incomplete?: true;
}

/** Attributes the gateway derives for every data point (gateway/src/otlp/translate.ts); not part of a series' identity. */
const DERIVED_PREFIX = 'metric.';
const SCOPE_ATTRIBUTE = 'otel.scope.name';

/** One hop of one metric series. */
class MetricBucket {
  points = 0;
  valued = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  last = 0;
  lastAt = -Infinity;
}

class MetricSeriesState {
  readonly buckets = new Map<number, MetricBucket>();
  nextEnd: number;
  lastEventAt: number;
  /**
   * Previous point of a cumulative series per producing instance (the reference its next point's increase is
   * taken against): replicas of a service export the same metric and attributes, each with its own counter.
   */
  readonly cumulative = new Map<string, { at: number; sum: number; count: number }>();
  /** Value features of the previous window, carried into a window without values. */
  previous: MetricFeatures | undefined;
  /** Newest point time, and the most recent gaps between points (a ring), for the series' cadence. */
  lastPointAt = -Infinity;
  readonly intervals: number[] = [];
  intervalsSeen = 0;
  /**
   * The series' sampling interval: the median of its last `CADENCE_INTERVALS` gaps between distinct point
   * times (replicas sending the same instant count once). Robust to a missed point or a burst of retries.
   */
  get cadenceMs(): number | undefined {
    if (this.intervals.length === 0) return undefined;
    const sorted = [...this.intervals].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }
  notePoint(at: number): void {
    if (at <= this.lastPointAt) return;
    if (this.lastPointAt > -Infinity) {
      this.intervals[this.intervalsSeen++ % CADENCE_INTERVALS] = at - this.lastPointAt;
    }
    this.lastPointAt = at;
  }
  constructor(readonly tenant: string, readonly service: string, readonly metric: MetricSeries, firstBucketStart: number, windowMs: number, at: number) {
    this.nextEnd = firstBucketStart + windowMs;
    this.lastEventAt = at;
  }
}

/** The series a metric event belongs to: its name and identifying attributes (sorted, as text). */
export function metricSeriesOf(event: HeliosEvent): MetricSeries {
  const named = event.attributes[`${DERIVED_PREFIX}name`];
  const name = typeof named === 'string' && named !== '' ? named : event.message;
  const keys = Object.keys(event.attributes).filter((k) => !k.startsWith(DERIVED_PREFIX) && k !== SCOPE_ATTRIBUTE && event.attributes[k] !== null).sort();
  const attributes: Record<string, string> = {};
  for (const k of keys) attributes[k] = String(event.attributes[k]);
  return { name, attributes };
}

const num = (v: AttributeValue | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Gaps between points a series' cadence is the median of. */
const CADENCE_INTERVALS = 15;

/** Cumulative references kept per series; the oldest instance's is dropped past this (replicas come and go). */
const MAX_INSTANCES_PER_SERIES = 1000;

/** Which replica produced a point: OpenTelemetry's service.instance.id, else the pod or host name. */
function instanceOf(event: HeliosEvent): string {
  const r = event.resource;
  const id = r['service.instance.id'] ?? r['k8s.pod.name'] ?? r['host.name'] ?? '';
  return typeof id === 'string' ? id : String(id);
}

/** The cumulative reference of the point's instance, replaced by the point; undefined for an instance's first point. */
function swapReference(state: MetricSeriesState, event: HeliosEvent, sum: number, count: number): { at: number; sum: number; count: number } | null | undefined {
  const instance = instanceOf(event);
  const ref = state.cumulative.get(instance);
  if (ref !== undefined && event.timestamp < ref.at) return null; // older than the reference: no value
  state.cumulative.delete(instance); // re-inserted last: the Map's order is the instances' recency
  state.cumulative.set(instance, { at: event.timestamp, sum, count });
  if (state.cumulative.size > MAX_INSTANCES_PER_SERIES) state.cumulative.delete(state.cumulative.keys().next().value!);
  return ref;
}

/**
 * The value one data point contributes to its series (null: none), see `MetricFeatures` in core: gauges,
 * delta sums and non-monotonic sums their value; monotonic cumulative sums the increase since the previous
 * point (after a reset, the value itself); histograms and summaries their mean observation, of the interval
 * since the previous point when cumulative. A cumulative series' first point is its reference (histograms:
 * the mean since the start). References are kept per producing instance (`instanceOf`). A point older than
 * its reference has no value and leaves the reference.
 */
function pointValue(event: HeliosEvent, state: MetricSeriesState): number | null {
  const a = event.attributes;
  const type = a['metric.type'];
  const cumulative = a['metric.temporality'] === 'cumulative';
  if (type === 'histogram' || type === 'exponential_histogram' || type === 'summary') {
    const sum = num(a['metric.sum']);
    const count = num(a['metric.count']);
    if (sum === null || count === null) return null;
    if (!cumulative && type !== 'summary') return count > 0 ? sum / count : null;
    const ref = swapReference(state, event, sum, count);
    if (ref === null) return null;
    if (ref === undefined || count < ref.count) return count > 0 ? sum / count : null;
    return count > ref.count ? (sum - ref.sum) / (count - ref.count) : null;
  }
  const value = num(a['metric.value']);
  if (value === null || !(type === 'sum' && cumulative && a['metric.monotonic'] === true)) return value;
  const ref = swapReference(state, event, value, 0);
  if (ref === null || ref === undefined) return null;
  return value >= ref.sum ? value - ref.sum : value;
}

export interface MetricWindowOptions {
  windowMs: number;
  hopMs: number;
  seriesTtlMs: number;
  /** Most metric series per tenant+service; points of further series are counted in `overflowPoints`. */
  maxSeriesPerService: number;
}

/** The metric half of the `WindowAggregator`. */
export class MetricWindows {
  private readonly series = new Map<string, MetricSeriesState>();
  /** Metric series per tenant+service, for the cardinality bound. */
  private readonly perService = new Map<string, number>();
  /** Data points not windowed because their service already had `maxSeriesPerService` series. */
  overflowPoints = 0;
  lateEvents = 0;

  constructor(private readonly options: MetricWindowOptions) {}

  get seriesCount(): number {
    return this.series.size;
  }

  add(event: HeliosEvent): void {
    const { hopMs, windowMs } = this.options;
    const metric = metricSeriesOf(event);
    const serviceKey = `${event.tenant}\u0000${event.service}`;
    const key = `${serviceKey}\u0000${metric.name}\u0000${JSON.stringify(metric.attributes)}`;
    const bucketStart = Math.floor(event.timestamp / hopMs) * hopMs;
    let state = this.series.get(key);
    if (state === undefined) {
      const count = this.perService.get(serviceKey) ?? 0;
      if (count >= this.options.maxSeriesPerService) {
        this.overflowPoints++;
        return;
      }
      this.perService.set(serviceKey, count + 1);
      state = new MetricSeriesState(event.tenant, event.service, metric, bucketStart, windowMs, event.timestamp);
      this.series.set(key, state);
    } else if (bucketStart < state.nextEnd - windowMs) {
      this.lateEvents++;
      return;
    }
    if (event.timestamp > state.lastEventAt) state.lastEventAt = event.timestamp;
    state.notePoint(event.timestamp);
    let bucket = state.buckets.get(bucketStart);
    if (bucket === undefined) state.buckets.set(bucketStart, (bucket = new MetricBucket()));
    bucket.points++;
    const value = pointValue(event, state);
    if (value === null) return;
    bucket.valued++;
    bucket.sum += value;
    if (value < bucket.min) bucket.min = value;
    if (value > bucket.max) bucket.max = value;
    if (event.timestamp >= bucket.lastAt) {
      bucket.last = value;
      bucket.lastAt = event.timestamp;
    }
  }

  /**
   * Close every metric window ending at or before `time` into `out`; `incomplete(tenant, start, end)` says
   * whether lost telemetry overlaps it. Series silent for `seriesTtlMs` are forgotten (freeing their slot).
   */
  closeUpTo(time: number, incomplete: (tenant: string, start: number, end: number) => boolean, out: ClosedMetricWindow[] | undefined): void {
    const { hopMs, windowMs } = this.options;
    for (const [key, state] of this.series) {
      if (state.lastEventAt < time - this.options.seriesTtlMs) {
        this.series.delete(key);
        const serviceKey = `${state.tenant}\u0000${state.service}`;
        const left = (this.perService.get(serviceKey) ?? 1) - 1;
        if (left > 0) this.perService.set(serviceKey, left);
        else this.perService.delete(serviceKey);
        continue;
      }
      while (state.nextEnd <= time) {
        const window = windowOf(state, state.nextEnd - windowMs, state.nextEnd, hopMs);
        if (incomplete(state.tenant, window.start, window.end)) window.incomplete = true;
        out?.push(window);
        state.nextEnd += hopMs;
        for (const start of state.buckets.keys()) if (start < state.nextEnd - windowMs) state.buckets.delete(start);
      }
    }
  }

  /**
   * The shortest cadence among series that have one (Infinity without): the longest silence of every
   * metric series at once that is still ordinary. A gap rule must not call one point every 5 minutes lost
   * telemetry when nothing else sends (windows.ts).
   */
  shortestCadenceMs(): number {
    let shortest = Infinity;
    for (const state of this.series.values()) {
      const cadence = state.cadenceMs;
      if (cadence !== undefined && cadence < shortest) shortest = cadence;
    }
    return shortest;
  }

  /** Start of the oldest window not closed yet (Infinity without series). */
  oldestOpenStart(): number {
    let oldest = Infinity;
    for (const state of this.series.values()) oldest = Math.min(oldest, state.nextEnd - this.options.windowMs);
    return oldest;
  }
}

function windowOf(state: MetricSeriesState, start: number, end: number, hopMs: number): ClosedMetricWindow {
  let points = 0, valued = 0, sum = 0, min = Infinity, max = -Infinity, last = 0, lastAt = -Infinity;
  for (let b = start; b < end; b += hopMs) {
    const bucket = state.buckets.get(b);
    if (bucket === undefined) continue;
    points += bucket.points;
    if (bucket.valued === 0) continue;
    valued += bucket.valued;
    sum += bucket.sum;
    min = Math.min(min, bucket.min);
    max = Math.max(max, bucket.max);
    if (bucket.lastAt >= lastAt) {
      last = bucket.last;
      lastAt = bucket.lastAt;
    }
  }
  const previous = state.previous;
  let features: MetricFeatures;
  if (valued > 0) {
    const mean = sum / valued;
    features = { points, mean, min, max, last, change: previous === undefined ? 0 : mean - previous.mean };
  } else {
    features = previous === undefined ? { points, mean: 0, min: 0, max: 0, last: 0, change: 0 } : { ...previous, points, change: 0 };
  }
  if (valued > 0) state.previous = features;
  const window: ClosedMetricWindow = { tenant: state.tenant, service: state.service, metric: state.metric, start, end, features };
  const newest = state.buckets.get(end - hopMs);
  window.fresh = newest !== undefined && newest.valued > 0 ? freshOf(newest) : { points: 0, mean: 0, min: 0, max: 0, lastAt: 0 };
  const cadence = state.cadenceMs;
  if (cadence !== undefined) window.cadenceMs = cadence;
  return window;
}

function freshOf(bucket: MetricBucket): MetricFreshPoints {
  return { points: bucket.valued, mean: bucket.sum / bucket.valued, min: bucket.min, max: bucket.max, lastAt: bucket.lastAt };
}
