import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HeliosError, attemptOf, retry, type BackoffPolicy, type HeliosEvent, type Logger } from '@helios/core';
import { isTransientStoreError } from './postgres.js';
import type { DeadLetter, Store } from './store.js';

export interface EventWriterOptions {
  store: Pick<Store, 'insertEvents' | 'insertDeadLetters'>;
  /** Flush when this many events are buffered. */
  batchSize: number;
  /** Flush at most this long after the first buffered event. */
  flushIntervalMs: number;
  /** Callers of `write` wait while this many events are buffered (bounded memory); default 4 x batchSize. */
  maxBufferedEvents?: number;
  /** Backoff while the database is unreachable: first wait, doubled up to the max. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  logger?: Logger;
  /** Registry for the writer's metrics (write duration, batch size, errors, availability). */
  metrics?: Registry;
  onStored?: (inserted: number) => void;
  /**
   * Also called for each dead letter once it is in the store's dead-letter table (the Kafka storage role
   * copies it to the dead-letter topic). A failure is logged, not retried: the table already holds the letter.
   */
  onDeadLetter?: (letter: DeadLetter) => Promise<void>;
}

interface WriterMetrics {
  duration: Histogram;
  batchSize: Histogram;
  errors: Counter<'reason'>;
  unavailable: Gauge;
  deadLetters: Counter<'reason'>;
}

function writerMetrics(registry: Registry): WriterMetrics {
  const registers = [registry];
  return {
    duration: new Histogram({ name: 'helios_store_write_duration_seconds', help: 'Time to commit one batch of events (successful attempts)', registers, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] }),
    batchSize: new Histogram({ name: 'helios_store_write_batch_size', help: 'Events per committed batch', registers, buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000] }),
    errors: new Counter({ name: 'helios_store_write_errors_total', help: 'Failed batch writes: transient (retried) or fatal (rejected)', labelNames: ['reason'], registers }),
    unavailable: new Gauge({ name: 'helios_store_unavailable', help: '1 while the database is unreachable and writes are held', registers }),
    deadLetters: new Counter({ name: 'helios_store_dead_letters_total', help: 'Events the store refused (isolated from their batch), kept in helios_dead_letters; reason: SQLSTATE or error class', labelNames: ['reason'], registers }),
  };
}

export interface EventWriter {
  /** Resolves once these events are committed (new ones counted through `onStored`); rejects on a non-transient store error. */
  write(events: readonly HeliosEvent[]): Promise<void>;
  /** Write everything buffered now. */
  flush(): Promise<void>;
  /** Since when (epoch ms) the database has been unreachable; undefined while writes succeed. */
  readonly unavailableSince: number | undefined;
  /** Flush what is buffered, then refuse writes; a write still waiting for the database is rejected. Idempotent. */
  close(): Promise<void>;
}

interface Pending {
  events: readonly HeliosEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * An error caused by the rows written rather than by the database or the connection: PostgreSQL's data
 * exceptions (SQLSTATE class 22: out of range, untranslatable character...), integrity violations (23)
 * and program limits (54: a value too large), or a row the writer could not serialize (RangeError, e.g.
 * a date without ISO text). Such a batch is split to find the rows; any other error fails the batch.
 */
export function rowErrorReason(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = (e as Error).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code)) return code;
    if (e instanceof RangeError) return 'RangeError';
  }
  return undefined;
}

/**
 * Batches writes by size and time. Concurrent writers (e.g. several partitions' consumers) share
 * a batch; each caller's promise settles when its events are committed, so a bus acknowledges
 * records only after they are stored. While the database is unreachable the writer keeps the batch
 * and retries it with backoff, and callers wait (the bus stops handing out records meanwhile);
 * a retried batch that had in fact been committed is harmless since inserts are idempotent.
 */
export function createEventWriter(options: EventWriterOptions): EventWriter {
  const maxBuffered = options.maxBufferedEvents ?? options.batchSize * 4;
  const retryPolicy: BackoffPolicy = { initialMs: options.retryInitialMs ?? 100, maxMs: options.retryMaxMs ?? 5000 };
  let buffer: Pending[] = [];
  let bufferedEvents = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let unavailableSince: number | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let spaceWaiters: Array<() => void> = [];
  const metrics = options.metrics === undefined ? undefined : writerMetrics(options.metrics);

  function takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    while (buffer.length > 0 && (n === 0 || n + buffer[0]!.events.length <= options.batchSize)) {
      const p = buffer.shift()!;
      batch.push(p);
      n += p.events.length;
    }
    bufferedEvents -= n;
    return batch;
  }

  async function insertWithRetry(events: HeliosEvent[]): Promise<number> {
    return withRetry(events.length, async () => {
      const started = performance.now();
      const inserted = await options.store.insertEvents(events);
      metrics?.duration.observe((performance.now() - started) / 1000);
      metrics?.batchSize.observe(events.length);
      return inserted;
    });
  }

  /** `attempt` until it succeeds; transient store errors are retried with backoff, anything else is thrown. */
  async function withRetry<T>(events: number, attempt: () => Promise<T>): Promise<T> {
    const outcome = await retry(
      () =>
        attemptOf(attempt, (err) => {
          const transient = isTransientStoreError(err);
          metrics?.errors.inc({ reason: transient ? 'transient' : rowErrorReason(err) === undefined ? 'fatal' : 'row' });
          return transient ? 'retryable' : 'failure';
        }),
      {
        policy: retryPolicy,
        shouldStop: () => closed,
        onRetry: ({ error }) => {
          metrics?.unavailable.set(1);
          if (unavailableSince !== undefined) return;
          unavailableSince = Date.now();
          options.logger?.warn({ err: error, events }, 'store unreachable; holding the batch and retrying');
        },
      },
    );
    if (outcome.status !== 'success') throw outcome.error;
    metrics?.unavailable.set(0);
    if (unavailableSince !== undefined) {
      options.logger?.info({ downMs: Date.now() - unavailableSince }, 'store reachable again; writes resumed');
      unavailableSince = undefined;
    }
    return outcome.value;
  }

  /**
   * Insert `events`; when the store refuses them for what a row holds (rowErrorReason), split the batch
   * in halves until the refused rows are alone, store every other row, and dead-letter the refused ones:
   * one bad event never holds back its batch, its partition or any other tenant. A batch with k bad rows
   * costs about 2k log2(n) extra statements, and only when there is one.
   */
  async function insertIsolating(events: HeliosEvent[]): Promise<number> {
    try {
      return await insertWithRetry(events);
    } catch (err) {
      const reason = rowErrorReason(err);
      if (reason === undefined) throw err;
      if (events.length === 1) {
        await deadLetter({ event: events[0]!, reason, error: err instanceof Error ? err.message : String(err) });
        return 0;
      }
      const half = events.length >>> 1;
      return (await insertIsolating(events.slice(0, half))) + (await insertIsolating(events.slice(half)));
    }
  }

  async function deadLetter(letter: DeadLetter): Promise<void> {
    options.logger?.error({ eventId: letter.event.id, tenant: letter.event.tenant, service: letter.event.service, reason: letter.reason, error: letter.error }, 'store refused an event; dead-lettered');
    await withRetry(1, () => options.store.insertDeadLetters([letter]));
    // The table holds the letter durably; a copy the topic refuses must not hold back the partition again.
    if (options.onDeadLetter !== undefined) {
      await options.onDeadLetter(letter).catch((err: unknown) => options.logger?.error({ err, eventId: letter.event.id }, 'dead letter kept in the store, not published to the dead-letter topic'));
    }
    metrics?.deadLetters.inc({ reason: letter.reason });
  }

  async function flushAll(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    while (buffer.length > 0) {
      const batch = takeBatch();
      const waiters = spaceWaiters;
      spaceWaiters = [];
      for (const w of waiters) w();
      const events = batch.length === 1 ? (batch[0]!.events as HeliosEvent[]) : batch.flatMap((p) => p.events);
      try {
        const inserted = await insertIsolating(events);
        options.onStored?.(inserted);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
      // Below a full batch, wait for the timer again rather than writing small batches back to back.
      if (bufferedEvents < options.batchSize && !closed) break;
    }
    if (buffer.length > 0) armTimer();
  }

  function startFlush(): Promise<void> {
    flushing ??= flushAll().finally(() => {
      flushing = undefined;
      if (bufferedEvents >= options.batchSize) void startFlush();
    });
    return flushing;
  }

  function armTimer(): void {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void startFlush();
    }, options.flushIntervalMs);
    timer.unref();
  }

  return {
    async write(events) {
      if (closed) throw new HeliosError('HLS_ERR_STORE', 'event writer is closed');
      if (events.length === 0) return;
      while (bufferedEvents > 0 && bufferedEvents + events.length > maxBuffered) {
        await new Promise<void>((resolve) => spaceWaiters.push(resolve));
        if (closed) throw new HeliosError('HLS_ERR_STORE', 'event writer is closed');
      }
      const settled = new Promise<void>((resolve, reject) => buffer.push({ events, resolve, reject }));
      bufferedEvents += events.length;
      if (bufferedEvents >= options.batchSize) void startFlush();
      else armTimer();
      return settled;
    },
    async flush() {
      while (buffer.length > 0 || flushing !== undefined) await (flushing ?? startFlush());
    },
    get unavailableSince() {
      return unavailableSince;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        for (const w of spaceWaiters) w();
        spaceWaiters = [];
        await startFlush();
        while (flushing !== undefined) await flushing;
      })();
      return closing;
    },
  };
}
