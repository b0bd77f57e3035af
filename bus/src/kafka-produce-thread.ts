import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EncodedRecord, ProduceClient, ProduceClientOptions, TopicRecords } from './kafka-producer-client.js';

/**
 * One produce request as it crosses to the producer thread: columns instead of one object per record,
 * and every value in one buffer whose memory is transferred, not copied again by postMessage.
 */
export interface PackedRequest {
  /** Topic of each entry (the bus may pass a topic in several entries) and how many records it has. */
  topics: string[];
  counts: Uint32Array;
  partitions: Int32Array;
  /** Index into `keys`, -1 for a null key. */
  keyIndex: Int32Array;
  keys: Buffer[];
  /** All values back to back; record i's value ends at `ends[i]` (starts where i-1 ended); -1 for a null value. */
  values: Uint8Array;
  ends: Int32Array;
  /** Records bringing their own headers (dead letters): [record index, headers]. */
  headers: Array<[number, Record<string, string>]>;
}

/**
 * Columns of a request's records. Values of one publish sit back to back in one buffer (the bus encodes a
 * publish at once), so runs of adjacent views are copied with one call each, not one per record.
 */
export function packRequest(batches: readonly TopicRecords[]): { request: PackedRequest; transfer: ArrayBuffer[] } {
  let n = 0;
  for (const b of batches) n += b.records.length;
  const topics: string[] = new Array(batches.length);
  const counts = new Uint32Array(batches.length);
  const partitions = new Int32Array(n);
  const keyIndex = new Int32Array(n);
  const ends = new Int32Array(n);
  const keys: Buffer[] = [];
  const keyIds = new Map<Buffer, number>();
  const headers: Array<[number, Record<string, string>]> = [];
  /** Runs of adjacent value bytes: [buffer, start, end] flattened. */
  const runs: Array<Uint8Array | number> = [];
  let runBuffer: ArrayBufferLike | undefined;
  let runOwner: Uint8Array | undefined;
  let runStart = 0;
  let runEnd = 0;
  let total = 0;
  let at = 0;
  for (let b = 0; b < batches.length; b++) {
    const { topic, records } = batches[b]!;
    topics[b] = topic;
    counts[b] = records.length;
    for (let i = 0; i < records.length; i++, at++) {
      const r: EncodedRecord = records[i]!;
      partitions[at] = r.partition;
      if (r.key === null) keyIndex[at] = -1;
      else {
        let id = keyIds.get(r.key);
        if (id === undefined) {
          id = keys.length;
          keys.push(r.key);
          keyIds.set(r.key, id);
        }
        keyIndex[at] = id;
      }
      if (r.headers !== undefined) headers.push([at, r.headers]);
      const v = r.value;
      if (v === null) {
        ends[at] = -1;
        continue;
      }
      if (v.buffer !== runBuffer || v.byteOffset !== runEnd) {
        if (runOwner !== undefined) runs.push(runOwner, runStart, runEnd);
        runBuffer = v.buffer;
        runOwner = v;
        runStart = v.byteOffset;
        runEnd = v.byteOffset;
      }
      runEnd += v.length;
      total += v.length;
      ends[at] = total;
    }
  }
  if (runOwner !== undefined) runs.push(runOwner, runStart, runEnd);
  // Its own ArrayBuffer (not the shared pool), so it can be transferred to the producer thread.
  const values = new Uint8Array(total);
  let to = 0;
  for (let i = 0; i < runs.length; i += 3) {
    const owner = runs[i] as Uint8Array;
    const start = runs[i + 1] as number;
    const end = runs[i + 2] as number;
    values.set(new Uint8Array(owner.buffer, start, end - start), to);
    to += end - start;
  }
  return { request: { topics, counts, partitions, keyIndex, keys, values, ends, headers }, transfer: [values.buffer] };
}

/** The records of a packed request, each value a view of the one transferred buffer. */
export function unpackRequest(request: PackedRequest): TopicRecords[] {
  const values = Buffer.from(request.values.buffer, request.values.byteOffset, request.values.byteLength);
  const keys = request.keys.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength));
  const own = new Map(request.headers);
  const batches: TopicRecords[] = new Array(request.topics.length);
  let at = 0;
  let start = 0;
  for (let b = 0; b < request.topics.length; b++) {
    const count = request.counts[b]!;
    const records: EncodedRecord[] = new Array(count);
    for (let i = 0; i < count; i++, at++) {
      const end = request.ends[at]!;
      const k = request.keyIndex[at]!;
      const value = end < 0 ? null : values.subarray(start, end);
      if (end >= 0) start = end;
      const record: EncodedRecord = { partition: request.partitions[at]!, key: k < 0 ? null : keys[k]!, value, bytes: 0 };
      const headers = own.get(at);
      if (headers !== undefined) record.headers = headers;
      records[i] = record;
    }
    batches[b] = { topic: request.topics[b]!, records };
  }
  return batches;
}

/** Messages to the producer thread. `call` numbers the answer; `producer` names one client there. */
export type ToProducerThread =
  | { op: 'open'; producer: number; options: ProduceClientOptions }
  | { op: 'connect' | 'close'; producer: number; call: number }
  | { op: 'send'; producer: number; call: number; request: PackedRequest };

/** Answers from the producer thread; `error` set when the call failed. */
export interface FromProducerThread {
  call: number;
  error?: { name: string; message: string; code?: string; stack?: string };
}

/** Where the worker's compiled file is: next to this one, or in dist/ when this runs from the TypeScript sources (tests). */
function workerUrl(): URL {
  const here = new URL('./kafka-produce-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL(import.meta.url.replace(/\/src\/bus\/[^/]*$/, '/dist/bus/kafka-produce-worker.js'));
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`kafka producer thread: ${fileURLToPath(built)} is missing (run npx tsc -b core)`);
}

export interface ProduceThread {
  /** A new producer (own producer id and connection) on the thread; same contract as the in-thread clients. */
  client(): ProduceClient;
  /** Stop the thread (after the bus closed its producers). Idempotent. */
  close(): Promise<void>;
}

/**
 * A worker thread that owns the Kafka producers: building record batches, compression, CRCs and socket
 * writes run there, so the gateway's main thread only validates, encodes and queues. The contract of
 * `ProduceClient` holds unchanged across the thread: `send` resolves only when the brokers acknowledged
 * every record with acks=all, so a 2xx still waits for Kafka. If the thread dies, every call in flight
 * rejects (those publishes fail, at least once as before) and the next client starts a new thread.
 */
export function createProduceThread(options: ProduceClientOptions): ProduceThread {
  let worker: Worker | undefined;
  let nextProducer = 0;
  let nextCall = 0;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let closed = false;

  function failAll(err: Error): void {
    const calls = [...pending.values()];
    pending.clear();
    for (const call of calls) call.reject(err);
  }

  function thread(): Worker {
    if (worker !== undefined) return worker;
    const w = new Worker(workerUrl());
    // Held open only while a call waits for its answer: an idle bus does not keep the process alive.
    w.unref();
    w.on('message', (message: FromProducerThread) => {
      const call = pending.get(message.call);
      if (call === undefined) return;
      pending.delete(message.call);
      if (pending.size === 0) w.unref();
      if (message.error === undefined) call.resolve();
      else {
        const err = new Error(message.error.message) as Error & { code?: string };
        err.name = message.error.name;
        if (message.error.code !== undefined) err.code = message.error.code;
        if (message.error.stack !== undefined) err.stack = message.error.stack;
        call.reject(err);
      }
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(new Error(`kafka producer thread failed: ${err.message}`, { cause: err }));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      failAll(new Error(`kafka producer thread exited (code ${code})`));
    });
    worker = w;
    return w;
  }

  function callThread(message: ToProducerThread, transfer?: ArrayBuffer[]): Promise<void> {
    if (closed) return Promise.reject(new Error('kafka producer thread is closed'));
    const w = thread();
    return new Promise<void>((resolve, reject) => {
      pending.set((message as { call: number }).call, { resolve, reject });
      if (pending.size === 1) w.ref();
      w.postMessage(message, transfer);
    });
  }

  return {
    client(): ProduceClient {
      const producer = nextProducer++;
      let opened: Worker | undefined;
      /** Open the producer on the current thread (again after the thread was replaced). */
      const ensureOpen = () => {
        const w = thread();
        if (opened !== w) {
          w.postMessage({ op: 'open', producer, options } satisfies ToProducerThread);
          opened = w;
        }
      };
      return {
        connect() {
          if (closed) return Promise.reject(new Error('kafka producer thread is closed'));
          ensureOpen();
          return callThread({ op: 'connect', producer, call: nextCall++ });
        },
        send(batches) {
          if (closed) return Promise.reject(new Error('kafka producer thread is closed'));
          ensureOpen();
          const { request, transfer } = packRequest(batches);
          return callThread({ op: 'send', producer, call: nextCall++, request }, transfer);
        },
        close() {
          if (closed || opened === undefined || opened !== worker) return Promise.resolve();
          return callThread({ op: 'close', producer, call: nextCall++ });
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      const w = worker;
      worker = undefined;
      failAll(new Error('kafka producer thread is closed'));
      if (w !== undefined) await w.terminate();
    },
  };
}
