import { seriesKey, type SeriesWindow } from '@helios/core';

/**
 * One incident per service across its request, dependency and log series. A failing dependency usually moves
 * the calls to it and the service's requests (and its error logs) a window or two apart; each of those series
 * has its own tracker state, but the service gets one incident: the first series to open speaks for it, the
 * others open silently while it lasts. Metric series are not grouped (they alert on their own, as before).
 */
export class ServiceIncidents {
  /** Per tenant+service, the series whose tracker state is open. */
  private readonly open = new Map<string, Set<string>>();

  /** Feed a window's tracker step; true when the step opens an incident that should be raised. */
  raise(window: SeriesWindow, step: { opened?: unknown; resolved: boolean } | undefined): boolean {
    if (step === undefined) return false;
    if (window.metric !== undefined) return step.opened !== undefined;
    const serviceKey = `${window.tenant}\u0000${window.service}`;
    const key = seriesKey(window);
    let open = this.open.get(serviceKey);
    if (step.resolved && open !== undefined) {
      open.delete(key);
      if (open.size === 0) this.open.delete(serviceKey);
    }
    if (step.opened === undefined) return false;
    if (open === undefined || !this.open.has(serviceKey)) this.open.set(serviceKey, (open = new Set()));
    const alreadyOpen = open.size > 0;
    open.add(key);
    return !alreadyOpen;
  }

  /** The series' incident ended outside its windows (resolved through the API): it no longer speaks for its service. */
  forget(key: string): void {
    for (const [serviceKey, open] of this.open) {
      if (!open.delete(key)) continue;
      if (open.size === 0) this.open.delete(serviceKey);
      return;
    }
  }
}
