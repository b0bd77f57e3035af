// Example: a plain node:http service instrumented with @helios/sdk.
//
//   npm run build && HELIOS_ENDPOINT=http://localhost:8080 HELIOS_SERVICE=example-shop node sdk/examples/http-app.mjs
//
// Env: PORT (default 3000); EXAMPLE_REQUESTS=N makes the app send itself N requests, then shut down
// (used by the SDK's tests and for a quick check against a running gateway).
import http from 'node:http';
import { trace } from '@opentelemetry/api';
import { init } from '@helios/sdk';
import { setRoute, withHelios } from '@helios/sdk/middleware/http';

const helios = init({ service: process.env.HELIOS_SERVICE ?? 'example-shop', otel: { metrics: false } });
const tracer = trace.getTracer('example-shop');

const server = http.createServer(
  withHelios(helios, async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/users/')) {
      setRoute(req, '/users/:id');
      // A manual span: the event recorded inside it carries its trace_id/span_id.
      await tracer.startActiveSpan('load-user', async (span) => {
        helios.event({ level: 'info', message: 'user loaded', metadata: { user_tier: 'gold' } });
        span.end();
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    } else if (url.pathname === '/checkout') {
      if (url.searchParams.get('fail') === '1') {
        helios.logger.error(Object.assign(new Error('payment provider timed out'), { code: 'PAYMENT_TIMEOUT' }));
        res.writeHead(503).end();
      } else {
        res.writeHead(200).end('paid');
      }
    } else {
      res.writeHead(404).end();
    }
  }),
);

async function stop() {
  server.close();
  await helios.shutdown();
}
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', async () => {
  const { port } = server.address();
  helios.logger.info('example-shop listening', { port });
  const count = Number(process.env.EXAMPLE_REQUESTS ?? 0);
  if (count > 0) {
    for (let i = 0; i < count; i++) {
      const path = i % 3 === 0 ? `/users/${i}` : i % 3 === 1 ? '/checkout' : '/checkout?fail=1';
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.arrayBuffer();
    }
    await stop();
    console.log(JSON.stringify(helios.stats()));
  }
});
