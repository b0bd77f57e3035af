import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlugin } from '../loader.js';
import { createRecordingLogger, createTestHost, sampleIncident, windowSeries } from './index.js';

describe('test host fakes', () => {
  it('records what a logger writes, with child bindings, as the real JSON lines', () => {
    const { logger, records } = createRecordingLogger('info');
    logger.child({ plugin: 'p' }).warn({ n: 1 }, 'careful');
    logger.debug('dropped below the level');
    expect(records).toEqual([{ level: 'warn', plugin: 'p', n: 1, msg: 'careful', time: expect.any(Number) }]);
  });

  it('answers incident context from real SQL over the seeded events', async () => {
    const { store, close } = await createTestHost();
    try {
      const { anomaly } = sampleIncident();
      const context = await store.incidentContext({ tenant: anomaly.tenant, service: anomaly.service, from: anomaly.windowStart, to: anomaly.windowEnd });
      expect(context.window.events).toBe(600);
      expect(context.window.errors).toBe(200);
      expect(context.baseline.events).toBe(1800);
      expect(context.topErrors[0]).toMatchObject({ errorCode: 'DB_TIMEOUT', events: 200 });
      expect(context.slowestEndpoints[0]!.endpoint).toBe('/api/payments');
      expect((await store.listAnomalies()).items.map((a) => a.service)).toEqual(['checkout']);
    } finally {
      await close();
    }
  });

  it('gives a plugin loaded through the real loader the host logger, metrics and store', async () => {
    const { host, logs, metrics, close } = await createTestHost();
    try {
      writeFileSync(join(host.dataDir, 'probe.mjs'), `export default { kind: 'detector', name: 'probe', version: '1.0.0', apiVersion: '^1.0.0',
        async setup(ctx) { ctx.logger.info({ events: await ctx.store.countEvents() }, 'ready'); return { detect() { throw new Error('no'); } }; } };`);
      const probe = await loadPlugin({ use: './probe.mjs' }, 'detector', 0, { ...host, baseDir: host.dataDir });
      expect(logs).toContainEqual(expect.objectContaining({ plugin: 'probe', events: 2400, msg: 'ready' }));
      await probe.guard.call('detect', () => probe.hooks.detect(windowSeries(1)[0]!));
      expect(await metrics.metrics()).toContain('helios_plugin_errors_total{plugin="probe",hook="detect",reason="error"} 1');
      expect(logs).toContainEqual(expect.objectContaining({ level: 'error', plugin: 'probe', hook: 'detect' }));
    } finally {
      await close();
    }
  });
});
