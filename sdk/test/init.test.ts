import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { init, resolveConfig, type HeliosSdkError } from '../src/index.js';
import { FakeGateway } from './fake-gateway.js';

let g: FakeGateway;
beforeAll(async () => {
  g = await new FakeGateway().start();
});
afterAll(() => g.stop());

describe('init() with OpenTelemetry', () => {
  it('starts the Node SDK: spans go to /v1/traces (gzip, API key) and events share their trace ids', async () => {
    const helios = init({ service: 'orders', endpoint: g.url, apiKey: 'secret', otel: { metrics: false, logs: false }, onDiagnostic: () => {} });
    let traceId = '';
    trace.getTracer('orders').startActiveSpan('place-order', (span) => {
      traceId = span.spanContext().traceId;
      helios.event({ message: 'order placed', attributes: { items: 3 } });
      span.end();
    });
    await helios.shutdown();

    const spans = g.requests.filter((r) => r.path === '/v1/traces');
    expect(spans.length).toBeGreaterThan(0);
    expect(spans[0]!.headers['authorization']).toBe('Bearer secret');
    expect(spans[0]!.headers['content-encoding']).toBe('gzip');
    const body = JSON.stringify(spans.map((r) => r.events));
    expect(body).toContain('place-order');
    expect(body).toContain('orders');
    expect(g.accepted).toHaveLength(1);
    expect(g.accepted[0]).toMatchObject({ service: 'orders', message: 'order placed', trace_id: traceId, attributes: { items: 3 } });
  });
});

describe('configuration', () => {
  it('layers option, then environment, then defaults', () => {
    const env = { HELIOS_ENDPOINT: 'http://gw:8080/', HELIOS_API_KEY: 'k', OTEL_SERVICE_NAME: 'from-otel', HELIOS_SAMPLE_RATE: '0.25', OTEL_RESOURCE_ATTRIBUTES: 'team=pay,region=eu%2Dwest' };
    const config = resolveConfig({}, env);
    expect(config).toMatchObject({ endpoint: 'http://gw:8080', otlpEndpoint: 'http://gw:8080', apiKey: 'k', service: 'from-otel', sampleRate: 0.25, maxQueueSize: 10_000, compression: 'gzip', disabled: false });
    expect(config.resource).toMatchObject({ team: 'pay', region: 'eu-west', 'service.name': 'from-otel' });
    expect(resolveConfig({ service: 'explicit' }, { HELIOS_SERVICE: 'env', OTEL_SERVICE_NAME: 'otel' }).service).toBe('explicit');
    expect(resolveConfig({}, { HELIOS_SERVICE: 'env', OTEL_SERVICE_NAME: 'otel' }).service).toBe('env');
    expect(resolveConfig({}, {}).service).toBe('unknown_service:node');
    expect(resolveConfig({}, { OTEL_SDK_DISABLED: 'true' }).otel).toBeUndefined();
    expect(resolveConfig({}, { HELIOS_OFFLINE_DIR: '/tmp/x' }).offlineBuffer).toMatchObject({ directory: '/tmp/x', fsync: 'always' });
  });

  it('names the key and the bad value, and rejects unknown options with the valid list', () => {
    const codeOf = (fn: () => unknown): [string, string] => {
      try {
        fn();
      } catch (error) {
        return [(error as HeliosSdkError).code, (error as Error).message];
      }
      return ['', ''];
    };
    expect(codeOf(() => resolveConfig({}, { HELIOS_MAX_QUEUE_SIZE: '-3' }))).toEqual(['HLS_ERR_SDK_CONFIG_INVALID', "'maxQueueSize' must be an integer >= 1, got \"-3\" (from HELIOS_MAX_QUEUE_SIZE)"]);
    expect(codeOf(() => resolveConfig({ endpoint: 'ftp://x' }))[1]).toBe("'endpoint' must be an http(s) URL, got \"ftp://x\"");
    expect(codeOf(() => resolveConfig({ initialBackoffMs: 100, maxBackoffMs: 10 }))[1]).toBe("'maxBackoffMs' must not be less than 'initialBackoffMs' (10 < 100)");
    const [code, message] = codeOf(() => resolveConfig({ endpiont: 'x' } as never));
    expect(code).toBe('HLS_ERR_SDK_CONFIG_INVALID');
    expect(message).toMatch(/^unknown option 'endpiont'; valid options: service, endpoint, /);
  });

  it('HELIOS_DISABLED is a kill switch: nothing is recorded or sent', async () => {
    process.env['HELIOS_DISABLED'] = 'true';
    try {
      const helios = init({ service: 'off', endpoint: g.url });
      helios.event({ message: 'ignored', level: 'error' });
      helios.logger.critical('ignored');
      expect(helios.enabled).toBe(false);
      expect(await helios.flush()).toBe(true);
      await helios.shutdown();
      expect(helios.stats().enqueued).toBe(0);
    } finally {
      delete process.env['HELIOS_DISABLED'];
    }
  });
});
