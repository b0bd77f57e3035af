import { metricSeriesName, seriesKey, type Logger, type SeriesWindow } from '@helios/core';
import type { DetectorStateStore, IncidentReader } from '@helios/store';

/** The rows of the detect runtime's own state in helios_detector_state. */
export const RUNTIME_STATE_PLUGIN = '@helios/detect-runtime';
const INCIDENT_STATE_VERSION = 1;

/** One series' alert hygiene, as the tracker keeps it and the store saves it. */
export interface TrackedSeries {
  open: boolean;
  normalStreak: number;
  anomalousStreak: number;
}

/** What is saved per series: the tracker's state and the id of the open incident (its opening anomaly). */
interface SavedIncidentState extends TrackedSeries {
  incidentId?: string;
  /** End of the newest window the state includes: a successor that is redelivered older events skips their windows. */
  judgedUntil: number;
}

export interface IncidentStateSource {
  snapshot(key: string): TrackedSeries | undefined;
  restore(key: string, state: TrackedSeries): void;
}

export interface IncidentStateKeeper {
  /** Before the series' first window on this worker: its saved state, if any, into the tracker. Once per series. */
  load(window: SeriesWindow): Promise<void>;
  /**
   * Whether the series' saved state already includes this window (its previous owner judged it, and the
   * partition's uncommitted events came again): such a window is not judged twice.
   */
  judgedBefore(window: SeriesWindow): boolean;
  /** The series' state moved with this window; `now` (an opening or a resolution) saves it before it is published. */
  changed(window: SeriesWindow, now: boolean): Promise<void>;
  /** Save every changed series. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps each series' incident state (open incident, streaks) in the store, so the worker that takes a
 * series over (a rebalance, a restart on an empty disk) goes on with its incident: no second opening,
 * one resolution. An opening or resolution is saved before its record is published; streaks are saved
 * every `intervalMs` and at close. A failed save is logged and retried with the next one: judging never
 * waits for the store to come back.
 *
 * One source of truth per fact:
 * - helios_detector_state (this keeper's rows) holds the detector's evidence: streaks, the newest judged
 *   window, and which incident the series' current episode belongs to (its id).
 * - helios_incidents (the incident lifecycle, written by the report runtime and the incidents API) holds
 *   an incident's status. An incident resolved there (POST /api/v1/incidents/:id/resolve, or superseded) is
 *   over for the detector too: checked when a worker takes the series over and every `intervalMs` for the
 *   series this worker holds open; the series then starts afresh, so a lasting anomaly opens a new incident.
 *   Acknowledged is still unresolved: the detector goes on with it and resolves it when the windows are normal.
 * - A series with no saved state (lost, or of an older format) that has an unresolved incident there
 *   continues that incident instead of opening a duplicate (the newest one; older orphans are resolved as
 *   superseded by the lifecycle). Dependency and log series are not matched this way: their incidents are
 *   stored under the service (no series name), which the service's request series continues.
 */
export function createIncidentStateKeeper(options: {
  store: DetectorStateStore | undefined;
  tracker: IncidentStateSource;
  /** Series key -> the open incident's id; the runtime's, shared. */
  openIncidents: Map<string, string>;
  logger: Logger;
  intervalMs: number;
  /** The incident lifecycle table: the status of an incident (see above). Without it the saved state alone decides. */
  incidents?: Pick<IncidentReader, 'getIncident' | 'unresolvedIncidents'> | undefined;
  /** The series (by key) no longer has an open incident because it was resolved outside the detector. */
  onClosedElsewhere?: (key: string) => void;
}): IncidentStateKeeper {
  const { store, tracker, openIncidents, logger, incidents } = options;
  const loaded = new Set<string>();
  /** Series key -> end of its newest judged window (this worker's, or its saved state's). */
  const judgedUntil = new Map<string, number>();
  /** Series key -> tenant, of series changed since their last save. */
  const dirty = new Map<string, string>();
  let saving: Promise<void> = Promise.resolve();

  function save(keys: ReadonlyMap<string, string>): Promise<void> {
    if (store === undefined || keys.size === 0) return saving;
    const batch = new Map(keys);
    for (const key of batch.keys()) dirty.delete(key);
    saving = saving.then(async () => {
      const puts = [...batch].flatMap(([key, tenant]) => {
        // No tracker state yet (detectors still cold): saved all the same, for judgedUntil.
        const state = tracker.snapshot(key) ?? { open: false, normalStreak: 0, anomalousStreak: 0 };
        const incidentId = openIncidents.get(key);
        const value: SavedIncidentState = { ...state, judgedUntil: judgedUntil.get(key) ?? 0, ...(incidentId === undefined ? {} : { incidentId }) };
        return [{ tenant, seriesKey: key, version: INCIDENT_STATE_VERSION, updatedAt: Date.now(), state: Buffer.from(JSON.stringify(value)) }];
      });
      try {
        await store.putDetectorStates(RUNTIME_STATE_PLUGIN, puts);
      } catch (err) {
        for (const [key, tenant] of batch) if (!dirty.has(key)) dirty.set(key, tenant);
        logger.warn({ err, series: batch.size }, 'could not save incident state to the store; will retry');
      }
    });
    return saving;
  }

  /** The series starts afresh: its incident was resolved in the lifecycle table (by the API, or superseded). */
  function closeResolvedElsewhere(key: string, tenant: string, by: string | undefined, incidentId: string): void {
    tracker.restore(key, { open: false, normalStreak: 0, anomalousStreak: 0 });
    openIncidents.delete(key);
    dirty.set(key, tenant);
    options.onClosedElsewhere?.(key);
    logger.info({ tenant, series: key.split('\u0000').slice(1).join('/'), incident: incidentId, by }, 'incident resolved outside the detector: not continued; a lasting anomaly opens a new one');
  }

  /** Whether the incident is resolved in the lifecycle table (undefined: unknown there yet, e.g. its anomaly is still on the bus). */
  async function resolvedElsewhere(tenant: string, incidentId: string): Promise<{ by: string | undefined } | undefined> {
    const record = await incidents!.getIncident(incidentId, { tenant });
    return record?.status === 'resolved' ? { by: record.resolvedBy } : undefined;
  }

  /** After a series' saved state (if any) is restored: square it with the lifecycle table. */
  async function reconcileTakenOver(window: SeriesWindow, key: string, saved: SavedIncidentState | undefined): Promise<void> {
    if (incidents === undefined) return;
    const openId = openIncidents.get(key);
    if (openId !== undefined) {
      const resolved = await resolvedElsewhere(window.tenant, openId);
      if (resolved !== undefined) closeResolvedElsewhere(key, window.tenant, resolved.by, openId);
      return;
    }
    // Saved state that knows its episode is trusted: an incident it closed may still read open in the table
    // while its resolution is on the bus, and continuing it would swallow the next anomaly.
    if ((saved !== undefined && !(saved.open && saved.incidentId === undefined)) || window.stream !== undefined) return;
    const unresolved = await incidents.unresolvedIncidents({ tenant: window.tenant, service: window.service, series: window.metric === undefined ? undefined : metricSeriesName(window.metric) });
    const newest = unresolved[unresolved.length - 1];
    if (newest === undefined) return;
    tracker.restore(key, { open: true, normalStreak: 0, anomalousStreak: 0 });
    openIncidents.set(key, newest.id);
    dirty.set(key, window.tenant);
    logger.info({ tenant: window.tenant, service: window.service, incident: newest.id, status: newest.status }, 'series without saved state continues its unresolved incident');
  }

  /** The series this worker holds open whose incident was resolved in the table meanwhile (the API). */
  async function reconcileOpen(): Promise<void> {
    if (incidents === undefined) return;
    for (const [key, id] of [...openIncidents]) {
      const tenant = key.slice(0, key.indexOf('\u0000'));
      try {
        const resolved = await resolvedElsewhere(tenant, id);
        // Still the same episode after the read: the series may have resolved and reopened meanwhile.
        if (resolved !== undefined && openIncidents.get(key) === id) closeResolvedElsewhere(key, tenant, resolved.by, id);
      } catch (err) {
        logger.warn({ err, incident: id }, 'could not read an open incident\'s status; will retry');
        return;
      }
    }
  }

  const timer = store === undefined ? undefined : setInterval(() => void reconcileOpen().then(() => save(dirty)), options.intervalMs);
  timer?.unref();

  return {
    async load(window) {
      const key = seriesKey(window);
      if (store === undefined || loaded.has(key)) return;
      loaded.add(key);
      let value: SavedIncidentState | undefined;
      try {
        const saved = await store.getDetectorState(RUNTIME_STATE_PLUGIN, window.tenant, key);
        if (saved !== undefined && saved.version === INCIDENT_STATE_VERSION) value = JSON.parse(Buffer.from(saved.state).toString('utf8')) as SavedIncidentState;
      } catch (err) {
        logger.warn({ err, tenant: window.tenant, service: window.service }, 'saved incident state unreadable; the series starts with none');
      }
      if (value !== undefined) {
        tracker.restore(key, { open: value.open, normalStreak: value.normalStreak, anomalousStreak: value.anomalousStreak });
        if (value.open && value.incidentId !== undefined) openIncidents.set(key, value.incidentId);
        judgedUntil.set(key, value.judgedUntil);
        if (value.open) logger.info({ tenant: window.tenant, service: window.service, incident: value.incidentId }, 'series taken over with an open incident');
      }
      try {
        await reconcileTakenOver(window, key, value);
      } catch (err) {
        logger.warn({ err, tenant: window.tenant, service: window.service }, 'could not read the series\' incidents; its saved state alone decides');
      }
    },
    judgedBefore(window) {
      return window.end <= (judgedUntil.get(seriesKey(window)) ?? -Infinity);
    },
    async changed(window, now) {
      const key = seriesKey(window);
      judgedUntil.set(key, Math.max(judgedUntil.get(key) ?? -Infinity, window.end));
      dirty.set(key, window.tenant);
      if (now) await save(new Map([[key, window.tenant]]));
    },
    flush: () => save(dirty),
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await save(dirty);
    },
  };
}
