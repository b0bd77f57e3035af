import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { createHeliosClient, type HeliosClient } from '../src/index.js';
import { heliosExpress, heliosExpressErrors } from '../src/middleware/express.js';
import { heliosFastify } from '../src/middleware/fastify.js';
import { routeFromPath, setRoute, withHelios } from '../src/middleware/http.js';
import { FakeGateway } from './fake-gateway.js';

let g: FakeGateway;
const servers: http.Server[] = [];
const clients: HeliosClient[] = [];

beforeAll(async () => {
  g = await new FakeGateway().start();
  return () => g.stop();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  g.requests.length = 0;
});

function client(): HeliosClient {
  const c = createHeliosClient({ service: 'shop', endpoint: g.url, onDiagnostic: () => {} });
  clients.push(c);
  return c;
}

async function listen(server: http.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The request events the middleware recorded, as [endpoint, status, level, error_code]. */
async function recorded(helios: HeliosClient, count: number): Promise<Array<[unknown, unknown, unknown, unknown]>> {
  // Events are recorded when the response closes, which can trail the client seeing the body.
  for (let i = 0; i < 200 && helios.stats().enqueued < count; i++) await new Promise((r) => setTimeout(r, 5));
  await helios.flush();
  for (const e of g.accepted) {
    expect(e['kind']).toBe('span');
    expect(typeof e['latency_ms']).toBe('number');
    expect(e['latency_ms'] as number).toBeGreaterThanOrEqual(0);
  }
  return g.accepted.map((e) => [e['endpoint'], e['status_code'], e['level'], e['error_code']]);
}

describe('Express middleware', () => {
  it('records the route template joined with the router mount path, status and errors', async () => {
    const helios = client();
    const app = express();
    app.use(heliosExpress(helios));
    const api = express.Router();
    api.get('/users/:id', (req, res) => { res.json({ id: req.params.id }); });
    api.get('/boom', () => { throw Object.assign(new Error('db timed out'), { code: 'DB_TIMEOUT' }); });
    app.use('/api', api);
    app.get('/', (_req, res) => { res.send('home'); });
    app.use(heliosExpressErrors());
    const base = await listen(http.createServer(app));

    expect((await fetch(`${base}/api/users/42`)).status).toBe(200);
    expect((await fetch(`${base}/api/users/43?x=1`)).status).toBe(200);
    expect((await fetch(`${base}/api/boom`)).status).toBe(500);
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await fetch(`${base}/nope/123`)).status).toBe(404);

    expect(await recorded(helios, 5)).toEqual([
      ['/api/users/:id', 200, 'INFO', undefined],
      ['/api/users/:id', 200, 'INFO', undefined],
      ['/api/boom', 500, 'ERROR', 'DB_TIMEOUT'],
      ['/', 200, 'INFO', undefined],
      ['(unmatched)', 404, 'INFO', undefined],
    ]);
    expect(g.accepted[0]).toMatchObject({ message: 'GET /api/users/:id' });
  });
});

describe('Fastify plugin', () => {
  it('records request.routeOptions.url, status, latency and the thrown error code', async () => {
    const helios = client();
    const app = Fastify();
    await app.register(heliosFastify, { client: helios });
    app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    await app.register(async (scoped) => {
      scoped.post('/orders/:orderId/pay', async () => {
        throw Object.assign(new Error('declined'), { code: 'CARD_DECLINED', statusCode: 402 });
      });
      scoped.get('/crash', async () => { throw new TypeError('bug'); });
    }, { prefix: '/v2' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/items/7`)).status).toBe(200);
      expect((await fetch(`${base}/v2/orders/99/pay`, { method: 'POST' })).status).toBe(402);
      expect((await fetch(`${base}/v2/crash`)).status).toBe(500);
      expect((await fetch(`${base}/missing`)).status).toBe(404);
      expect(await recorded(helios, 4)).toEqual([
        ['/items/:id', 200, 'INFO', undefined],
        ['/v2/orders/:orderId/pay', 402, 'ERROR', 'CARD_DECLINED'],
        ['/v2/crash', 500, 'ERROR', 'TypeError'],
        ['(unmatched)', 404, 'INFO', undefined],
      ]);
    } finally {
      await app.close();
    }
  });
});

describe('node:http middleware', () => {
  it('records a guessed template, or the one the app sets, and errors from async handlers', async () => {
    const helios = client();
    const server = http.createServer(withHelios(helios, async (req, res) => {
      if (req.url?.startsWith('/reports/')) setRoute(req, '/reports/:name');
      if (req.url === '/fail') {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.end('ok');
    }));
    const base = await listen(server);
    await fetch(`${base}/users/42/orders/0190c2a4-6a4e-7cc1-8b52-4f7a1e6f0a11`);
    await fetch(`${base}/reports/weekly`);
    await fetch(`${base}/fail`);
    expect(await recorded(helios, 3)).toEqual([
      ['/users/:id/orders/:id', 200, 'INFO', undefined],
      ['/reports/:name', 200, 'INFO', undefined],
      ['/fail', 503, 'ERROR', 'HTTP_503'],
    ]);
  });

  it('routeFromPath keeps words and replaces ids', () => {
    expect(routeFromPath('/health?verbose=1')).toBe('/health');
    expect(routeFromPath('/42')).toBe('/:id');
    expect(routeFromPath('/a/b/c')).toBe('/a/b/c');
    expect(routeFromPath('/tx/9f86d081884c7d659a2feaa0c55ad015')).toBe('/tx/:id');
    expect(routeFromPath(undefined)).toBe('/');
  });
});
