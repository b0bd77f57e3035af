import { mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Counter, Gauge, type Registry } from 'prom-client';
import { HeliosError, backoffDelayMs, isHeliosError, sleep, silentLogger, parseEventsBody, normalizeEventBatch, eventRecords, type Logger, type Bus, type BusHandler, type BusRecord, type EventRequestBatch, type SubscribeOptions, type Subscription } from '@helios/core';

export interface SpooledBusOptions {
  /** Folder of the spool segments; created when missing. One process per folder (a pid lock enforces it). */
  dir: string;
  /** Most bytes of unreplayed spool; a publish that would go beyond fails with HLS_ERR_BUS_FULL. */
  maxBytes: number;
  /** Appends arriving within this many ms share one fsync. Default 2. */
  fsyncIntervalMs?: number;
  /** A publish the inner bus has not taken within this time goes to the spool instead. Default 5000. */
  handoffTimeoutMs?: number;
  /** A new segment file is started beyond this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Most records replayed in one inner publish. Default 5000. */
  replayBatchRecords?: number;
  /** Replay backoff while the inner bus fails, doubled up to maxRetryMs. Defaults 200 ms, 5 s. */
  retryMs?: number;
  maxRetryMs?: number;
  logger?: Logger;
  /** Registers helios_spool_bytes and helios_spool_records_total. */
  metrics?: Registry;
}

export interface SpoolStats {
  /** Bytes appended and not yet replayed (what counts against maxBytes). */
  bytes: number;
  /** True while publishes go to the spool (it holds records, or the inner bus is not ready). */
  spooling: boolean;
  /** Records appended since start (each acknowledged only after its fsync). */
  appendedRecords: number;
  /** Records replayed into the inner bus since start (including ones found at start). */
  replayedRecords: number;
}

export interface SpooledBus extends Bus {
  spoolStats(): SpoolStats;
}

/** Frame: u32 LE payload length, u32 LE crc32 of the payload, payload = JSON [topic, records]. */
const FRAME_HEADER_BYTES = 8;
const SEGMENT_SUFFIX = '.spool';
const CURSOR_FILE = 'cursor.json';
const LOCK_FILE = 'lock.pid';
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Free spool space below which a spooling gateway reports not ready (at most a sixteenth of bus.spool.maxBytes). */
const READY_HEADROOM_BYTES = 64 * 1024;

interface Segment {
  seq: number;
  path: string;
  /** Bytes known to be whole frames on disk (fsync'd); the replayer reads only up to here. */
  durableBytes: number;
}

interface PendingAppend {
  frame: Buffer;
  records: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}
const segmentName = (seq: number) => `${String(seq).padStart(16, '0')}${SEGMENT_SUFFIX}`;

function encodeFrame(topic: string, records: readonly BusRecord<unknown>[]): Buffer {
  const payload = Buffer.from(JSON.stringify([topic, records]));
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Whole frames in `buf` from `at`: their decoded content and where each ends. Stops at the first frame
 * that is incomplete or fails its checksum: the torn tail of a crash, never acknowledged (its fsync did not finish).
 */
function readFrames(buf: Buffer, at: number): Array<{ topic: string; records: BusRecord<unknown>[]; end: number }> {
  const frames: Array<{ topic: string; records: BusRecord<unknown>[]; end: number }> = [];
  while (at + FRAME_HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(at);
    const end = at + FRAME_HEADER_BYTES + length;
    if (end > buf.length) break;
    const payload = buf.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) break;
    const [topic, records] = JSON.parse(payload.toString()) as [string, BusRecord<unknown>[]];
    frames.push({ topic, records, end });
    at = end;
  }
  return frames;
}

function takeLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  try {
    const pid = Number(readFileSync(path, 'utf8'));
    if (Number.isInteger(pid) && pid !== process.pid && pid > 0) {
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (alive) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `bus.spool.dir ${dir} is in use by process ${pid}; give every gateway process its own spool folder`);
    }
  } catch (err) {
    if (isHeliosError(err)) throw err;
  }
  writeFileSync(path, String(process.pid));
}

/**
 * A bus decorator that keeps the gateway's promise ("a 2xx is durable") while the inner bus (Kafka) is
 * unreachable: publishes then go to an on-disk spool and resolve only after the fsync that covers them
 * (appends share fsyncs: group commit). A replayer feeds the spool into the inner bus in append order;
 * while the spool holds anything, new publishes are appended behind it, so per-key order holds across
 * an outage. The replay cursor is saved after each replayed batch; after a crash the spool is replayed
 * from the saved cursor at the next start, so a batch may reach the inner bus twice (at least once;
 * consumers dedupe by event id). Only a full spool (maxBytes) refuses: HLS_ERR_BUS_FULL, 429 + Retry-After.
 */
export async function createSpooledBus(inner: Bus, options: SpooledBusOptions): Promise<SpooledBus> {
  const logger = options.logger ?? silentLogger();
  const fsyncIntervalMs = options.fsyncIntervalMs ?? 2;
  const handoffTimeoutMs = options.handoffTimeoutMs ?? 5000;
  const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
  const replayBatchRecords = options.replayBatchRecords ?? 5000;
  const retryMs = options.retryMs ?? 200;
  const maxRetryMs = options.maxRetryMs ?? 5000;
  const { dir, maxBytes } = options;
  /** The largest append the full spool refused since it was last empty: readiness needs room for it. */
  let largestRefusedFrame = 0;

  mkdirSync(dir, { recursive: true });
  takeLock(dir);

  // Recover: every segment's whole frames; the cursor says how far the first one was replayed.
  const segments: Segment[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort()) {
    const path = join(dir, name);
    const content = readFileSync(path);
    const frames = readFrames(content, 0);
    const durableBytes = frames.length === 0 ? 0 : frames[frames.length - 1]!.end;
    if (durableBytes < content.length) logger.warn({ segment: path, bytes: content.length, whole: durableBytes }, 'spool segment has a torn tail (crash during an append that was never acknowledged); ignoring it');
    segments.push({ seq: Number(name.slice(0, -SEGMENT_SUFFIX.length)), path, durableBytes });
  }
  let cursor = { seq: segments[0]?.seq ?? 0, offset: 0 };
  try {
    const saved = JSON.parse(readFileSync(join(dir, CURSOR_FILE), 'utf8')) as { seq: number; offset: number };
    if (segments.some((s) => s.seq === saved.seq)) cursor = saved;
  } catch {
    // No cursor yet: replay from the first segment's start.
  }
  // Segments before the cursor's were replayed completely (a crash came before their deletion).
  while (segments.length > 0 && segments[0]!.seq < cursor.seq) unlinkSync(segments.shift()!.path);
  if (segments.length > 0 && segments[0]!.seq !== cursor.seq) cursor = { seq: segments[0]!.seq, offset: 0 };
  if (segments.length > 0) cursor.offset = Math.min(cursor.offset, segments[0]!.durableBytes);

  const unreplayedBytes = () => segments.reduce((sum, s) => sum + s.durableBytes, 0) - (segments.length > 0 ? cursor.offset : 0);
  let bytes = unreplayedBytes();
  /** Bytes of appends not yet fsync'd; counted against maxBytes from the moment they are accepted. */
  let pendingBytes = 0;
  let nextSeq = (segments[segments.length - 1]?.seq ?? 0) + 1;
  /** Appends go to a fresh segment after a restart, so a torn tail is never written behind. */
  let active: { segment: Segment; handle: FileHandle; size: number } | undefined;
  const pending: PendingAppend[] = [];
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let replayWake: (() => void) | undefined;
  const idleWaiters: Array<() => void> = [];
  const stats: SpoolStats = { bytes, spooling: bytes > 0, appendedRecords: 0, replayedRecords: 0 };

  const spoolBytes = options.metrics === undefined ? undefined : new Gauge({ name: 'helios_spool_bytes', help: 'Bytes in the gateway spool not yet replayed into Kafka', registers: [options.metrics], collect() { this.set(bytes + pendingBytes); } });
  const spoolRecords = options.metrics === undefined ? undefined : new Counter({ name: 'helios_spool_records_total', help: 'Records appended to the gateway spool (fsync\'d before the 2xx) and replayed from it', labelNames: ['outcome'], registers: [options.metrics] });
  void spoolBytes;

  if (bytes > 0) logger.warn({ dir, bytes, segments: segments.length }, 'spool holds records from an earlier run; replaying them');

  const isEmpty = () => bytes === 0 && pendingBytes === 0;

  function wakeReplayer(): void {
    const wake = replayWake;
    replayWake = undefined;
    wake?.();
  }

  function settleIdle(): void {
    if (!isEmpty()) return;
    for (const w of idleWaiters.splice(0)) w();
  }

  async function syncDir(): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending.splice(0);
      const frames = batch.map((p) => p.frame);
      const size = frames.reduce((sum, f) => sum + f.length, 0);
      try {
        if (active === undefined || active.size >= segmentBytes) {
          if (active !== undefined) await active.handle.close();
          const segment: Segment = { seq: nextSeq++, path: '', durableBytes: 0 };
          segment.path = join(dir, segmentName(segment.seq));
          const handle = await open(segment.path, 'a');
          // The new file's directory entry must be durable too, or a crash could lose the whole segment.
          await syncDir();
          segments.push(segment);
          if (segments.length === 1) cursor = { seq: segment.seq, offset: 0 };
          active = { segment, handle, size: 0 };
        }
        await active.handle.writev(frames);
        await active.handle.datasync();
        active.size += size;
        active.segment.durableBytes = active.size;
      } catch (err) {
        pendingBytes -= size;
        logger.error({ err, dir }, 'spool append failed');
        for (const p of batch) p.reject(new HeliosError('HLS_ERR_BUS_CLOSED', `the spool could not write: ${(err as Error).message}`, { cause: err }));
        // The segment may now end in a torn frame: later appends go to a fresh one.
        await active?.handle.close().catch(() => undefined);
        active = undefined;
        continue;
      }
      pendingBytes -= size;
      bytes += size;
      let records = 0;
      for (const p of batch) {
        records += p.records;
        p.resolve();
      }
      stats.appendedRecords += records;
      spoolRecords?.inc({ outcome: 'appended' }, records);
      wakeReplayer();
    }
  }

  function scheduleFlush(): void {
    if (flushing !== undefined || flushTimer !== undefined) return;
    const start = () => {
      flushTimer = undefined;
      flushing = flush().finally(() => {
        flushing = undefined;
        if (pending.length > 0) scheduleFlush();
      });
    };
    if (fsyncIntervalMs === 0) start();
    else flushTimer = setTimeout(start, fsyncIntervalMs);
  }

  function append(topic: string, records: readonly BusRecord<unknown>[]): Promise<void> {
    const frame = encodeFrame(topic, records);
    if (bytes + pendingBytes + frame.length > maxBytes) {
      largestRefusedFrame = Math.max(largestRefusedFrame, frame.length);
      return Promise.reject(new HeliosError('HLS_ERR_BUS_FULL', `the spool holds ${bytes + pendingBytes} bytes (bus.spool.maxBytes ${maxBytes}) while the bus is unavailable`));
    }
    pendingBytes += frame.length;
    return new Promise<void>((resolve, reject) => {
      pending.push({ frame, records: records.length, resolve, reject });
      scheduleFlush();
    });
  }

  async function saveCursor(): Promise<void> {
    // Not fsync'd: a cursor lost in a crash only means replaying a batch again (consumers dedupe).
    writeFileSync(join(dir, CURSOR_FILE), JSON.stringify(cursor));
  }

  /** After the last segment is replayed entirely: remove the files so the disk use returns to zero. */
  async function resetWhenReplayed(): Promise<void> {
    if (bytes !== 0 || pendingBytes !== 0 || flushing !== undefined) return;
    largestRefusedFrame = 0;
    if (active !== undefined) {
      await active.handle.close().catch(() => undefined);
      active = undefined;
    }
    // A flush may have started while the handle closed; its segment is then the newest and kept.
    if (pendingBytes !== 0 || flushing !== undefined) return;
    for (const s of segments.splice(0)) unlinkSync(s.path);
    cursor = { seq: nextSeq, offset: 0 };
    await saveCursor();
  }

  async function replayOnce(): Promise<boolean> {
    const segment = segments[0];
    if (segment === undefined || cursor.offset >= segment.durableBytes) {
      if (segment !== undefined && segments.length > 1) {
        // Fully replayed and no longer the append target.
        unlinkSync(segments.shift()!.path);
        cursor = { seq: segments[0]!.seq, offset: 0 };
        await saveCursor();
        return true;
      }
      return false;
    }
    const handle = await open(segment.path, 'r');
    let buf: Buffer;
    try {
      let length = Math.min(READ_CHUNK_BYTES, segment.durableBytes - cursor.offset);
      buf = Buffer.allocUnsafe(length);
      await handle.read(buf, 0, length, cursor.offset);
      const first = buf.readUInt32LE(0) + FRAME_HEADER_BYTES;
      if (first > length) {
        // One frame larger than the read chunk: read exactly that frame.
        length = first;
        buf = Buffer.allocUnsafe(length);
        await handle.read(buf, 0, length, cursor.offset);
      }
    } finally {
      await handle.close();
    }
    const base = cursor.offset;
    const frames = readFrames(buf, 0);
    if (frames.length === 0) throw new Error(`spool segment ${segment.path} has an unreadable frame at ${cursor.offset} below its durable size`);
    // Consecutive frames of one topic go out in one publish, in order.
    let i = 0;
    while (i < frames.length) {
      const topic = frames[i]!.topic;
      const records: BusRecord<unknown>[] = [];
      let j = i;
      while (j < frames.length && frames[j]!.topic === topic && (records.length === 0 || records.length + frames[j]!.records.length <= replayBatchRecords)) {
        records.push(...frames[j]!.records);
        j++;
      }
      await inner.publish(topic, records);
      // Frame ends are relative to the buffer, which starts at the cursor as it was when read.
      const offset = base + frames[j - 1]!.end;
      bytes -= offset - cursor.offset;
      cursor = { seq: segment.seq, offset };
      stats.replayedRecords += records.length;
      spoolRecords?.inc({ outcome: 'replayed' }, records.length);
      await saveCursor();
      i = j;
    }
    return true;
  }

  const replayer = (async () => {
    let failures = 0;
    while (!closed) {
      if (bytes === 0) {
        await resetWhenReplayed();
        settleIdle();
        if (closed) break;
        await new Promise<void>((resolve) => (replayWake = resolve));
        continue;
      }
      if (!inner.isReady()) {
        await sleep(retryMs);
        continue;
      }
      try {
        await replayOnce();
        if (failures > 0) logger.info({ dir, bytes }, 'spool replay resumed');
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) logger.warn({ err, dir, bytes, failures }, 'spool replay failed; retrying');
        await sleep(backoffDelayMs(failures, { initialMs: retryMs, maxMs: maxRetryMs }));
      }
    }
  })();

  /** While true, publishes go behind what the spool holds (so per-key order holds across an outage). */
  const spoolingNow = () => !isEmpty() || !inner.isReady();

  /**
   * Wait for the inner bus to take a publish (`handed`); if it fails or does not take it in time, spool
   * `records()` instead.
   */
  async function handOff(topic: string, records: () => readonly BusRecord<unknown>[], handed: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), handoffTimeoutMs)));
    try {
      const outcome = await Promise.race([handed.then(() => 'published' as const), timedOut]);
      if (outcome === 'published') return;
      // The inner bus may still take these later: then they arrive twice, which consumers absorb.
      handed.catch(() => undefined);
      logger.warn({ topic, handoffTimeoutMs }, 'bus did not take the records in time; spooling them');
    } catch (err) {
      if (isHeliosError(err, 'HLS_ERR_BODY_TOO_LARGE') || closed) throw err;
      logger.warn({ err, topic }, 'bus publish failed; spooling the records');
    } finally {
      clearTimeout(timer);
    }
    return append(topic, records());
  }

  const bus: SpooledBus = {
    kind: inner.kind,
    async publish<T>(topic: string, records: readonly BusRecord<T>[]) {
      if (closed) throw new HeliosError('HLS_ERR_BUS_CLOSED');
      if (records.length === 0) return;
      if (spoolingNow()) return append(topic, records);
      return handOff(topic, () => records, inner.publish(topic, records));
    },
    // Not async, and the events are not kept while the inner bus takes the request: should it fail, they
    // are read again from the request's bytes (same parse, same ids), as Kafka consumers read them. Events
    // held across a Kafka round trip outlive the young generation (see the gateway's countWhenPublished).
    publishEvents(topic: string, batch: EventRequestBatch): Promise<void> {
      if (closed) return Promise.reject(new HeliosError('HLS_ERR_BUS_CLOSED'));
      if (batch.events.length === 0) return Promise.resolve();
      // Spooled, a request's events are written one by one: the request bytes only pay on the fast path.
      if (spoolingNow()) return append(topic, eventRecords(batch.events));
      const { body, kind, tenant, receivedAt, idBase } = batch;
      const again = () => eventRecords(normalizeEventBatch(parseEventsBody(body, kind, Number.POSITIVE_INFINITY), { tenant, now: receivedAt, idBase }));
      return handOff(topic, again, inner.publishEvents === undefined ? inner.publish(topic, eventRecords(batch.events)) : inner.publishEvents(topic, batch));
    },
    subscribe<T>(topic: string, group: string, handler: BusHandler<T>, subscribeOptions?: SubscribeOptions): Subscription {
      return inner.subscribe(topic, group, handler, subscribeOptions);
    },
    // While spooling, the gateway is still ready: it accepts until the spool is full. Spooling lasts
    // until the spool is replayed (not just until the inner bus is back), and a spool without room for
    // the last refused record, or for READY_HEADROOM_BYTES, refuses requests: not ready then.
    isReady: () => bus.notReadyReason!() === undefined,
    notReadyReason() {
      if (closed) return 'closed';
      if (!spoolingNow()) return undefined;
      const free = maxBytes - bytes - pendingBytes;
      if (free < Math.max(Math.min(READY_HEADROOM_BYTES, Math.floor(maxBytes / 16)), largestRefusedFrame)) return `the spool is full (${bytes + pendingBytes} of bus.spool.maxBytes ${maxBytes} bytes) while ${inner.isReady() ? 'it replays into the bus' : `the bus is unavailable${inner.notReadyReason?.() === undefined ? '' : `: ${inner.notReadyReason()}`}`}`;
      return undefined;
    },
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      if (!isEmpty()) {
        const emptied = new Promise<void>((resolve) => idleWaiters.push(resolve));
        wakeReplayer();
        await Promise.race([emptied, sleep(timeoutMs)]);
        if (!isEmpty()) return false;
      }
      return inner.drain(Math.max(0, deadline - Date.now()));
    },
    spoolStats: () => ({ ...stats, bytes: bytes + pendingBytes, spooling: !isEmpty() || !inner.isReady() }),
    close(timeoutMs = 30_000) {
      closing ??= (async () => {
        // Replay what the inner bus can take now; the rest stays on disk for the next start.
        if (!isEmpty() && inner.isReady()) await bus.drain(timeoutMs);
        closed = true;
        if (flushTimer !== undefined) {
          clearTimeout(flushTimer);
          flushTimer = undefined;
          flushing = flush();
        }
        await flushing;
        wakeReplayer();
        await replayer;
        await active?.handle.close().catch(() => undefined);
        active = undefined;
        try {
          unlinkSync(join(dir, LOCK_FILE));
        } catch {
          // Already gone.
        }
        await inner.close(timeoutMs);
      })();
      return closing;
    },
  };
  return bus;
}
