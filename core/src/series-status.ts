/**
 * What the services API and console show of detection per service: each series' state as its detector
 * sees it (learning / active, windows seen, threshold, time to the first verdict). The detect runtime keeps
 * these live and saves one row per (tenant, service) in the store's helios_detector_state under
 * `SERIES_STATUS_PLUGIN`, so an API process on another machine (split roles on Kafka) reads what the detect
 * worker owning the service last saw.
 */
export const SERIES_STATUS_PLUGIN = '@helios/detect-runtime/series-status';
/** Version of the saved row's JSON (a reader skips rows of a version it does not know). */
export const SERIES_STATUS_VERSION = 1;

/** Which series of a service: its requests, a dependency stream (calls to `peer`), its logs, or a metric series. */
export type SeriesKind = 'requests' | 'dependency' | 'logs' | 'metric';

export interface DetectorSeriesStatus {
  /** The detector plugin's name. */
  detector: string;
  kind: SeriesKind;
  /** `requests`, `dependency:<peer>`, `logs`, or the metric series' name (`metricSeriesName`). */
  series: string;
  /** The dependency's name for `dependency` series. */
  peer?: string;
  state: 'learning' | 'active';
  windowsSeen: number;
  /** The detector's current threshold in its own units (null while learning). */
  threshold: number | null;
  /** Estimated time until the series' first verdict (0 when active; null when the detector cannot tell). */
  firstVerdictInMs: number | null;
}

export interface ServiceDetectionStatus {
  tenant: string;
  service: string;
  /** When the detect runtime took this snapshot (epoch ms, its clock). */
  updatedAt: number;
  /** `active` when any series of the service is judged; `learning` while none is. */
  state: 'learning' | 'active';
  series: DetectorSeriesStatus[];
}

/**
 * The series named by a detector's key: `seriesKey` (tenant NUL service [NUL metric | NUL \u0001 stream])
 * or `featureSeriesKey` (tenant/service[/stream]).
 */
export function seriesOfKey(key: string, tenant: string, service: string): Pick<DetectorSeriesStatus, 'kind' | 'series' | 'peer'> {
  let rest: string;
  if (key.includes('\u0000')) {
    const parts = key.split('\u0000');
    rest = parts.slice(2).join('\u0000');
    if (rest !== '' && !rest.startsWith('\u0001')) return { kind: 'metric', series: rest };
    rest = rest.slice(1);
  } else {
    const prefix = `${tenant}/${service}`;
    rest = key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1) : '';
  }
  if (rest === '') return { kind: 'requests', series: 'requests' };
  if (rest === 'logs') return { kind: 'logs', series: 'logs' };
  if (rest.startsWith('dependency:')) return { kind: 'dependency', series: rest, peer: rest.slice('dependency:'.length) };
  return { kind: 'metric', series: rest };
}
