/**
 * Detection on metric series (issue 6): gauges exported every 15 s through the production WindowAggregator
 * (metric series) into detectors' `detectMetric` and the runtime's incident tracker.
 * `node bench/dist/detection/metric-shift.js [--seed N] [--series N] [--detector NAME]... [--options JSON]... [--json]` (after `npx tsc -b bench`).
 *
 * Each series: a level between 10 and 1000, a daily cycle of +-20 %, Gaussian noise of 2-8 % of the level,
 * day 1 warm-up, day 2 with three level shifts of 20 minutes each, of factors 1.5, 0.5 and 3 (in a random
 * order, at random times at least 3 hours apart). An alert is right when its window overlaps a shift; a
 * shift is detected when an alert opens while a window overlapping it is judged; the delay runs from the
 * shift's start to the end of that window (event time).
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { normalizeEventInput, seededRandom, type HeliosEvent } from '@helios/core';
import { WindowAggregator, createIncidentTracker, type ClosedMetricWindow, type Verdict } from '@helios/detection';
import { loadEvaluationDetectors } from '@helios/cli/eval';

const MIN = 60_000;
const DAY = 1440 * MIN;
const FACTORS = [1.5, 0.5, 3] as const;

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, series: { type: 'string', default: '24' }, detector: { type: 'string', multiple: true }, options: { type: 'string', multiple: true }, json: { type: 'boolean', default: false } } });
const random = seededRandom(Number(values.seed));
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const T0 = Date.UTC(2026, 0, 1);
const seriesCount = Number(values.series);

interface Shift { series: number; factor: number; from: number; to: number; detectedAt?: number }
const shifts: Shift[] = [];
const profiles = Array.from({ length: seriesCount }, (_, s) => {
  const times: number[] = [];
  while (times.length < 3) {
    const at = T0 + DAY + Math.floor(random() * (DAY - 60 * MIN) / MIN) * MIN;
    if (times.every((t) => Math.abs(t - at) >= 180 * MIN)) times.push(at);
  }
  const order = [...FACTORS].sort(() => random() - 0.5);
  times.forEach((from, i) => shifts.push({ series: s, factor: order[i]!, from, to: from + 20 * MIN }));
  return { level: 10 * 100 ** random(), noise: 0.02 + 0.06 * random(), peak: random() * DAY };
});

const t0 = performance.now();
const names = values.detector ?? ['@helios/detector-isolation-forest', '@helios/detector-robust-zscore'];
// Each --options (JSON) belongs to the --detector at the same position.
const detectors = await loadEvaluationDetectors(names.map((use, i) => (values.options?.[i] === undefined ? { use } : { use, options: JSON.parse(values.options[i]!) as Record<string, unknown> })), resolve(import.meta.dirname, '..', '..', '..'));
const aggregator = new WindowAggregator({ windowMs: 5 * MIN, hopMs: MIN, allowedLatenessMs: 10_000 });
const tracker = createIncidentTracker({ vote: 'any', confirmWindows: 2, resolveAfterWindows: 3, immediateRatio: 2 });
let alertsRight = 0, alertsWrong = 0, windows = 0;

async function judge(window: ClosedMetricWindow): Promise<void> {
  windows++;
  const verdicts: Verdict[] = [];
  for (const d of detectors) {
    const detection = await d.hooks.detectMetric!(window);
    if (detection !== undefined) verdicts.push({ detector: d.name, detection });
  }
  const step = tracker.observe(window, verdicts);
  if (step === undefined || window.end <= T0 + DAY) return;
  const series = Number(window.metric.attributes['series']);
  const overlapping = shifts.filter((s) => s.series === series && s.from < window.end && s.to > window.start);
  if (step.opened !== undefined) {
    if (overlapping.length > 0) alertsRight++;
    else alertsWrong++;
  }
  if (step.anomalous && tracker.isOpen(window.tenant, window.service, window.metric)) for (const s of overlapping) s.detectedAt ??= window.end;
}

for (let minute = 0; minute < 2 * 1440; minute++) {
  const events: HeliosEvent[] = [];
  for (let s = 0; s < seriesCount; s++) {
    const p = profiles[s]!;
    for (let q = 0; q < 4; q++) {
      const at = T0 + minute * MIN + q * 15_000;
      const shift = shifts.find((x) => x.series === s && x.from <= at && at < x.to);
      const daily = 1 + 0.2 * Math.sin((2 * Math.PI * (at - p.peak)) / DAY);
      const value = p.level * daily * (shift?.factor ?? 1) * (1 + p.noise * gaussian());
      events.push(normalizeEventInput({ service: 'svc', kind: 'metric', message: 'queue.depth', timestamp: at, attributes: { series: s, 'metric.name': 'queue.depth', 'metric.type': 'gauge', 'metric.value': value } }, { tenant: 't', now: at }));
    }
  }
  for (const e of events) aggregator.add(e, T0 + 3 * DAY);
  const closed: ClosedMetricWindow[] = [];
  aggregator.closeReady(closed);
  for (const w of closed) await judge(w);
}
for (const d of detectors) await d.shutdown();

const delays = shifts.filter((s) => s.detectedAt !== undefined).map((s) => (s.detectedAt! - s.from) / MIN).sort((a, b) => a - b);
const median = (xs: number[]) => (xs.length === 0 ? NaN : xs[Math.floor((xs.length - 1) / 2)]!);
const byFactor = Object.fromEntries(FACTORS.map((f) => {
  const of = shifts.filter((s) => s.factor === f);
  const found = of.filter((s) => s.detectedAt !== undefined);
  return [`x${f}`, { detected: `${found.length}/${of.length}`, medianDelayMin: median(found.map((s) => (s.detectedAt! - s.from) / MIN).sort((a, b) => a - b)) }];
}));
const out = {
  detectors: names, seed: Number(values.seed), series: seriesCount, windows,
  alerts: { right: alertsRight, opened: alertsRight + alertsWrong, precision: alertsRight / Math.max(1, alertsRight + alertsWrong) },
  recall: delays.length / shifts.length, shifts: shifts.length, medianDelayMin: median(delays), byFactor,
  seconds: Math.round((performance.now() - t0) / 100) / 10,
};
if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else console.dir(out, { depth: 4 });
