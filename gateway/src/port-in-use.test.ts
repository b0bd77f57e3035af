import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.fixture.js';

const started: Harness[] = [];
const start = async (...args: Parameters<typeof startHarness>) => {
  const h = await startHarness(...args);
  started.push(h);
  return h;
};
afterEach(async () => {
  for (const h of started.splice(0)) await h.gateway.stop();
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'started', (err: { code?: string }) => err.code ?? String(err));

// A second Helios on a port already in use must not start: with SO_REUSEPORT (uWS's default) it would
// take half of the connections into its own, separate store.
describe.each(['uws', 'node'] as const)('a busy port over %s', (transport) => {
  it.each(['uws', 'node'] as const)('is refused with HLS_ERR_PORT_IN_USE when a %s gateway holds it', async (first) => {
    const holder = await start(first);
    expect(await codeOf(start(transport, { port: holder.port }))).toBe('HLS_ERR_PORT_IN_USE');
    // The first one still answers: nothing was shared.
    expect((await fetch(`${holder.url}/healthz`)).status).toBe(200);
  });

  it('is refused when another program listens there', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await codeOf(start(transport, { port }))).toBe('HLS_ERR_PORT_IN_USE');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('gateway.reusePort', () => {
  it('lets two uWS gateways share a port only when both ask for it', async () => {
    // A named port: the kernel does not let a second socket join one it picked for port 0.
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as { port: number }).port;
    await new Promise((resolve) => free.close(resolve));
    const a = await start('uws', { reusePort: true, port });
    const b = await start('uws', { reusePort: true, port: a.port });
    expect(b.port).toBe(a.port);
    expect(await codeOf(start('uws', { port: a.port }))).toBe('HLS_ERR_PORT_IN_USE');
  });
});
