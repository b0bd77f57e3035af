/**
 * Reporting bench on embedded PGlite:
 * - template report end to end: anomaly published on the in-process bus -> report runtime (freshness
 *   check, context queries, template composer, Markdown, saveReport, setDeliveries) -> onReport; p50/p99;
 * - the LLM path with a local OpenAI-compatible server that answers at once, so the figure is Helios's own
 *   overhead (redaction, prompt, HTTP through the openai client, JSON parse, Ajv validation), end to end and
 *   compose() alone, against the template in the same run.
 * Sizes: HELIOS_BENCH_REPORTING_EVENTS (default 1,000,000 events over 7 days, 20 services),
 * HELIOS_BENCH_REPORTING_REPORTS (default 200 reports per path).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRegistry, newEventId, silentLogger, Topics, type Anomaly, type IncidentReport } from '@helios/core';
import { createMemoryBus } from '@helios/bus';
import { loadPlugin, type LoadedPlugin, type ReporterHooks } from '@helios/plugins';
import { startReportRuntime } from '@helios/reporting';
import { sampleIncident, testHost } from '@helios/plugins/testing';
import { startFakeOpenAI, validAnswer } from '@helios/reporter-llm/testing';
import { createPgliteClient, createSqlStore, type SqlClient, type Store } from '@helios/store';
import { fillEvents } from '../fill-events.js';
import { upperQuantileOfSorted, type BenchResult } from '../result.js';
import { intFromEnv } from '../env.js';

const DAY = 86_400_000;
const SERVICES = 20;




/** An anomaly on a 5-minute window at a pseudo-random time within the last 6 days of the data. */
function anomalyAt(i: number, now: number): Anomaly {
  const template = sampleIncident().anomaly;
  const windowEnd = now - ((i * 7_368_787) % (6 * DAY)) - 300_000;
  return { ...template, id: newEventId(), tenant: `tenant-${i % 10}`, service: `svc-${i % SERVICES}`, windowStart: windowEnd - 300_000, windowEnd, detectedAt: windowEnd + 10_000 };
}

/** Reports `count` anomalies one at a time through the runtime; milliseconds from publish to stored report. */
async function endToEnd(store: Store, reporters: Array<LoadedPlugin<ReporterHooks>>, count: number, now: number, offset: number): Promise<number[]> {
  const bus = createMemoryBus({ capacity: 1000 });
  let resolveReport: ((r: IncidentReport) => void) | undefined;
  const runtime = startReportRuntime({
    bus, store, reporters, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }),
    // The events are all in the past, so the freshness wait returns on its first check.
    freshnessTimeoutMs: 1000, onReport: (r) => resolveReport?.(r),
  });
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const anomaly = anomalyAt(offset + i, now);
      const done = new Promise<IncidentReport>((resolve) => (resolveReport = resolve));
      const started = performance.now();
      await bus.publish(Topics.anomalies, [{ key: `${anomaly.tenant}/${anomaly.service}`, value: anomaly }]);
      await done;
      times.push(performance.now() - started);
    }
  } finally {
    await runtime.close();
    await bus.close();
  }
  return times.sort((a, b) => a - b);
}

export async function runReportingBench(options: { json: boolean }): Promise<BenchResult[]> {
  const log = options.json ? (_line: string) => {} : (line: string) => process.stderr.write(`${line}\n`);
  const rows = intFromEnv('HELIOS_BENCH_REPORTING_EVENTS', 1_000_000);
  const reports = intFromEnv('HELIOS_BENCH_REPORTING_REPORTS', 200);
  const warmup = Math.min(20, reports);
  const now = Date.now();
  const results: BenchResult[] = [];

  const client = await createPgliteClient();
  const store = createSqlStore(client);
  const llmServer = await startFakeOpenAI([{ kind: 'content', content: validAnswer() }]);
  try {
    await store.migrate();
    await store.maintain({ now });
    log(`reporting: filling ${rows.toLocaleString('en')} events over 7 days into PGlite`);
    const fillStarted = performance.now();
    await fillEvents(client, { rows, now, services: SERVICES, log, errorMessageSql: `'upstream timeout for user' || (g % 7) || '@example.com'`, chunk: 250_000 });
    log(`reporting: filled in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

    // The figures mean something only if the context queries find the events.
    const probe = anomalyAt(1000, now);
    const probed = await store.incidentContext({ tenant: probe.tenant, service: probe.service, from: probe.windowStart, to: probe.windowEnd });
    if (probed.window.events === 0 || probed.topErrors.length === 0) throw new Error('the context queries found no events in the generated data');
    log(`reporting: a window holds ${probed.window.events} events, ${probed.window.errors} errors; baseline ${probed.baseline.events} events`);

    const host = testHost({ dataDir: mkdtempSync(join(tmpdir(), 'helios-bench-reporting-')), store, timeoutMs: 30_000 });
    const template = await loadPlugin({ use: '@helios/reporter-template' }, 'reporter', 0, host);
    const llm = await loadPlugin({ use: '@helios/reporter-llm', options: { baseURL: llmServer.baseURL, model: 'bench', maxRetries: 0, prices: { inputPer1K: 0.00015, outputPer1K: 0.0006 } } }, 'reporter', 0, host);

    log('reporting: template end to end');
    await endToEnd(store, [template], warmup, now, 0);
    const t = await endToEnd(store, [template], reports, now, 1000);
    log('reporting: llm (instant fake server) end to end');
    await endToEnd(store, [llm, template], warmup, now, 2000);
    const l = await endToEnd(store, [llm, template], reports, now, 3000);
    if (llmServer.requests.length !== warmup + reports) throw new Error(`the LLM path was not taken for every report (${llmServer.requests.length} requests)`);

    const templateName = `reporting.template.e2e.p50 (${rows} events)`;
    results.push({ name: templateName, value: upperQuantileOfSorted(t, 0.5), unit: 'ms' });
    results.push({ name: `reporting.template.e2e.p99 (${rows} events)`, value: upperQuantileOfSorted(t, 0.99), unit: 'ms' });
    results.push({ name: `reporting.llm.e2e.p50 (${rows} events, instant model)`, value: upperQuantileOfSorted(l, 0.5), unit: 'ms', baseline: templateName, baselineValue: upperQuantileOfSorted(t, 0.5), ratio: upperQuantileOfSorted(l, 0.5) / upperQuantileOfSorted(t, 0.5) });
    results.push({ name: `reporting.llm.e2e.p99 (${rows} events, instant model)`, value: upperQuantileOfSorted(l, 0.99), unit: 'ms' });

    // compose() alone on one context: the LLM path's own cost next to the template composer's.
    const incident = sampleIncident();
    const composeTimes = async (hooks: ReporterHooks, n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        await hooks.compose!(incident);
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b);
    };
    await composeTimes(llm.hooks, warmup);
    const lc = await composeTimes(llm.hooks, reports);
    const tc = await composeTimes(template.hooks, reports);
    results.push({ name: 'reporting.template.compose.p50', value: upperQuantileOfSorted(tc, 0.5), unit: 'ms' });
    results.push({ name: 'reporting.llm.compose.p50 (instant model)', value: upperQuantileOfSorted(lc, 0.5), unit: 'ms' });
    results.push({ name: 'reporting.llm.compose.p99 (instant model)', value: upperQuantileOfSorted(lc, 0.99), unit: 'ms' });
    results.push({ name: 'reporting.llm.overhead.p99 (e2e llm p99 - e2e template p50)', value: upperQuantileOfSorted(l, 0.99) - upperQuantileOfSorted(t, 0.5), unit: 'ms' });
    await template.shutdown();
    await llm.shutdown();
  } finally {
    await llmServer.close();
    await store.close();
  }
  return results;
}
