import { SERIES_STATUS_PLUGIN, SERIES_STATUS_VERSION, seriesOfKey, type Logger, type ServiceDetectionStatus } from '@helios/core';
import type { DetectorSeriesState } from '@helios/plugins';
import type { DetectorStateStore } from '@helios/store';

type RuntimeSeriesState = DetectorSeriesState & { detector: string };

/** Each service's series states grouped into one status per (tenant, service), sorted by tenant and service. */
export function serviceStatuses(states: readonly RuntimeSeriesState[], at: number): ServiceDetectionStatus[] {
  const byService = new Map<string, ServiceDetectionStatus>();
  for (const s of states) {
    const id = JSON.stringify([s.tenant, s.service]);
    let status = byService.get(id);
    if (status === undefined) byService.set(id, (status = { tenant: s.tenant, service: s.service, updatedAt: at, state: 'learning', series: [] }));
    if (s.state === 'active') status.state = 'active';
    status.series.push({
      detector: s.detector, ...seriesOfKey(s.key, s.tenant, s.service), state: s.state, windowsSeen: s.windowsSeen, threshold: s.threshold,
      firstVerdictInMs: s.state === 'active' ? 0 : s.firstVerdictInMs ?? null,
    });
  }
  const sorted = [...byService.values()].sort((a, b) => a.tenant.localeCompare(b.tenant) || a.service.localeCompare(b.service));
  for (const s of sorted) s.series.sort((a, b) => a.kind.localeCompare(b.kind) || a.series.localeCompare(b.series) || a.detector.localeCompare(b.detector));
  return sorted;
}

/**
 * Saves each service's detection status to the store every `intervalMs` (and at close), so an API process
 * that is not this worker shows it: one row per (tenant, service) in helios_detector_state under
 * SERIES_STATUS_PLUGIN. A service whose status did not change since its last save is not written again,
 * except every tenth round (its `updatedAt` then tells a reader the worker is still alive). A failed save
 * is logged and retried with the next one.
 */
export function createSeriesStatusSaver(options: {
  store: DetectorStateStore | undefined;
  states: () => RuntimeSeriesState[];
  now: () => number;
  logger: Logger;
  intervalMs: number;
}): { save(): Promise<void>; close(): Promise<void> } {
  const { store, logger } = options;
  /** (tenant, service) -> the JSON of its series last saved. */
  const saved = new Map<string, string>();
  let round = 0;
  let saving: Promise<void> = Promise.resolve();

  function save(): Promise<void> {
    if (store === undefined) return saving;
    saving = saving.then(async () => {
      const refresh = round++ % 10 === 0;
      const puts = serviceStatuses(options.states(), options.now()).flatMap((status) => {
        const id = JSON.stringify([status.tenant, status.service]);
        const series = JSON.stringify([status.state, status.series]);
        if (!refresh && saved.get(id) === series) return [];
        saved.set(id, series);
        return [{ tenant: status.tenant, seriesKey: status.service, version: SERIES_STATUS_VERSION, updatedAt: status.updatedAt, state: Buffer.from(JSON.stringify(status)) }];
      });
      if (puts.length === 0) return;
      try {
        await store.putDetectorStates(SERIES_STATUS_PLUGIN, puts);
      } catch (err) {
        for (const p of puts) saved.delete(JSON.stringify([p.tenant, p.seriesKey]));
        logger.warn({ err, services: puts.length }, 'could not save series states to the store; will retry');
      }
    });
    return saving;
  }

  const timer = store === undefined ? undefined : setInterval(() => void save(), options.intervalMs);
  timer?.unref();
  return {
    save,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await save();
    },
  };
}
