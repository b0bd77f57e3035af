import { Worker } from 'node:worker_threads';
import type { HttpTransportOptions, SendOutcome, Transport } from './http-transport.js';

/**
 * The HTTP transport on a worker thread of its own. The export costs the same CPU either way, but an
 * outgoing HTTP request made in the application's thread goes through the same node:http and stream
 * code as the application's own responses and leaves it measurably slower (bench/RESULTS.md, SDK section:
 * ~0.5–1 µs more per served request with ~1 export request per second), so the requests are made where
 * the application's code never runs. Bodies cross as strings; the thread starts with the transport, is
 * idle between exports and does not keep the process alive unless a send is in flight.
 */
export function createThreadTransport(options: HttpTransportOptions): Transport {
  let worker: Worker | undefined;
  let nextId = 0;
  let closed = false;
  const pending = new Map<number, (outcome: SendOutcome) => void>();

  function settleAll(reason: string): void {
    for (const resolve of pending.values()) resolve({ status: 'retryable', retryAfterMs: undefined, reason });
    pending.clear();
  }

  function start(): Worker {
    const thread = new Worker(WORKER_SOURCE, { eval: true, workerData: { options, transportUrl: compiledSibling('http-transport.js').href } });
    thread.unref();
    thread.on('message', (message: { id: number; outcome: SendOutcome }) => {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      if (pending.size === 0) thread.unref();
      resolve?.(message.outcome);
    });
    // A thread that died takes its requests with it: they are retried like a lost connection, on a new thread.
    thread.on('error', (error) => {
      if (worker === thread) worker = undefined;
      settleAll(`export thread failed: ${error.message}`);
    });
    thread.on('exit', () => {
      if (worker === thread) worker = undefined;
      settleAll('export thread exited');
    });
    return thread;
  }

  // Started with the transport, not at the first export: starting a thread (a V8 isolate, node:http,
  // zlib: ~40-70 ms of CPU) belongs with the application's own start-up, not in the middle of serving
  // traffic a second later (same-run bench: ~0.015-0.02 of the throughput ratio, bench/RESULTS.md "SDK").
  worker = start();
  return {
    send(json) {
      if (closed) return Promise.resolve({ status: 'retryable', retryAfterMs: undefined, reason: 'transport closed' });
      const thread = (worker ??= start());
      const id = nextId++;
      return new Promise<SendOutcome>((resolve) => {
        pending.set(id, resolve);
        // Like a socket with a request on it: the process waits for the answer.
        thread.ref();
        thread.postMessage({ id, json });
      });
    },
    close() {
      closed = true;
      settleAll('transport closed');
      void worker?.terminate();
      worker = undefined;
    },
  };
}

/**
 * The thread loads the compiled transport module. Under the test runner this module runs from `src/*.ts`,
 * which a worker thread cannot load; its compiled twin in `dist/` (`tsc -b` runs before the tests) serves.
 */
function compiledSibling(file: string): URL {
  const here = new URL('.', import.meta.url);
  return here.pathname.endsWith('/src/') ? new URL(`../dist/${file}`, here) : new URL(`./${file}`, here);
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.transportUrl).then(({ createHttpTransport }) => {
  const transport = createHttpTransport(workerData.options);
  parentPort.on('message', async ({ id, json }) => {
    parentPort.postMessage({ id, outcome: await transport.send(json) });
  });
});
`;
