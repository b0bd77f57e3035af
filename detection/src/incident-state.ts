import { seriesKey, type Logger, type SeriesWindow } from '@helios/core';
import type { DetectorStateStore } from '@helios/store';

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
 */
export function createIncidentStateKeeper(options: {
  store: DetectorStateStore | undefined;
  tracker: IncidentStateSource;
  /** Series key -> the open incident's id; the runtime's, shared. */
  openIncidents: Map<string, string>;
  logger: Logger;
  intervalMs: number;
}): IncidentStateKeeper {
  const { store, tracker, openIncidents, logger } = options;
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

  const timer = store === undefined ? undefined : setInterval(() => void save(dirty), options.intervalMs);
  timer?.unref();

  return {
    async load(window) {
      const key = seriesKey(window);
      if (store === undefined || loaded.has(key)) return;
      loaded.add(key);
      try {
        const saved = await store.getDetectorState(RUNTIME_STATE_PLUGIN, window.tenant, key);
        if (saved === undefined || saved.version !== INCIDENT_STATE_VERSION) return;
        const value = JSON.parse(Buffer.from(saved.state).toString('utf8')) as SavedIncidentState;
        tracker.restore(key, { open: value.open, normalStreak: value.normalStreak, anomalousStreak: value.anomalousStreak });
        if (value.open && value.incidentId !== undefined) openIncidents.set(key, value.incidentId);
        judgedUntil.set(key, value.judgedUntil);
        if (value.open) logger.info({ tenant: window.tenant, service: window.service, incident: value.incidentId }, 'series taken over with an open incident');
      } catch (err) {
        logger.warn({ err, tenant: window.tenant, service: window.service }, 'saved incident state unreadable; the series starts with none');
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
