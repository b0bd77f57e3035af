import { afterEach, describe, expect, it, vi } from 'vitest';
import { createThreadTransport } from '../src/thread-transport.js';
import type { HttpTransportOptions, Transport } from '../src/http-transport.js';
import { FakeGateway } from './fake-gateway.js';

// Counts the threads the transport starts (the real Worker underneath).
const threads = vi.hoisted(() => ({ started: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>();
  class CountedWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args);
      threads.started++;
    }
  }
  return { ...actual, Worker: CountedWorker };
});

const options = (url: string): HttpTransportOptions => ({ url: `${url}/api/v1/events`, apiKey: 'k1', compression: 'gzip', timeoutMs: 2000, userAgent: 'helios-test' });

describe('export on a worker thread', () => {
  let gateway: FakeGateway | undefined;
  let transport: Transport | undefined;
  afterEach(async () => {
    transport?.close();
    await gateway?.stop();
  });

  it('delivers bodies with the same request and outcomes as the in-thread transport', async () => {
    gateway = await new FakeGateway().start();
    transport = createThreadTransport(options(gateway.url));
    const body = JSON.stringify([{ id: 'a', service: 'checkout' }, { id: 'b', service: 'checkout' }]);
    await expect(transport.send(body)).resolves.toEqual({ status: 'success' });
    expect(gateway.requests).toHaveLength(1);
    expect(gateway.requests[0]!.headers['authorization']).toBe('Bearer k1');
    expect(gateway.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(gateway.accepted.map((e) => e['id'])).toEqual(['a', 'b']);

    gateway.mode = { kind: 'status', status: 429, retryAfter: '3' };
    await expect(transport.send(body)).resolves.toMatchObject({ status: 'retryable', retryAfterMs: 3000 });
    gateway.mode = { kind: 'status', status: 400 };
    await expect(transport.send(body)).resolves.toMatchObject({ status: 'failure', httpStatus: 400 });
  });

  it('starts its thread with the transport, not at the first export, and keeps using it', async () => {
    gateway = await new FakeGateway().start();
    const before = threads.started;
    transport = createThreadTransport(options(gateway.url));
    // Thread start-up belongs with the application's start-up, not in the middle of serving traffic.
    expect(threads.started - before).toBe(1);
    await expect(transport.send('[{"id":"a"}]')).resolves.toEqual({ status: 'success' });
    await expect(transport.send('[{"id":"b"}]')).resolves.toEqual({ status: 'success' });
    expect(threads.started - before).toBe(1);
    expect(gateway.accepted.map((e) => e['id'])).toEqual(['a', 'b']);
  });

  it('answers retryable when the gateway is down, and after close', async () => {
    gateway = await new FakeGateway().start();
    const url = gateway.url;
    await gateway.stop();
    transport = createThreadTransport(options(url));
    await expect(transport.send('[]')).resolves.toMatchObject({ status: 'retryable' });
    transport.close();
    await expect(transport.send('[]')).resolves.toEqual({ status: 'retryable', retryAfterMs: undefined, reason: 'transport closed' });
  });
});
