import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, HeliosError, normalizeEventInput, type Incident, silentLogger, Topics, type Anomaly, type Bus, type IncidentReport, type Registry } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { createPgliteClient, createSqlStore, type Store } from '@helios/store';
import { PluginGuard, pluginGuardMetrics, type ReportDraft, type ReporterHooks, type LoadedPlugin } from '@helios/plugins';
import { startReportRuntime, type ReportRuntime } from './report-runtime.js';
import { sampleIncident } from '@helios/plugins/testing';

function reporter(name: string, hooks: ReporterHooks, metrics: Registry): LoadedPlugin<ReporterHooks> {
  return { name, version: '1.0.0', kind: 'reporter', source: name, hooks, guard: new PluginGuard(name, 2000, silentLogger(), pluginGuardMetrics(metrics)), shutdown: async () => undefined };
}

const draft = (title: string): ReportDraft => ({
  title, severity: 'high', notes: [`by ${title}`],
  sections: { executiveSummary: 'e', rootCauseAnalysis: 'r', impactAssessment: 'i', recommendedActions: { immediate: ['a'], shortTerm: [], longTerm: [] }, preventionMeasures: [] },
});

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function harness(reporters: (metrics: Registry) => Array<LoadedPlugin<ReporterHooks>>, retry = { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100 }) {
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const store: Store = createSqlStore(await createPgliteClient());
  await store.migrate();
  const bus: Bus = createMemoryBus({ capacity: 1000, retryMs: 10 });
  const reports: IncidentReport[] = [];
  const runtime: ReportRuntime = startReportRuntime({ bus, store, reporters: reporters(metrics), logger: silentLogger(), metrics, freshnessTimeoutMs: 0, deliveryRetry: retry, onReport: (r) => reports.push(r) });
  cleanup.push(async () => {
    await runtime.close();
    await bus.close();
    await store.close();
  });
  const publish = async (anomaly: Anomaly) => {
    await bus.publish(Topics.anomalies, [{ key: `${anomaly.tenant}/${anomaly.service}`, value: anomaly }]);
    await bus.drain(10_000);
  };
  return { store, bus, runtime, reports, publish, metrics };
}

describe('report runtime', () => {
  it('falls back to the next composer and says so at the top of the report and in its notes', async () => {
    const h = await harness((m) => [
      reporter('@helios/reporter-llm', { compose: () => { throw new HeliosError('HLS_ERR_PLUGIN_FAILED', 'LLM m answered 503'); } }, m),
      reporter('@helios/reporter-template', { compose: () => draft('template') }, m),
    ]);
    await h.publish(sampleIncident().anomaly);
    expect(h.reports).toHaveLength(1);
    const stored = (await h.store.getReport(h.reports[0]!.id))!;
    expect(stored.composer).toBe('@helios/reporter-template');
    expect(stored.notes[0]).toMatch(/^@helios\/reporter-llm could not write this report \(.*LLM m answered 503\)\.$/);
    expect(stored.notes[1]).toBe('Fallback: this report was written by @helios/reporter-template instead.');
    expect(stored.markdown.split('\n')[2]).toMatch(/^> \*\*Note:\*\* @helios\/reporter-llm could not write this report .* Fallback: this report was written by @helios\/reporter-template instead\.$/);
  });

  it('redacts what composers and deliverers bring of their own: a failing composer error, the draft, a delivery error; the audit counts it', async () => {
    const webhook = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx';
    const h = await harness((m) => [
      reporter('leaky-llm', { compose: () => { throw new Error('POST https://svc:Pa55-w0rd-x@llm.internal/v1 refused'); } }, m),
      reporter('echoing-composer', { compose: () => ({ ...draft('key AKIAIOSFODNN7EXAMPLE leaked'), notes: ['db_password=hunter2-hunter2'] }) }, m),
      reporter('slack', { deliver: () => { throw new Error(`POST ${webhook} answered 404`); } }, m),
    ], { maxAttempts: 1, initialBackoffMs: 10, maxBackoffMs: 10 });
    await h.publish(sampleIncident().anomaly);
    await h.runtime.idle();
    const stored = (await h.store.getReport(h.reports[0]!.id))!;
    const all = JSON.stringify(stored);
    for (const secret of ['Pa55-w0rd-x', 'AKIAIOSFODNN7EXAMPLE', 'hunter2-hunter2', webhook, 'abcdefghijklmnopqrstuvwx']) expect(all).not.toContain(secret);
    expect(stored.title).toBe('key [REDACTED:aws-access-key-id] leaked');
    expect(stored.deliveries[0]!.error).toMatch(/POST \[REDACTED:slack-webhook\] answered 404/);
    // Counted from the replacements: the composer's error (twice: notes and the notice in the Markdown), title, note.
    expect(stored.notes.at(-1)).toMatch(/^Redacted before composing, storing and delivering: .*1 aws-access-key-id.*$/);
    expect(stored.notes.at(-1)).toMatch(/1 secret/);
    expect(stored.notes.at(-1)).toMatch(/url-credentials/);
  });

  it('stores only reports that fit the report schema: a malformed draft counts as a failed composer', async () => {
    const h = await harness((m) => [
      reporter('sloppy-composer', { compose: () => ({ ...draft('sloppy'), severity: 'urgent', sections: { executiveSummary: '' } }) as unknown as ReportDraft }, m),
      reporter('@helios/reporter-template', { compose: () => draft('template') }, m),
    ]);
    await h.publish(sampleIncident().anomaly);
    const stored = (await h.store.getReport(h.reports[0]!.id))!;
    expect(stored.composer).toBe('@helios/reporter-template');
    expect(stored.notes[0]).toMatch(/^sloppy-composer returned a report that does not fit the report schema \(.*(severity|sections).*\)\.$/);
  });

  it('retries a failing deliverer in the background without holding back the others, storing each attempt', async () => {
    // Counted per service: whether checkout's retry starts before or after payments' report depends on
    // how long storing takes, and neither order may change the outcome.
    const calls = new Map<string, number>();
    let release!: () => void;
    const secondAttemptMayFail = new Promise<void>((resolve) => (release = resolve));
    const h = await harness((m) => [
      reporter('template', { compose: () => draft('template') }, m),
      reporter('flaky', { deliver: async (report) => {
        const n = (calls.get(report.service) ?? 0) + 1;
        calls.set(report.service, n);
        if (report.service !== 'checkout') return { location: 'flaky://ok' };
        if (n === 2) await secondAttemptMayFail;
        if (n < 3) throw new Error(`down (${n})`);
        return { location: 'flaky://ok' };
      } }, m),
      reporter('file', { deliver: () => ({ location: '/tmp/r.md' }) }, m),
    ]);
    await h.publish(sampleIncident().anomaly);
    // The report is out after the first round: file delivered, flaky failed and scheduled.
    expect(h.reports[0]!.deliveries).toEqual([
      expect.objectContaining({ reporter: 'flaky', status: 'failed', error: expect.stringMatching(/down \(1\) \(attempt 1 of 3; retrying in 20 ms\)$/) }),
      expect.objectContaining({ reporter: 'file', status: 'delivered', location: '/tmp/r.md' }),
    ]);
    // A second anomaly is reported while the flaky retry is still pending.
    const other = sampleIncident().anomaly;
    await h.publish({ ...other, service: 'payments' });
    expect(h.reports).toHaveLength(2);
    // Delivered while checkout's second attempt is still held: the retry does not hold it back.
    expect(h.reports[1]!.deliveries).toContainEqual(expect.objectContaining({ reporter: 'flaky', status: 'delivered' }));
    release();
    await h.runtime.idle();
    expect(Object.fromEntries(calls)).toEqual({ checkout: 3, payments: 1 }); // fail, fail, ok; ok
    const first = (await h.store.getReport(h.reports[0]!.id))!;
    expect(first.deliveries).toEqual([
      expect.objectContaining({ reporter: 'flaky', status: 'delivered', location: 'flaky://ok' }),
      expect.objectContaining({ reporter: 'file', status: 'delivered' }),
    ]);
    const counted = (await h.metrics.getMetricsAsJSON()).find((x) => x.name === 'helios_report_deliveries_total')!.values;
    expect(counted.find((v) => v.labels['reporter'] === 'flaky' && v.labels['status'] === 'failed')?.value).toBe(2);
  });

  it('gives up after maxAttempts and stores the last error', async () => {
    let calls = 0;
    const h = await harness((m) => [
      reporter('template', { compose: () => draft('template') }, m),
      reporter('broken', { deliver: () => { calls++; throw new Error('no route to host'); } }, m),
    ]);
    await h.publish(sampleIncident().anomaly);
    await h.runtime.idle();
    expect(calls).toBe(3);
    const stored = (await h.store.getReport(h.reports[0]!.id))!;
    expect(stored.deliveries).toEqual([expect.objectContaining({ reporter: 'broken', status: 'failed', error: expect.stringMatching(/no route to host \(attempt 3 of 3; gave up\)$/) })]);
  });

  it('a redelivered anomaly does not make a second report, compose again or deliver twice', async () => {
    let composed = 0;
    let delivered = 0;
    const h = await harness((m) => [
      reporter('template', { compose: () => { composed++; return draft('template'); } }, m),
      reporter('file', { deliver: () => { delivered++; return {}; } }, m),
    ]);
    const anomaly = sampleIncident().anomaly;
    await h.publish(anomaly);
    await h.publish(anomaly);
    expect([composed, delivered]).toEqual([1, 1]);
    expect((await h.store.listReports()).items).toHaveLength(1);
  });

  it('a second process (no memory of the first) rewrites the same report rather than adding one', async () => {
    const h = await harness((m) => [reporter('template', { compose: () => draft('template') }, m)]);
    const anomaly = sampleIncident().anomaly;
    await h.publish(anomaly);
    await h.runtime.close();
    const again = startReportRuntime({ bus: h.bus, store: h.store, reporters: [reporter('template', { compose: () => draft('template v2') }, h.metrics)], logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), freshnessTimeoutMs: 0 });
    cleanup.push(() => again.close());
    await h.bus.publish(Topics.anomalies, [{ key: 'k', value: anomaly }]);
    await h.bus.drain(10_000);
    const items = (await h.store.listReports()).items;
    expect(items).toHaveLength(1);
    expect(items[0]!.id).toBe(h.reports[0]!.id);
  });

  it('close() drops retries not yet due and leaves the last status stored', async () => {
    let calls = 0;
    const h = await harness((m) => [
      reporter('template', { compose: () => draft('template') }, m),
      reporter('broken', { deliver: () => { calls++; throw new Error('down'); } }, m),
    ], { maxAttempts: 5, initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    await h.publish(sampleIncident().anomaly);
    await h.runtime.close();
    await h.runtime.idle();
    expect(calls).toBe(1);
    expect((await h.store.getReport(h.reports[0]!.id))!.deliveries[0]!.error).toMatch(/retrying in 60000 ms/);
  });
  it('writes each tenant\u2019s report from its own events only when two tenants share a service name', async () => {
    const seen: Incident[] = [];
    const h = await harness((m) => [reporter('context-echo', {
      compose: (incident) => {
        seen.push(incident);
        const c = incident.context;
        const summary = JSON.stringify({ errors: c.topErrors.map((e) => e.message), traces: c.exampleTraceIds, tenants: c.tenants.map((t) => t.tenant), endpoints: c.slowestEndpoints.map((e) => e.endpoint) });
        return { ...draft('echo'), sections: { ...draft('echo').sections, executiveSummary: summary } };
      },
    }, m)]);
    const { anomaly } = sampleIncident();
    const tenants = { A: 'tenant-alpha', B: 'tenant-bravo' } as const;
    const traces = { A: 'a'.repeat(32), B: 'b'.repeat(32) } as const;
    const events = (['A', 'B'] as const).flatMap((who) => Array.from({ length: 6 }, (_, i) => normalizeEventInput({
      service: anomaly.service, timestamp: anomaly.windowStart + i * 1000, level: 'ERROR', message: `${who} secret failure ${i % 2}`,
      trace_id: traces[who], endpoint: `/${who}-only`, latency_ms: who === 'B' ? 5000 : 10,
    }, { tenant: tenants[who], now: anomaly.windowStart })));
    await h.store.insertEvents(events);
    for (const who of ['A', 'B'] as const) await h.publish({ ...anomaly, id: `${anomaly.id.slice(0, -1)}${who === 'A' ? 'a' : 'b'}`, tenant: tenants[who] });
    expect(seen).toHaveLength(2);
    for (const who of ['A', 'B'] as const) {
      const other = who === 'A' ? 'B' : 'A';
      const report = (await h.store.listReports({ tenant: tenants[who] })).items;
      expect(report).toHaveLength(1);
      const text = JSON.stringify(report[0]) + JSON.stringify(seen.find((i) => i.anomaly.tenant === tenants[who])!.context);
      expect(text).toContain(`${who} secret failure`);
      expect(text).not.toContain(`${other} secret failure`);
      expect(text).not.toContain(traces[other]);
      expect(text).not.toContain(`/${other}-only`);
      expect(text).not.toContain(tenants[other]);
    }
  });
});
