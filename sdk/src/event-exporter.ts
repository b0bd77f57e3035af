import type { BeforeSend } from './config.js';
import { HeliosSdkError, type DiagnosticHandler } from './errors.js';
import type { Attributes, WireEvent } from './event.js';
import { createEventSerializer } from './event-json.js';
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
  /** Lines before this index are done (sent or rejected): a batch answered 413 goes out in parts. */
  next: number;
  /** Events taken from the queue for this batch (beforeSend may have removed some of its lines). */
  taken: number;
}

/** Successful requests in a row after which a limit halved by a 413 doubles again (toward maxBatchSize). */
const SUCCESSES_BEFORE_GROWING = 100;

function isTooLarge(outcome: SendOutcome): boolean {
  return outcome.status === 'failure' && outcome.httpStatus === 413;
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
  const serializeEvent = createEventSerializer(resource);
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
  /**
   * Most lines per request. A 413 (body or event count over the gateway's limit) halves it and the same
   * lines go again in two parts, down to one event per request; only a single event answered 413 is
   * rejected. It grows back after SUCCESSES_BEFORE_GROWING successes, so one oversized batch does not
   * shrink every later request for good.
   */
  let sendLimit = maxBatchSize;
  let successesAtLimit = 0;
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
    if (beforeSend === undefined) {
      for (const event of events) lines.push(serializeEvent(event));
      return lines;
    }
    for (const event of events) {
      let kept: WireEvent | null;
      try {
        kept = beforeSend(event);
      } catch (error) {
        // A redaction hook that throws must not let the unredacted event out.
        report(new HeliosSdkError('HLS_ERR_SDK_CONFIG_INVALID', `beforeSend threw, event dropped: ${(error as Error).message}`, { cause: error }));
        kept = null;
      }
      if (kept === null || kept === undefined) {
        counters.filtered++;
        continue;
      }
      if (resource !== undefined && kept.resource === resource) {
        // The hook may have reshaped the event, so no fast serializer; the shared resource is still spliced in from its JSON.
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

  /** After a non-retryable answer to `count` lines: true when they should go again in smaller parts. */
  function splitAfter(outcome: SendOutcome, count: number): boolean {
    if (isTooLarge(outcome) && count > 1) {
      sendLimit = Math.ceil(count / 2);
      successesAtLimit = 0;
      return true;
    }
    if (outcome.status === 'success' && sendLimit < maxBatchSize && ++successesAtLimit >= SUCCESSES_BEFORE_GROWING) {
      sendLimit = Math.min(maxBatchSize, sendLimit * 2);
      successesAtLimit = 0;
    }
    return false;
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
          await spill(batch.lines.slice(batch.next), batch.taken);
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
        const chunk = await offlineBuffer.readOldest(sendLimit);
        if (chunk === undefined) continue;
        const outcome = chunk.lines.length === 0 ? ({ status: 'success' } as const) : await transport.send(`[${chunk.lines.join(',')}]`);
        if (outcome.status === 'retryable') {
          scheduleBackoff(outcome);
          continue;
        }
        attempt = 0;
        // Not committed: the next read returns the same oldest lines, fewer of them.
        if (splitAfter(outcome, chunk.lines.length)) continue;
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
        pending = { lines: serialize(events), next: 0, taken: events.length };
      }
      const batch = pending;
      if (batch.next >= batch.lines.length) {
        pending = undefined;
        settle(batch.taken);
        continue;
      }
      const count = Math.min(sendLimit, batch.lines.length - batch.next);
      const lines = batch.next === 0 && count === batch.lines.length ? batch.lines : batch.lines.slice(batch.next, batch.next + count);
      const outcome = await transport.send(`[${lines.join(',')}]`);
      if (outcome.status === 'retryable') {
        // Without a disk the batch stays in `pending` and is retried first; with one, the next turn spills it.
        scheduleBackoff(outcome);
        continue;
      }
      attempt = 0;
      if (splitAfter(outcome, count)) continue;
      batch.next += count;
      if (outcome.status === 'success') counters.sent += count;
      else {
        counters.rejected += count;
        reportFailure(outcome, count);
      }
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
        const lines = [...(leftover?.lines.slice(leftover.next) ?? []), ...serialize(rest)];
        if (lines.length > 0) {
          const ok = await offlineBuffer.append(lines);
          if (ok) counters.spilled += lines.length;
          else counters.offlineDropped += lines.length;
        }
        counters.offlineBytes = offlineBuffer.bytes();
        await offlineBuffer.close();
      } else {
        counters.dropped += (leftover === undefined ? 0 : leftover.lines.length - leftover.next) + rest.length;
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
