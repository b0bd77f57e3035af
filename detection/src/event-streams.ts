import { eventRole, peerOf, type FeatureStream, type HeliosEvent } from '@helios/core';

/**
 * Which windowed series an event feeds (core/src/event/role.ts decides its role): requests the service's
 * request series, dependency calls the series of (service, peer), log records the service's log series;
 * metric points go to the metric series, internal spans are not windowed.
 */
export type EventStream = 'metric' | 'internal' | { key: string; stream: FeatureStream | undefined };

const LOGS: FeatureStream = Object.freeze({ kind: 'logs' }) as FeatureStream;

export function streamOf(event: HeliosEvent): EventStream {
  const role = eventRole(event);
  if (role === 'metric' || role === 'internal') return role;
  const base = `${event.tenant}\u0000${event.service}`;
  if (role === 'request') return { key: base, stream: undefined };
  if (role === 'log') return { key: `${base}\u0000\u0001logs`, stream: LOGS };
  const peer = peerOf(event);
  return { key: `${base}\u0000\u0001dependency:${peer}`, stream: { kind: 'dependency', peer } };
}

/**
 * A bound on the dependency series per tenant+service: peers come from span attributes, i.e. from whoever
 * sends spans, and a client that puts an id in `server.address` must not grow the windows without end.
 */
export class StreamCardinality {
  private readonly perService = new Map<string, number>();
  /** Events not windowed because their service was at the bound. */
  overflow = 0;

  constructor(private readonly maxPerService: number) {}

  /** Take a slot for a new series of the service; false (and counted) when it has none left. */
  admit(tenant: string, service: string): boolean {
    const key = `${tenant}\u0000${service}`;
    const count = this.perService.get(key) ?? 0;
    if (count >= this.maxPerService) {
      this.overflow++;
      return false;
    }
    this.perService.set(key, count + 1);
    return true;
  }

  release(tenant: string, service: string): void {
    const key = `${tenant}\u0000${service}`;
    const left = (this.perService.get(key) ?? 1) - 1;
    if (left > 0) this.perService.set(key, left);
    else this.perService.delete(key);
  }
}
