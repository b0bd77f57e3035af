import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry, defaultConfig, loadConfig, newEventId, silentLogger, type Anomaly, type IncidentRecord, type Silence } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createGateway, type Gateway } from '@helios/gateway';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { parseCommandLine, type CommandContext } from './command.js';
import { incidents, parseDuration, silences } from './incidents.js';

const KEY = 'console-key-0001';

describe('helios incidents / helios silences (the terminal console) against a running gateway', () => {
  let store: Store;
  let gateway: Gateway;
  let url: string;
  const anomaly: Anomaly = {
    id: newEventId(), tenant: 'acme', service: 'checkout', windowStart: 0, windowEnd: 300_000, detectedAt: 300_000, detector: 'test', severity: 'high',
    score: 1, threshold: 0.5, features: { total_events: 1, error_rate: 0.5, avg_latency: 1, p95_latency: 1, p99_latency: 1, latency_stddev: 0, unique_endpoints: 1 }, explanation: [], modelVersion: 'v1',
  };

  beforeAll(async () => {
    store = createSqlStore(await createPgliteClient());
    await store.migrate();
    await store.openIncident(anomaly);
    const config = { ...defaultConfig().gateway, host: '127.0.0.1', port: 0, otlpPort: -1, transport: 'node' as const, auth: { enabled: true, keys: [{ key: KEY, tenant: 'acme', name: 'alice' }] } };
    gateway = createGateway({ config, bus: createMemoryBus({ capacity: 100 }), store, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }) });
    url = `http://127.0.0.1:${(await gateway.start()).port}`;
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.close();
  });

  async function run(command: typeof incidents, args: string[], json = true): Promise<string> {
    let out = '';
    const { values, positionals } = parseCommandLine(command, [...args, '--url', url, '--api-key', KEY]);
    const ctx: CommandContext = { loaded: loadConfig({ env: {}, cwd: '/tmp' }), configSources: { env: {}, cwd: '/tmp' }, values, positionals, json, portExplicit: false, stdout: (t) => void (out += t) };
    await command.run(ctx);
    return out;
  }

  it('lists, acknowledges, rates and resolves an incident as the key\u2019s name', async () => {
    expect((JSON.parse(await run(incidents, ['list', '--status', 'open'])) as { items: IncidentRecord[] }).items.map((i) => i.id)).toEqual([anomaly.id]);
    expect(JSON.parse(await run(incidents, ['ack', anomaly.id]))).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
    expect(JSON.parse(await run(incidents, ['feedback', anomaly.id, 'down', '--comment', 'noise']))).toMatchObject({ feedback: { rating: 'down', comment: 'noise', by: 'alice' } });
    expect(JSON.parse(await run(incidents, ['resolve', anomaly.id]))).toMatchObject({ status: 'resolved', resolvedBy: 'alice' });
    expect(await run(incidents, ['show', anomaly.id], false)).toMatch(new RegExp(`^${anomaly.id} .* high +resolved by alice +acme/checkout +👎\\n$`));
  });

  it('adds, lists and removes a silence', async () => {
    const added = JSON.parse(await run(silences, ['add', '--service', 'checkout', '--for', '2h', '--comment', 'db migration'])) as Silence;
    expect(added).toMatchObject({ tenant: 'acme', service: 'checkout', comment: 'db migration', createdBy: 'alice' });
    expect(added.endsAt - added.startsAt).toBe(2 * 3_600_000);
    expect((JSON.parse(await run(silences, ['list', '--active'])) as { items: Silence[] }).items.map((s) => s.id)).toEqual([added.id]);
    expect(await run(silences, ['rm', added.id], false)).toBe(`deleted ${added.id}\n`);
    expect(await run(silences, ['list'], false)).toBe('(none)\n');
  });

  it('passes the API\u2019s refusal on with its code, and refuses bad flags naming them', async () => {
    await expect(run(incidents, ['list', '--status', 'closed'])).rejects.toMatchObject({ code: 'HLS_ERR_QUERY_INVALID', message: expect.stringContaining('status: expected one of open') });
    await expect(run(incidents, ['ack', newEventId()])).rejects.toMatchObject({ code: 'HLS_ERR_NOT_FOUND' });
    await expect(run(incidents, ['list', '--sevice', 'x'])).rejects.toMatchObject({ code: 'HLS_ERR_USAGE', message: expect.stringContaining('--sevice') });
    await expect(run(silences, ['add', '--service', 'x', '--for', '2 hours'])).rejects.toMatchObject({ message: expect.stringContaining('--for') });
    await expect(run(silences, ['add', '--service', 'x', '--for', '1h', '--until', '2030-01-01T00:00:00Z'])).rejects.toMatchObject({ message: expect.stringContaining('exactly one of --for') });
    expect(parseDuration('90s', '--for')).toBe(90_000);
    expect(parseDuration('1.5d', '--for')).toBe(1.5 * 86_400_000);
  });
});
