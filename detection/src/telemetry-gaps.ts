import { Topics, type Bus, type Logger, type TelemetryGapRecord } from '@helios/core';

/**
 * Completeness across processes. A gateway that refuses events for capacity lost telemetry of that moment;
 * the detect role must not judge the windows around it (a full queue must not look like a traffic drop).
 * In one process the gateway can call `DetectRuntime.markGap`; with split roles the signal travels as a
 * `TelemetryGapRecord` on `Topics.telemetryGaps`, which every detect runtime consumes (see detect-runtime.ts).
 */

export interface GapPublisherOptions {
  bus: Bus;
  /** A refusal at `at` marks [at - marginMs, at + marginMs): the windows that may miss its events (detection hop). */
  marginMs: number;
  logger: Logger;
  /** Who lost the telemetry (`source` of the records). Default `gateway`. */
  source?: string;
  /**
   * Refusals within this long are sent as one record, and a failed send is retried after it (the bus may be
   * refusing because it is full or unreachable). Default 1000 ms.
   */
  coalesceMs?: number;
}

export interface GapPublisher {
  /** Count one refusal at `at` (epoch ms) with its error code. Never throws, never waits. */
  refused(at: number, code: string): void;
  /** Records published so far. */
  readonly published: number;
  /** Send what is pending (one attempt) and stop; idempotent. */
  close(): Promise<void>;
}

/**
 * Coalesces capacity refusals into `TelemetryGapRecord`s: a storm of refusals is one record a second, not
 * one per request, and a record that cannot be published is kept (merged with later refusals) and retried,
 * so a gap during a bus outage still reaches detection once the bus is back.
 */
export function createGapPublisher(options: GapPublisherOptions): GapPublisher {
  const { bus, logger, marginMs } = options;
  const source = options.source ?? 'gateway';
  const coalesceMs = options.coalesceMs ?? 1000;
  let pending: TelemetryGapRecord | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  let published = 0;
  let closed = false;

  /** `into` and `gap` as one record (a failed send merged with refusals counted meanwhile). */
  function merge(into: TelemetryGapRecord, gap: TelemetryGapRecord): TelemetryGapRecord {
    const refusals = { ...into.refusals };
    for (const [code, n] of Object.entries(gap.refusals)) refusals[code] = (refusals[code] ?? 0) + n;
    return { from: Math.min(into.from, gap.from), to: Math.max(into.to, gap.to), refusals, source };
  }

  function send(): Promise<void> {
    timer = undefined;
    sending = sending.then(async () => {
      const record = pending;
      if (record === undefined) return;
      pending = undefined;
      try {
        await bus.publish<TelemetryGapRecord>(Topics.telemetryGaps, [{ key: source, value: record }]);
        published++;
      } catch (err) {
        // Kept for the next attempt: the gap is still true once the bus takes records again.
        pending = pending === undefined ? record : merge(record, pending);
        logger.warn({ err, from: record.from, to: record.to }, 'could not publish a telemetry gap; will retry');
        schedule();
      }
    });
    return sending;
  }

  function schedule(): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => void send(), coalesceMs);
    timer.unref();
  }

  return {
    get published() {
      return published;
    },
    refused(at, code) {
      // Called for every refused request, so under overload: extend the pending record in place.
      if (pending === undefined) pending = { from: at - marginMs, to: at + marginMs, refusals: {}, source };
      else {
        if (at - marginMs < pending.from) pending.from = at - marginMs;
        if (at + marginMs > pending.to) pending.to = at + marginMs;
      }
      pending.refusals[code] = (pending.refusals[code] ?? 0) + 1;
      schedule();
    },
    async close() {
      if (closed) return sending;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await send();
    },
  };
}
