/**
 * Load generator thread of the OTLP/gRPC vs OTLP/HTTP bench: `concurrency` callers each send the same
 * protobuf ExportTraceServiceRequest back to back for `seconds`, over OTLP/HTTP (undici, keep-alive) or
 * OTLP/gRPC (grpc-js, one HTTP/2 connection per caller), and report how many calls were answered OK. Runs in a
 * worker thread so the gateway's event loop is not shared with the client's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { Pool } from 'undici';

export interface LoadOrder {
  protocol: 'http' | 'grpc';
  port: number;
  body: Uint8Array;
  concurrency: number;
  seconds: number;
}

export interface LoadOutcome {
  ok: number;
  failed: number;
  seconds: number;
}

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

async function run(order: LoadOrder): Promise<LoadOutcome> {
  const body = Buffer.from(order.body);
  let ok = 0;
  let failed = 0;
  const until = performance.now() + order.seconds * 1000;
  let send: () => Promise<boolean>;
  let close: () => Promise<void>;
  if (order.protocol === 'http') {
    const pool = new Pool(`http://127.0.0.1:${order.port}`, { connections: order.concurrency, pipelining: 1 });
    send = async () => {
      const res = await pool.request({ path: '/v1/traces', method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      await res.body.dump();
      return res.statusCode === 200;
    };
    close = () => pool.close();
  } else {
    // One connection per caller, as the HTTP pool has: exporters in different processes do not share one.
    const clients = Array.from({ length: order.concurrency }, () => new Client(`127.0.0.1:${order.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    const identity = (b: Buffer) => b;
    let next = 0;
    send = () => {
      const client = clients[next++ % clients.length]!;
      return new Promise<boolean>((resolve) => client.makeUnaryRequest(TRACE_EXPORT, identity, identity, body, new Metadata(), {}, (err) => resolve(err === null)));
    };
    close = async () => clients.forEach((c) => c.close());
  }
  const started = performance.now();
  await Promise.all(
    Array.from({ length: order.concurrency }, async () => {
      while (performance.now() < until) {
        if (await send()) ok++;
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await close();
  return { ok, failed, seconds };
}

run(workerData as LoadOrder).then((outcome) => parentPort!.postMessage(outcome));
