import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { postEvents } from './traffic.js';

/** A stand-in gateway answering each POST with the next scripted status (Retry-After: 0 on 429/503, so tests do not wait). */
async function scriptedGateway(statuses: number[]): Promise<{ url: string; bodies: string[]; server: Server }> {
  const bodies: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      const status = statuses[bodies.length - 1] ?? 202;
      res.writeHead(status, status === 429 || status === 503 ? { 'retry-after': '0' } : {});
      res.end(JSON.stringify({ error: { code: `status ${status}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
}

describe('postEvents (the demo, helios simulate and the e2e tests send with it)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('waits out backpressure (429, 503) and sends the same body again until it is taken; other statuses fail at once', async () => {
    const backpressure = fc.constantFrom(429, 503);
    await fc.assert(fc.asyncProperty(fc.array(backpressure, { maxLength: 5 }), fc.option(fc.constantFrom(400, 401, 413, 500)), async (waits, refusal) => {
      const gw = await scriptedGateway([...waits, refusal ?? 202]);
      servers.push(gw.server);
      const events = [{ service: 'checkout', message: `after ${waits.length} waits` }];
      const sent = postEvents(gw.url, events, undefined, 10);
      if (refusal === null) await expect(sent).resolves.toBeUndefined();
      else await expect(sent).rejects.toMatchObject({ code: 'HLS_ERR_USAGE', message: expect.stringContaining(`answered ${refusal}`) });
      expect(gw.bodies).toHaveLength(waits.length + 1);
      expect(new Set(gw.bodies)).toEqual(new Set([JSON.stringify(events)]));
    }), { numRuns: 25 });
  });

  it('gives up, naming the status, when backpressure outlasts its attempts', async () => {
    const gw = await scriptedGateway([429, 429, 429, 429]);
    servers.push(gw.server);
    await expect(postEvents(gw.url, [{ service: 'checkout' }], undefined, 3)).rejects.toMatchObject({ code: 'HLS_ERR_USAGE', message: expect.stringContaining('answered 429') });
    expect(gw.bodies).toHaveLength(3);
  });
});
