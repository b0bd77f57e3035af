import { HeliosError, attemptOf, retry, sleep, type BackoffPolicy, type Logger, type Bus, type BusHandler, type BusRecord, type SubscribeOptions, type Subscription } from '@helios/core';

export interface MemoryBusOptions {
  /** Most records per topic not yet consumed by every group; publishes beyond it fail with HLS_ERR_BUS_FULL. */
  capacity: number;
  logger?: Logger;
  /** Backoff after a handler error, doubled per retry up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

interface Group {
  name: string;
  /** Absolute offset of the next record to hand out. */
  cursor: number;
  closed: boolean;
  loop: Promise<void>;
}

/**
 * One topic's retained log: records between the slowest group's cursor and the end. Groups that join
 * later start from the oldest retained record (like Kafka's auto.offset.reset=earliest), so events
 * published before a consumer starts are not lost.
 */
class TopicLog {
  records: BusRecord<unknown>[] = [];
  /** Absolute offset of records[0]. */
  base = 0;
  readonly groups = new Map<string, Group>();
  private waiters: Array<() => void> = [];

  get end(): number {
    return this.base + this.records.length;
  }

  unconsumed(): number {
    return this.end - this.trimPoint();
  }

  private trimPoint(): number {
    let min = this.end;
    for (const g of this.groups.values()) if (!g.closed && g.cursor < min) min = g.cursor;
    return this.groups.size === 0 ? this.base : min;
  }

  append(records: readonly BusRecord<unknown>[]): void {
    for (const r of records) this.records.push(r);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Drop records every group has consumed; amortized so the array is not shifted per batch. */
  trim(): void {
    const drop = this.trimPoint() - this.base;
    if (drop > 1024 && drop * 2 > this.records.length) {
      this.records = this.records.slice(drop);
      this.base += drop;
    }
  }

  waitForRecords(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wakeAll(): void {
    this.append([]);
  }
}

/** The in-process bus, which also says how many records of a topic every group has yet to consume. */
export interface MemoryBus extends Bus {
  unconsumed(topic: string): number;
}

/** The embedded default: bounded, in process, no persistence (a crash loses what consumers had not finished). */
export function createMemoryBus(options: MemoryBusOptions): MemoryBus {
  const topics = new Map<string, TopicLog>();
  const retryPolicy: BackoffPolicy = { initialMs: options.retryMs ?? 50, maxMs: options.maxRetryMs ?? 5000 };
  let closed = false;
  let closing: Promise<void> | undefined;

  const topicLog = (topic: string) => {
    let log = topics.get(topic);
    if (log === undefined) topics.set(topic, (log = new TopicLog()));
    return log;
  };

  async function consume<T>(log: TopicLog, group: Group, handler: BusHandler<T>, maxBatch: number): Promise<void> {
    while (!group.closed) {
      if (group.cursor >= log.end) {
        await log.waitForRecords();
        continue;
      }
      const start = group.cursor - log.base;
      const batch = log.records.slice(start, start + maxBatch) as BusRecord<T>[];
      // At-least-once: the batch is retried until it is handled, never skipped. Handlers own poison records.
      const outcome = await retry(() => attemptOf(() => handler(batch)), {
        policy: retryPolicy,
        shouldStop: () => group.closed,
        onRetry: ({ attempt, error }) => options.logger?.error({ err: error, group: group.name, records: batch.length, failures: attempt }, 'bus handler failed; retrying batch'),
      });
      if (outcome.status !== 'success') continue; // closed while retrying
      group.cursor += batch.length;
      log.trim();
    }
  }

  function publishSync<T>(topic: string, records: readonly BusRecord<T>[]): void {
    if (closed) throw new HeliosError('HLS_ERR_BUS_CLOSED');
    if (records.length === 0) return;
    const log = topicLog(topic);
    if (log.unconsumed() + records.length > options.capacity) {
      throw new HeliosError('HLS_ERR_BUS_FULL', `topic ${topic} holds ${log.unconsumed()} unconsumed records (capacity ${options.capacity})`);
    }
    log.append(records);
  }

  const bus: MemoryBus = {
    kind: 'memory',
    unconsumed: (topic) => topics.get(topic)?.unconsumed() ?? 0,
    async publish<T>(topic: string, records: readonly BusRecord<T>[]) {
      publishSync(topic, records);
    },
    subscribe<T>(topic: string, groupName: string, handler: BusHandler<T>, subscribeOptions?: SubscribeOptions): Subscription {
      const log = topicLog(topic);
      if (log.groups.has(groupName)) throw new Error(`group ${groupName} already consumes ${topic} in this process`);
      const group: Group = { name: groupName, cursor: log.base, closed: false, loop: Promise.resolve() };
      log.groups.set(groupName, group);
      group.loop = consume(log, group, handler, subscribeOptions?.maxBatch ?? 1000);
      return {
        async close() {
          group.closed = true;
          log.wakeAll();
          await group.loop;
          log.groups.delete(groupName);
        },
      };
    },
    // A full topic refuses every publish: not ready until consumers make room.
    isReady: () => bus.notReadyReason!() === undefined,
    notReadyReason() {
      if (closed) return 'closed';
      for (const [topic, log] of topics) if (log.unconsumed() >= options.capacity) return `topic ${topic} is full (${log.unconsumed()} unconsumed records, bus.capacity ${options.capacity})`;
      return undefined;
    },
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let pending = false;
        for (const log of topics.values()) for (const g of log.groups.values()) if (!g.closed && g.cursor < log.end) pending = true;
        if (!pending) return true;
        if (Date.now() >= deadline) return false;
        await sleep(5);
      }
    },
    close(timeoutMs = 30_000) {
      closing ??= (async () => {
        // Drain before refusing publishes: stages behind the bus publish too (events -> anomalies).
        // The owner stops the gateway first, so nothing new arrives from outside meanwhile.
        await bus.drain(timeoutMs);
        closed = true;
        for (const log of topics.values()) {
          for (const g of log.groups.values()) g.closed = true;
          log.wakeAll();
          await Promise.all([...log.groups.values()].map((g) => g.loop));
        }
      })();
      return closing;
    },
  };
  // Not enumerable: a wrapper built as `{ ...bus, publish }` must not inherit a publishSync that skips its publish.
  Object.defineProperty(bus, 'publishSync', { value: publishSync, enumerable: false });
  return bus;
}
