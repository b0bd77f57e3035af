import { ERROR_LEVELS, type FeatureStream, type FeatureWindow, type Features, type HeliosEvent } from '@helios/core';
import { streamOf, StreamCardinality } from './event-streams.js';
import { quantileOfSorted } from '@helios/plugins/stats';
import { MetricWindows, type ClosedMetricWindow } from './metric-windows.js';

export interface WindowOptions {
  windowMs: number;
  hopMs: number;
  allowedLatenessMs: number;
  /** A series silent this long stops producing (empty) windows. */
  seriesTtlMs?: number;
  /** Latency samples kept per hop bucket for percentiles (reservoir); sums stay exact. */
  samplesPerBucket?: number;
  /**
   * A jump of the watermark (newest event time) by more than this marks the skipped span as a telemetry
   * gap: nothing arrived from any series, which is far likelier a pipeline outage than every service
   * going silent at once. 0 or undefined: only explicit `markGap` calls record gaps.
   */
  gapAfterMs?: number;
  /**
   * Most metric series (metric name + point attributes) per tenant+service (default 200); points of further
   * series are counted in `metricOverflowPoints`, not windowed. 0: metric points are not windowed.
   */
  maxMetricSeries?: number;
  /**
   * Most dependency series (peers) per tenant+service (default 50); calls to further peers are counted in
   * `dependencyOverflowCalls`, not windowed.
   */
  maxDependencySeries?: number;
}

/** A closed window; `incomplete` when it overlaps a span in which telemetry was lost (see `markGap`). */
export interface ClosedWindow extends FeatureWindow {
  incomplete?: true;
}

/** A span [from, to) of event time in which telemetry was lost, for one tenant or (tenant undefined) all. */
export interface TelemetryGap {
  from: number;
  to: number;
  tenant?: string;
}

/** Stats of one hop-long slice of one series. Windows are unions of `windowMs / hopMs` buckets. */
class Bucket {
  count = 0;
  errors = 0;
  latencyCount = 0;
  latencySum = 0;
  /** Sum of sample_rate over events with a latency: the divisor of the weighted mean. */
  latencyWeight = 0;
  samples: number[] = [];
  /** sample_rate of each kept sample (the reservoir is uniform over events; weights make it one over requests). */
  sampleWeights: number[] = [];
  endpoints = new Set<string>();
}

class Series {
  readonly buckets = new Map<number, Bucket>();
  /** End of the next window to emit (aligned to hop). */
  nextEnd: number;
  lastEventAt: number;
  constructor(readonly tenant: string, readonly service: string, readonly stream: FeatureStream | undefined, firstBucketStart: number, windowMs: number, at: number) {
    // The first window is a full one: a partial first window would look like a traffic drop.
    this.nextEnd = firstBucketStart + windowMs;
    this.lastEventAt = at;
  }
}

const MAX_ENDPOINTS_PER_BUCKET = 10_000;

/**
 * Sliding windows per tenant+service in event time: the service's requests, and apart from them its calls
 * to each dependency and its log records (./event-streams.ts says which event goes where). A window [end - windowMs, end) closes once the
 * watermark (the newest event time seen, capped near wall-clock time) passes end + allowed lateness;
 * every known series then yields a window, empty or not, so a service going silent is seen.
 */
export class WindowAggregator {
  private readonly series = new Map<string, Series>();
  private readonly samplesPerBucket: number;
  private readonly seriesTtlMs: number;
  private gaps: TelemetryGap[] = [];
  /** Series of metric data points (events of kind `metric`), apart from the request series. */
  private readonly metrics: MetricWindows;
  private readonly dependencies: StreamCardinality;
  watermark = 0;
  lateEvents = 0;

  constructor(private readonly options: WindowOptions) {
    if (options.windowMs % options.hopMs !== 0) throw new RangeError(`detection.windowMs (${options.windowMs}) must be a multiple of detection.hopMs (${options.hopMs})`);
    this.samplesPerBucket = options.samplesPerBucket ?? 2048;
    this.seriesTtlMs = options.seriesTtlMs ?? 60 * 60_000;
    this.metrics = new MetricWindows({ windowMs: options.windowMs, hopMs: options.hopMs, seriesTtlMs: this.seriesTtlMs, maxSeriesPerService: options.maxMetricSeries ?? 200 });
    this.dependencies = new StreamCardinality(options.maxDependencySeries ?? 50);
  }

  /** Calls not windowed because their tenant+service had `maxDependencySeries` dependency series already. */
  get dependencyOverflowCalls(): number {
    return this.dependencies.overflow;
  }

  get metricSeriesCount(): number {
    return this.metrics.seriesCount;
  }

  /** Metric data points not windowed because their tenant+service had `maxMetricSeries` series already. */
  get metricOverflowPoints(): number {
    return this.metrics.overflowPoints;
  }

  get seriesCount(): number {
    return this.series.size;
  }

  /**
   * Add one event; `now` caps how far a clock-skewed client can push the watermark. A metric data point
   * (kind `metric`) goes to its metric series only, a dependency call to its dependency series, a log record to
   * the log series, an internal span nowhere: only requests are requests of their service.
   */
  add(event: HeliosEvent, now: number): void {
    const routed = streamOf(event);
    if (routed === 'metric' || routed === 'internal') {
      if (routed === 'metric') this.metrics.add(event);
      this.advanceWatermark(event.timestamp, now);
      return;
    }
    const { hopMs, windowMs } = this.options;
    const stream = routed.stream;
    const key = routed.key;
    const bucketStart = Math.floor(event.timestamp / hopMs) * hopMs;
    let series = this.series.get(key);
    if (series === undefined) {
      if (stream?.kind === 'dependency' && !this.dependencies.admit(event.tenant, event.service)) {
        this.advanceWatermark(event.timestamp, now);
        return;
      }
      series = new Series(event.tenant, event.service, stream, bucketStart, windowMs, event.timestamp);
      this.series.set(key, series);
    } else if (bucketStart < series.nextEnd - windowMs) {
      this.lateEvents++; // every window containing it has been emitted already
      return;
    }
    if (event.timestamp > series.lastEventAt) series.lastEventAt = event.timestamp;
    let bucket = series.buckets.get(bucketStart);
    if (bucket === undefined) series.buckets.set(bucketStart, (bucket = new Bucket()));
    // A sampled event stands for sample_rate events (core/src/event/schema.ts), so counts stay exact;
    // `?? 1` for events queued before the field existed.
    const weight = event.sample_rate ?? 1;
    bucket.count += weight;
    if (ERROR_LEVELS.has(event.level) || (event.status_code !== null && event.status_code >= 500)) bucket.errors += weight;
    const latency = event.latency_ms;
    if (latency !== null) {
      bucket.latencyCount++;
      bucket.latencySum += latency * weight;
      bucket.latencyWeight += weight;
      if (bucket.samples.length < this.samplesPerBucket) {
        bucket.samples.push(latency);
        bucket.sampleWeights.push(weight);
      } else {
        // Reservoir sampling keeps a uniform sample of the bucket's latencies in bounded memory.
        const j = Math.floor(Math.random() * bucket.latencyCount);
        if (j < this.samplesPerBucket) {
          bucket.samples[j] = latency;
          bucket.sampleWeights[j] = weight;
        }
      }
    }
    if (event.endpoint !== null && bucket.endpoints.size < MAX_ENDPOINTS_PER_BUCKET) bucket.endpoints.add(event.endpoint);
    this.advanceWatermark(event.timestamp, now);
  }

  private advanceWatermark(timestamp: number, now: number): void {
    const capped = Math.min(timestamp, now + 60_000);
    if (capped > this.watermark) {
      // Only request series trusted to be continuous; with metric series alone, silence is a gap only past
      // twice the cadence of the most frequent one (one point every 5 minutes is not lost telemetry).
      const rule = this.options.gapAfterMs ?? 0;
      const gapAfterMs = rule > 0 && this.series.size === 0 ? Math.max(rule, 2 * this.metrics.shortestCadenceMs()) : rule;
      if (gapAfterMs > 0 && gapAfterMs < Infinity && this.watermark > 0 && capped - this.watermark > gapAfterMs) this.markGap({ from: this.watermark, to: capped });
      this.watermark = capped;
    }
  }

  /**
   * Record that telemetry in [from, to) was lost (a gateway outage, refused or dropped events). Windows
   * overlapping the span close as `incomplete`, so a loss is never judged as a traffic drop.
   */
  markGap(gap: TelemetryGap): void {
    if (!(gap.to > gap.from)) return;
    // Too old to touch a window still open (a detect worker reading the gaps topic from its start): dropped
    // at once, by the rule `closeUpTo` prunes with, so a long history of gaps is not kept and scanned.
    if (this.watermark > 0 && gap.to <= this.watermark - this.options.windowMs - this.options.allowedLatenessMs && gap.to <= this.oldestOpenStart()) return;
    this.gaps.push({ ...gap });
  }

  /** Gaps still able to touch a window that has not closed yet. */
  get openGaps(): readonly TelemetryGap[] {
    return this.gaps;
  }

  /** Close every window whose end + lateness is at or before the watermark. */
  closeReady(metricOut?: ClosedMetricWindow[]): ClosedWindow[] {
    return this.closeUpTo(this.watermark - this.options.allowedLatenessMs, metricOut);
  }

  /**
   * Close windows ending at or before `time` regardless of lateness (idle flush, shutdown). Request windows
   * are returned; metric windows closed at the same time go to `metricOut` (dropped without it).
   */
  closeUpTo(time: number, metricOut?: ClosedMetricWindow[]): ClosedWindow[] {
    const out: ClosedWindow[] = [];
    const { hopMs, windowMs } = this.options;
    for (const [key, series] of this.series) {
      if (series.lastEventAt < time - this.seriesTtlMs) {
        this.series.delete(key);
        if (series.stream?.kind === 'dependency') this.dependencies.release(series.tenant, series.service);
        continue;
      }
      while (series.nextEnd <= time) {
        out.push(this.windowOf(series, series.nextEnd));
        series.nextEnd += hopMs;
        for (const start of series.buckets.keys()) if (start < series.nextEnd - windowMs) series.buckets.delete(start);
      }
    }
    this.metrics.closeUpTo(time, (tenant, start, end) => this.overlapsGap(tenant, start, end), metricOut);
    if (this.gaps.length > 0) {
      // A gap ending before every open window starts can no longer mark anything. A series not seen yet
      // starts with the window of its first event, which may lag the watermark (a gap record from another
      // process can arrive before the events it concerns), so gaps within a window of it are kept.
      const oldestOpenStart = Math.min(this.oldestOpenStart(), this.watermark - windowMs - this.options.allowedLatenessMs);
      this.gaps = this.gaps.filter((g) => g.to > oldestOpenStart);
    }
    return out;
  }

  /** Start of the oldest window of any series not closed yet (Infinity without series). */
  private oldestOpenStart(): number {
    let oldest = this.metrics.oldestOpenStart();
    for (const series of this.series.values()) oldest = Math.min(oldest, series.nextEnd - this.options.windowMs);
    return oldest;
  }

  private windowOf(series: Series, end: number): ClosedWindow {
    const { hopMs, windowMs } = this.options;
    const start = end - windowMs;
    const buckets: Bucket[] = [];
    for (let b = start; b < end; b += hopMs) {
      const bucket = series.buckets.get(b);
      if (bucket !== undefined) buckets.push(bucket);
    }
    const features = featuresOf(buckets);
    const newest = series.buckets.get(end - hopMs);
    const window: ClosedWindow = { tenant: series.tenant, service: series.service, start, end, features };
    if (series.stream !== undefined) window.stream = series.stream;
    // The newest hop alone, when the window spans more than one hop: a fresh change is undiluted there.
    if (windowMs > hopMs) window.latest = featuresOf(newest === undefined ? [] : [newest]);
    if (this.overlapsGap(series.tenant, start, end)) window.incomplete = true;
    return window;
  }

  private overlapsGap(tenant: string, start: number, end: number): boolean {
    for (const g of this.gaps) if (g.from < end && g.to > start && (g.tenant === undefined || g.tenant === tenant)) return true;
    return false;
  }
}

/** The seven features of the union of some hop buckets. */
function featuresOf(buckets: readonly Bucket[]): Features {
  let count = 0, errors = 0, latencyWeight = 0, sum = 0;
  const samples: number[] = [];
  const weights: number[] = [];
  let weighted = false;
  const endpoints = new Set<string>();
  for (const bucket of buckets) {
    count += bucket.count;
    errors += bucket.errors;
    latencyWeight += bucket.latencyWeight;
    sum += bucket.latencySum;
    for (const s of bucket.samples) samples.push(s);
    for (const w of bucket.sampleWeights) {
      weights.push(w);
      if (w !== 1) weighted = true;
    }
    for (const e of bucket.endpoints) endpoints.add(e);
  }
  const sorted = weighted ? weightedQuantiles(samples, weights) : Float64Array.from(samples).sort();
  return {
    total_events: count,
    error_rate: count > 0 ? errors / count : 0,
    avg_latency: latencyWeight > 0 ? sum / latencyWeight : 0,
    p95_latency: quantileOfSorted(sorted, 0.95),
    p99_latency: quantileOfSorted(sorted, 0.99),
    latency_stddev: trimmedStddev(sorted),
    unique_endpoints: endpoints.size,
  };
}

/**
 * Samples with weights (sample_rate) as an ascending array of the same length whose plain percentiles
 * and spread are the weighted ones: element i is the weighted quantile at (i + 0.5) / n. With all
 * weights equal it is the sorted samples themselves.
 */
export function weightedQuantiles(samples: readonly number[], weights: readonly number[]): Float64Array {
  const n = samples.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => samples[a]! - samples[b]!);
  let total = 0;
  for (const w of weights) total += w;
  const out = new Float64Array(n);
  let k = 0;
  let below = 0; // weight of the samples before order[k]
  for (let i = 0; i < n; i++) {
    const target = ((i + 0.5) / n) * total;
    while (k < n - 1 && below + weights[order[k]!]! <= target) below += weights[order[k++]!]!;
    out[i] = samples[order[k]!]!;
  }
  return out;
}

/**
 * Standard deviation of an ascending array without its ceil(1%) smallest and largest values. The plain
 * stddev is ruled by a single slow request (one 10x outlier in 150 requests doubles it, and it stays in
 * all five overlapping windows); trimming 1% per side removes rare benign outliers, while a shift of a
 * real share of requests (a slow endpoint, timeouts) still widens the spread.
 */
export function trimmedStddev(sorted: Float64Array): number {
  const trim = Math.ceil(sorted.length * 0.01);
  const from = trim, to = sorted.length - trim;
  if (to - from < 2) return 0;
  let mean = 0;
  for (let i = from; i < to; i++) mean += sorted[i]!;
  mean /= to - from;
  let sq = 0;
  for (let i = from; i < to; i++) sq += (sorted[i]! - mean) ** 2;
  return Math.sqrt(sq / (to - from));
}

