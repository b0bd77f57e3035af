import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { HeliosError } from '@helios/core';
import { prepareRequests, type LoadOptions, type LoadProgress, type LoadReport } from './loadgen.js';

/**
 * `helios loadgen`'s runner, with no dependency: each connection is a keep-alive socket that writes
 * prebuilt HTTP/1.1 requests (head and body in one buffer, rotating through the distinct bodies) with up
 * to `pipelining` in flight, and reads the answers in order (status line, Content-Length or chunked
 * body). At a fixed rate a shared clock hands out send slots; latency runs from a request's write to the
 * end of its answer. A connection that fails counts its requests in flight as errors and reconnects;
 * a connection attempt that fails counts as one error.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HeliosError('HLS_ERR_CONFIG_INVALID', `loadgen: --url must be http:// or https://, got ${options.url}`);
  const prepared = prepareRequests(options);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const headLines = Object.entries(prepared.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const requests = prepared.bodies.map((body) =>
    Buffer.concat([Buffer.from(`POST ${prepared.path} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n${headLines}content-length: ${body.byteLength}\r\n\r\n`), body]),
  );
  const pipelining = Math.max(1, options.pipelining ?? 1);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const progress: LoadProgress = { elapsedSeconds: 0, requests: 0, accepted: 0, failed: 0 };
  let errors = 0;
  let next = 0;
  let running = true;
  const started = performance.now();
  /** Send slots left at a fixed rate (refilled by the clock); unlimited when rate is 0. */
  let slots = options.rate > 0 ? 0 : Infinity;
  const waiting = new Set<() => void>();

  function answered(status: number, sentAt: number): void {
    latencies.push(performance.now() - sentAt);
    statuses[status] = (statuses[status] ?? 0) + 1;
    progress.requests++;
    if (status >= 200 && status < 300) progress.accepted++;
    else progress.failed++;
  }

  function connection(): Promise<void> {
    return new Promise<void>((done) => {
      const sentAt: number[] = [];
      let buffered: Buffer = Buffer.alloc(0);
      let socket: Socket;
      let connected = false;
      const open = () => {
        connected = false;
        socket = url.protocol === 'https:' ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
        socket.setNoDelay(true);
        socket.on(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
          connected = true;
          fill();
        });
        socket.on('data', (chunk: Buffer) => {
          buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
          for (let used = readAnswer(); used > 0; used = readAnswer()) buffered = buffered.subarray(used);
          fill();
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          // A connection that never opened is an error of its own; requests in flight on a closed one got no answer.
          if (!connected) errors++;
          errors += sentAt.length;
          progress.requests += sentAt.length;
          progress.failed += sentAt.length;
          sentAt.length = 0;
          buffered = Buffer.alloc(0);
          if (running) setTimeout(open, 10).unref();
          else done();
        });
      };
      /** Bytes of one complete answer at the front of `buffered` (and record it), or 0 if it is not all there. */
      const readAnswer = (): number => {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return 0;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        const status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        let end: number;
        if (length !== null) {
          end = headEnd + 4 + Number(length[1]);
          if (buffered.length < end) return 0;
        } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          const last = buffered.indexOf('0\r\n\r\n', headEnd + 4);
          if (last < 0) return 0;
          end = last + 5;
        } else {
          end = headEnd + 4;
        }
        answered(status, sentAt.shift() ?? performance.now());
        return end;
      };
      const fill = () => {
        if (!running || socket.connecting || socket.destroyed) {
          if (!running && sentAt.length === 0) socket.end();
          return;
        }
        while (sentAt.length < pipelining && slots > 0) {
          slots--;
          sentAt.push(performance.now());
          socket.write(requests[next++ % requests.length]!);
        }
        if (sentAt.length < pipelining) waiting.add(fill);
      };
      open();
    });
  }

  const refill = options.rate > 0
    ? setInterval(() => {
        // Slots for the time passed since the start, minus those handed out: a late tick catches up.
        const due = Math.floor(((performance.now() - started) / 1000) * options.rate);
        slots = due - next;
        for (const wake of [...waiting]) {
          waiting.delete(wake);
          wake();
        }
      }, 5)
    : undefined;
  const tick = setInterval(() => {
    progress.elapsedSeconds++;
    options.onProgress?.({ ...progress });
  }, 1000);
  const connections = Array.from({ length: options.connections }, connection);
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  running = false;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(refill);
  clearInterval(tick);
  // Stop sending; give answers in flight a moment, then close what is left.
  slots = 0;
  for (const wake of [...waiting]) wake();
  await Promise.race([Promise.all(connections), new Promise((resolve) => setTimeout(resolve, 2000))]);

  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length === 0 ? 0 : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10);
  const total = progress.requests;
  const accepted = progress.accepted;
  return {
    format: options.format,
    requests: total,
    events: total * options.batchSize,
    seconds,
    requestsPerSecond: total / seconds,
    eventsPerSecond: (total * options.batchSize) / seconds,
    acceptedEventsPerSecond: (accepted * options.batchSize) / seconds,
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.length === 0 ? 0 : Math.round(latencies[latencies.length - 1]! * 10) / 10 },
    errors,
    statuses,
  };
}
