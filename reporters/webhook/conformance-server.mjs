// A local webhook receiver for the repo's plugin conformance test (plugins/src/conformance.test.ts): it
// answers 200 only to a POST whose x-helios-signature verifies over the raw body, as a real receiver should.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const SECRET = 'conformance-secret-0123456789';

export async function start() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = String(req.headers['x-helios-signature'] ?? '');
      const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
      const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
      const expected = t === undefined ? undefined : createHmac('sha256', SECRET).update(`${t}.${body}`).digest();
      const ok = req.method === 'POST' && v1 !== undefined && expected !== undefined && timingSafeEqual(Buffer.from(v1, 'hex'), expected);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'bad signature');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    options: { url: `http://127.0.0.1:${port}/hooks/helios`, secret: SECRET },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
