/**
 * Cost of judging one metric window with the calibrated series judge (issue 22), against scoring one row
 * with an Isolation Forest of the default size (100 trees, 14 columns: what the forest cost per metric
 * window before) in the same run. Steady state: a one-minute series with a day of history behind it, so
 * the seasonal model, the tail fits and the spread refreshes are all in the measured loop.
 * `node bench/dist/detection/calibrated-cost.js [--json]` (after `npx tsc -b bench`).
 */
import { parseArgs } from 'node:util';
import { seededRandom, type MetricWindow } from '@helios/core';
import { CalibratedMetricSeries, DEFAULT_CALIBRATION } from '@helios/plugins/stats';
import { trainIsolationForest } from '@helios/detector-isolation-forest/forest';
import { median, type BenchResult } from '../result.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);
const random = seededRandom(7);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

const WARM = 2 * 1440;
const MEASURED = 20_000;
const windows: MetricWindow[] = Array.from({ length: WARM + MEASURED }, (_, i) => {
  const end = T0 + (i + 5) * MIN;
  const mean = 100 + 30 * Math.sin((2 * Math.PI * i) / 1440) + 3 * gaussian();
  return {
    tenant: 't', service: 's', metric: { name: 'm', attributes: {} }, start: end - 5 * MIN, end, cadenceMs: MIN,
    features: { points: 5, mean, min: mean, max: mean, last: mean, change: 0 },
    fresh: { points: 1, mean, min: mean, max: mean, lastAt: end - 1 },
  };
});

function perWindowMicros(): number {
  const judge = new CalibratedMetricSeries(DEFAULT_CALIBRATION, 'bench', windows[0]!);
  for (let i = 0; i < WARM; i++) judge.observe(windows[i]!);
  const t0 = process.hrtime.bigint();
  for (let i = WARM; i < windows.length; i++) judge.observe(windows[i]!);
  return Number(process.hrtime.bigint() - t0) / 1000 / MEASURED;
}

const rows = Array.from({ length: 2048 }, () => Float64Array.from({ length: 14 }, () => gaussian()));
const forest = trainIsolationForest(rows, { trees: 100, sampleSize: 256, seed: 1 });
function forestMicros(): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < MEASURED; i++) sink += forest.score(rows[i % rows.length]!);
  if (sink < 0) throw new Error('unreachable');
  return Number(process.hrtime.bigint() - t0) / 1000 / MEASURED;
}

const judged = median(Array.from({ length: 5 }, perWindowMicros));
const scored = median(Array.from({ length: 5 }, forestMicros));
const results: BenchResult[] = [
  { name: 'calibrated judge, one metric window (steady state)', value: judged, unit: 'us/window', baseline: 'isolation forest score, one row', baselineValue: scored, ratio: judged / scored },
  { name: 'isolation forest score, one row (100 trees, 14 columns)', value: scored, unit: 'us/row' },
];
if (values.json) for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
else for (const r of results) process.stdout.write(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.ratio === undefined ? '' : ` (${r.ratio.toFixed(2)}x ${r.baseline})`}\n`);
