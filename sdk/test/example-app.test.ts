import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FakeGateway } from './fake-gateway.js';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../examples/http-app.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

let g: FakeGateway;
beforeAll(async () => {
  g = await new FakeGateway().start();
});
afterAll(() => g.stop());

// The example imports the published entry points (dist), so it needs `tsc -b sdk` first, as CI's build does.
it.skipIf(!built)('the example app sends events with service, endpoint, latency and trace ids', async () => {
  const { stdout } = await run(process.execPath, [example], {
    env: { ...process.env, HELIOS_ENDPOINT: g.url, HELIOS_SERVICE: 'example-shop', PORT: '0', EXAMPLE_REQUESTS: '6' },
    timeout: 30_000,
  });
  const stats = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, number>;
  expect(stats['dropped']).toBe(0);

  const events = g.accepted;
  const requests = events.filter((e) => e['kind'] === 'span');
  expect(requests.map((e) => [e['endpoint'], e['status_code']])).toEqual([
    ['/users/:id', 200], ['/checkout', 200], ['/checkout', 503], ['/users/:id', 200], ['/checkout', 200], ['/checkout', 503],
  ]);
  for (const e of events) expect(e['service']).toBe('example-shop');
  for (const e of requests) expect(typeof e['latency_ms']).toBe('number');
  const userLoaded = events.filter((e) => e['message'] === 'user loaded');
  expect(userLoaded).toHaveLength(2);
  for (const e of userLoaded) expect(e['trace_id']).toMatch(/^[0-9a-f]{32}$/);
  expect(events.filter((e) => e['error_code'] === 'PAYMENT_TIMEOUT')).toHaveLength(2);
  // Its spans went to the same gateway over OTLP/HTTP.
  expect(g.requests.some((r) => r.path === '/v1/traces')).toBe(true);
});
