import type { BeforeSend } from './config.js';
import { HeliosSdkError, type DiagnosticHandler } from './errors.js';
import type { Attributes, WireEvent } from './event.js';
import type { OfflineBuffer } from './offline-buffer.js';
import { retryDelayMs, type BackoffPolicy } from './retry-policy.js';
import type { SendOutcome, Transport } from './http-transport.js';

export interface ExporterCounters {
  /** Events in memory right now (queue plus the batch being sent). */
  queued: number;
  /** Events accepted into the queue since start. */
  enqueued: number;
  /** Events the gateway answered 2xx for (including those replayed from disk). */
  sent: number;
  /** Events dropped because the queue was full, or recorded after shutdown. */
  dropped: number;
  /** Events removed by `beforeSend` (returned null or threw). */
  filtered: number;
  /** Events the gateway rejected with a non-retryable 4xx. */
  rejected: number;
  /** Requests answered 429/5xx or lost to network errors and timeouts, each followed by a backoff. */
  failedRequests: number;
  /** Events written to the offline buffer. */
  spilled: number;
  /** Events delivered from the offline buffer. */
  replayed: number;
  /** Events that could not be written to the offline buffer (full or I/O error). */
  offlineDropped: number;
  /** Bytes held in offline buffer segments. */
  offlineBytes: number;
}

export interface EventExporterOptions {
  transport: Transport;
  offlineBuffer: OfflineBuffer | undefined;
  maxQueueSize: number;
  maxBatchSize: number;
  flushIntervalMs: number;
  backoff: BackoffPolicy;
  beforeSend: BeforeSend | undefined;
  /** The resource object every event shares; serialized once instead of once per event. */
  resource?: Attributes;
  report: DiagnosticHandler;
}

export interface EventExporter {
  /** Hot path: O(1), never blocks, never throws. False when the event was dropped. */
  enqueue(event: WireEvent): boolean;
  /** Resolves true once every event enqueued before the call is delivered, rejected or on disk; false on timeout. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Stop intake, deliver what it can within `timeoutMs`, spill the rest to disk (or drop it, counted). Idempotent. */
  shutdown(timeoutMs: number): Promise<void>;
  counters(): ExporterCounters;
}

interface PendingBatch {
  lines: string[];
  /** Events taken from the queue for this batch (beforeSend may have removed some of its lines). */
  taken: number;
}

interface FlushWaiter {
  target: number;
  resolve(done: boolean): void;
}

/**
 * Batching exporter for Helios JSON. One send loop, at most one request in flight: batches leave in the
 * order their events were recorded, and a failed batch is retried (or spilled) before any later one.
 * Memory is bounded by `maxQueueSize` events plus one batch in flight.
 */
export function createEventExporter(options: EventExporterOptions): EventExporter {
  const { transport, offlineBuffer, maxBatchSize, backoff, beforeSend, report, resource } = options;
  const resourceJson = resource === undefined ? '' : JSON.stringify(resource);
  const capacity = options.maxQueueSize;
  // Ring buffer: fixed array, so the queue never reallocates and a full queue costs nothing to refuse.
  const ring: (WireEvent | undefined)[] = new Array<WireEvent | undefined>(capacity);
  let head = 0;
  let length = 0;

  const counters: ExporterCounters = {
    queued: 0, enqueued: 0, sent: 0, dropped: 0, filtered: 0, rejected: 0, failedRequests: 0,
    spilled: 0, replayed: 0, offlineDropped: 0, offlineBytes: offlineBuffer?.bytes() ?? 0,
  };
  /** Events that left the queue and reached a final state; compared against flush targets (FIFO). */
  let settled = 0;
  let pending: PendingBatch | undefined;
  let attempt = 0;
  let backoffUntil = 0;
  let intervalDue = false;
  let closing = false;
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let intervalTimer: NodeJS.Timeout | undefined;
  let backoffTimer: NodeJS.Timeout | undefined;
  const waiters: FlushWaiter[] = [];

  function enqueue(event: WireEvent): boolean {
    if (closing || length >= capacity) {
      counters.dropped++;
      if (!closing && counters.dropped === 1) report(new HeliosSdkError('HLS_ERR_SDK_QUEUE_FULL', `the in-memory queue is full (${capacity} events); new events are dropped until the gateway catches up`));
      return false;
    }
    ring[(head + length) % capacity] = event;
    length++;
    counters.enqueued++;
    if (length >= maxBatchSize) kick();
    else if (intervalTimer === undefined) armInterval();
    return true;
  }

  function armInterval(): void {
    intervalTimer = setTimeout(() => {
      intervalTimer = undefined;
      intervalDue = true;
      kick();
    }, options.flushIntervalMs);
    intervalTimer.unref();
  }

  function kick(): void {
    if (pumping !== undefined || stopped) return;
    pumping = pump().finally(() => {
      pumping = undefined;
      // Work that arrived while the loop was finishing its last await.
      if (!stopped && readyToSend() && backoffUntil <= Date.now()) kick();
    });
  }

  function take(max: number): WireEvent[] {
    const count = Math.min(max, length);
    const out = new Array<WireEvent>(count);
    for (let i = 0; i < count; i++) {
      out[i] = ring[head] as WireEvent;
      ring[head] = undefined;
      head = (head + 1) % capacity;
    }
    length -= count;
    if (length === 0) intervalDue = false;
    return out;
  }

  /** beforeSend runs here, once per event, before the event reaches the network or the disk. */
  function serialize(events: WireEvent[]): string[] {
    const lines: string[] = [];
    for (const event of events) {
      let kept: WireEvent | null = event;
      if (beforeSend !== undefined) {
        try {
          kept = beforeSend(event);
        } catch (error) {
          // A redaction hook that throws must not let the unredacted event out.
          report(new HeliosSdkError('HLS_ERR_SDK_CONFIG_INVALID', `beforeSend threw, event dropped: ${(error as Error).message}`, { cause: error }));
          kept = null;
        }
      }
      if (kept === null || kept === undefined) {
        counters.filtered++;
        continue;
      }
      if (resource !== undefined && kept.resource === resource) {
        // The shared resource is the largest part of most events; splice in its JSON, computed once.
        kept.resource = undefined;
        const json = JSON.stringify(kept);
        kept.resource = resource;
        lines.push(`${json.slice(0, -1)},"resource":${resourceJson}}`);
      } else {
        lines.push(JSON.stringify(kept));
      }
    }
    return lines;
  }

  function readyToSend(): boolean {
    return length > 0 && (length >= maxBatchSize || intervalDue || waiters.length > 0 || closing);
  }

  function settle(count: number): void {
    settled += count;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i] as FlushWaiter;
      if (settled >= waiter.target) {
        waiters.splice(i, 1);
        waiter.resolve(true);
      }
    }
  }

  function scheduleBackoff(outcome: SendOutcome & { status: 'retryable' }): void {
    attempt++;
    counters.failedRequests++;
    const delay = retryDelayMs(attempt, backoff, outcome.retryAfterMs);
    backoffUntil = Date.now() + delay;
    if (attempt === 1) report(new HeliosSdkError('HLS_ERR_SDK_EXPORT_RETRYING', `gateway unavailable (${outcome.reason}); retrying in ${delay} ms`));
  }

  /** Wakes the loop when the backoff ends. Re-armed on every early wake: timers may fire a ms before Date.now() agrees. */
  function armBackoffTimer(): void {
    clearTimeout(backoffTimer);
    backoffTimer = setTimeout(() => {
      backoffTimer = undefined;
      kick();
    }, Math.max(1, backoffUntil - Date.now() + 1));
    backoffTimer.unref();
  }

  function reportFailure(outcome: SendOutcome & { status: 'failure' }, count: number): void {
    const code = outcome.httpStatus === 401 || outcome.httpStatus === 403 ? 'HLS_ERR_SDK_UNAUTHORIZED' : 'HLS_ERR_SDK_EXPORT_REJECTED';
    report(new HeliosSdkError(code, `gateway refused a batch of ${count} events (${outcome.reason}); the batch was dropped`));
  }

  async function spill(lines: string[], taken: number): Promise<void> {
    const ok = await (offlineBuffer as OfflineBuffer).append(lines);
    if (ok) counters.spilled += lines.length;
    else counters.offlineDropped += lines.length;
    settle(taken);
  }

  async function pump(): Promise<void> {
    while (!stopped) {
      const canSend = backoffUntil <= Date.now();
      if (offlineBuffer !== undefined) {
        // While the disk holds a backlog, new batches queue up behind it on disk: that keeps the
        // delivery order, and during an outage memory drains to disk instead of filling up.
        if (pending !== undefined) {
          const batch = pending;
          pending = undefined;
          await spill(batch.lines, batch.taken);
          continue;
        }
        if (offlineBuffer.hasPending() && readyToSend()) {
          const events = take(maxBatchSize);
          await spill(serialize(events), events.length);
          continue;
        }
      }
      if (!canSend) {
        armBackoffTimer();
        return;
      }

      if (offlineBuffer !== undefined && offlineBuffer.hasPending()) {
        const chunk = await offlineBuffer.readOldest(maxBatchSize);
        if (chunk === undefined) continue;
        const outcome = chunk.lines.length === 0 ? ({ status: 'success' } as const) : await transport.send(`[${chunk.lines.join(',')}]`);
        if (outcome.status === 'retryable') {
          scheduleBackoff(outcome);
          continue;
        }
        attempt = 0;
        if (outcome.status === 'success') {
          counters.sent += chunk.lines.length;
          counters.replayed += chunk.lines.length;
        } else {
          counters.rejected += chunk.lines.length;
          reportFailure(outcome, chunk.lines.length);
        }
        await chunk.commit();
        counters.offlineBytes = offlineBuffer.bytes();
        continue;
      }

      if (pending === undefined) {
        if (!readyToSend()) return;
        const events = take(maxBatchSize);
        pending = { lines: serialize(events), taken: events.length };
      }
      const batch = pending;
      if (batch.lines.length === 0) {
        pending = undefined;
        settle(batch.taken);
        continue;
      }
      const outcome = await transport.send(`[${batch.lines.join(',')}]`);
      if (outcome.status === 'retryable') {
        // Without a disk the batch stays in `pending` and is retried first; with one, the next turn spills it.
        scheduleBackoff(outcome);
        continue;
      }
      attempt = 0;
      pending = undefined;
      if (outcome.status === 'success') counters.sent += batch.lines.length;
      else {
        counters.rejected += batch.lines.length;
        reportFailure(outcome, batch.lines.length);
      }
      settle(batch.taken);
    }
  }

  function flush(timeoutMs: number): Promise<boolean> {
    const target = counters.enqueued;
    if (settled >= target) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const index = waiters.indexOf(waiter);
        if (index >= 0) waiters.splice(index, 1);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const waiter: FlushWaiter = {
        target,
        resolve(done) {
          clearTimeout(timer);
          resolve(done);
        },
      };
      waiters.push(waiter);
      kick();
    });
  }

  let shutdownPromise: Promise<void> | undefined;
  function shutdown(timeoutMs: number): Promise<void> {
    shutdownPromise ??= (async () => {
      closing = true;
      // A retry wait that outlasts the deadline would make this a plain timeout; try once more now.
      backoffUntil = 0;
      await flush(timeoutMs);
      stopped = true;
      clearTimeout(intervalTimer);
      clearTimeout(backoffTimer);
      // Abort a request still hanging so the loop can finish; its batch stays in `pending`.
      transport.close();
      await pumping;
      const leftover = pending;
      pending = undefined;
      const rest = take(length);
      if (offlineBuffer !== undefined) {
        const lines = [...(leftover?.lines ?? []), ...serialize(rest)];
        if (lines.length > 0) {
          const ok = await offlineBuffer.append(lines);
          if (ok) counters.spilled += lines.length;
          else counters.offlineDropped += lines.length;
        }
        counters.offlineBytes = offlineBuffer.bytes();
        await offlineBuffer.close();
      } else {
        counters.dropped += (leftover?.lines.length ?? 0) + rest.length;
      }
      settle((leftover?.taken ?? 0) + rest.length);
      for (const waiter of waiters.splice(0)) waiter.resolve(false);
    })();
    return shutdownPromise;
  }

  // A backlog left on disk by a previous run is replayed right away, not at the first new event.
  if (offlineBuffer?.hasPending() === true) kick();

  return {
    enqueue,
    flush,
    shutdown,
    counters() {
      counters.queued = length + (pending?.taken ?? 0);
      if (offlineBuffer !== undefined) counters.offlineBytes = offlineBuffer.bytes();
      return { ...counters };
    },
  };
}
