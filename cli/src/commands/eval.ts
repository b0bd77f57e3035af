import { writeFileSync } from 'node:fs';
import { HeliosError, type PluginSpec } from '@helios/core';
import { DEFAULT_CALIBRATION } from '@helios/plugins/stats';
import { evaluateDetectors, evaluateMetricCorpus, generateMetricCorpus, generateSyntheticDataset, loadEvaluationDetectors, metricEvaluationTable, pointsCsv, readLabelledDataset, type EvaluationResult } from '../eval/index.js';
import { stringOption, stringsOption, type CommandModule } from './command.js';

/** The seed `helios eval` reports on by default: held out, never used while tuning (tuning used seed 1). */
export const HELD_OUT_SEED = 2;

const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));
const minutes = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(2)} min`);

function table(r: EvaluationResult): string {
  const lines = [
    `dataset    ${r.dataset}`,
    `detectors  ${r.detectors.join(', ')} (vote ${r.vote}, confirm ${r.confirmWindows}, at once from ${r.immediateRatio} x threshold)`,
    `windows    ${r.windowsJudged} judged, ${r.windowsPositive} inside incidents`,
    '',
    `window-level    precision ${fmt(r.window.precision)}  recall ${fmt(r.window.recall)}  F1 ${fmt(r.window.f1)}  ROC AUC ${fmt(r.rocAuc)}`,
    `alerts          ${r.alerts.opened} opened, ${r.alerts.onIncidents} on incidents: precision ${fmt(r.alerts.precision)}`,
    `incident-level  recall ${fmt(r.incidents.recall)} (${r.incidents.detected}/${r.incidents.total})  F1 ${fmt(r.incidents.f1)}`,
    `delay           median ${minutes(r.delayMinutes.median)}  p90 ${minutes(r.delayMinutes.p90)}`,
    `false alerts    ${r.falseAlerts.perSeriesWeek.toFixed(2)} per series-week on normal stretches (${r.falseAlerts.falseAlerts} in ${r.falseAlerts.normalSeriesWeeks.toFixed(1)} series-weeks): ${Object.entries(r.falseAlerts.byStream).map(([k, v]) => `${k} ${v.perSeriesWeek.toFixed(2)}`).join(', ')}`,
    '',
    'by kind:',
  ];
  for (const [kind, k] of Object.entries(r.perKind)) lines.push(`  ${kind.padEnd(20)} recall ${fmt(k.recall)} (${k.detected}/${k.total})  delay median ${minutes(k.delayMinutes.median)}  p90 ${minutes(k.delayMinutes.p90)}`);
  return `${lines.join('\n')}\n`;
}

export const evaluate: CommandModule = {
  options: {
    dataset: { type: 'string', value: '<windows.csv|windows.json>', description: 'Labelled dataset; default the synthetic suite' },
    corpus: { type: 'string', value: '<requests|metrics>', description: 'Generated suite: request series (default) or the metric-series corpus (cadences 10 s to 1 h, false alerts per series-week)' },
    seed: { type: 'string', value: '<n>', description: 'Seed of the synthetic suite; default 2 (held out)' },
    services: { type: 'string', value: '<n>', description: 'Services in the synthetic suite; default 12' },
    days: { type: 'string', value: '<n>', description: 'Days in the synthetic suite; default 3 (metric corpus: 7)' },
    detector: { type: 'string', multiple: true, value: '<plugin>', description: 'Detector to run; default the config\'s plugins.detectors' },
    vote: { type: 'string', value: '<any|majority|all>', description: 'How detectors combine; default detection.vote' },
    confirm: { type: 'string', value: '<n>', description: 'Windows to confirm an alert; default detection.confirmWindows' },
    'immediate-ratio': { type: 'string', value: '<x>', description: 'Alert at once from this multiple of the threshold; default detection.immediateRatio' },
    'scores-csv': { type: 'string', value: '<file>', description: 'Write one line per judged window' },
  },
  usage: [
    'Without --dataset, generates the synthetic suite with the held-out seed (2). Without --detector, runs',
    'the detectors of the config (plugins.detectors, with their options); --vote, --confirm and --immediate-ratio',
    'default to detection.vote, detection.confirmWindows and detection.immediateRatio. --scores-csv writes one line per',
    'judged window: timestamp,value,anomaly_score,service,tenant,anomalous,label. --corpus metrics streams the',
    'metric-series corpus (seed 2 by default, held out; tuning used seed 1) as metric points through the',
    'production windows; --services is then series per cadence (default 10: one per shape).',
  ].join('\n'),
  async run({ loaded, values: flags, json, stdout }) {
    const values = {
      dataset: stringOption(flags, 'dataset'), corpus: stringOption(flags, 'corpus'), seed: stringOption(flags, 'seed'), services: stringOption(flags, 'services'), days: stringOption(flags, 'days'),
      detector: stringsOption(flags, 'detector'), vote: stringOption(flags, 'vote'), confirm: stringOption(flags, 'confirm'),
      'immediate-ratio': stringOption(flags, 'immediate-ratio'), 'scores-csv': stringOption(flags, 'scores-csv'),
    };
    const int = (name: string, raw: string | undefined, fallback: number): number => {
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < 0) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios eval: --${name} expects a non-negative integer, got ${JSON.stringify(raw)}`);
      return n;
    };
    const ratio = (raw: string | undefined, fallback: number): number => {
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios eval: --immediate-ratio expects a non-negative number, got ${JSON.stringify(raw)}`);
      return n;
    };
    const vote = values.vote ?? loaded.config.detection.vote;
    if (vote !== 'any' && vote !== 'majority' && vote !== 'all') throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios eval: --vote must be any, majority or all, got ${JSON.stringify(vote)}`);
    // Progress on stderr (stdout stays for the result): both phases take tens of seconds on the full suite.
    const started = performance.now();
    const progress = (text: string) => process.stderr.write(`eval: ${text} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    const seed = int('seed', values.seed, HELD_OUT_SEED);
    if (values.corpus !== undefined && values.corpus !== 'requests' && values.corpus !== 'metrics') throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios eval: --corpus must be requests or metrics, got ${JSON.stringify(values.corpus)}`);
    if (values.corpus === 'metrics') {
      if (values.dataset !== undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', 'helios eval: --corpus metrics generates its own series; it cannot be combined with --dataset');
      progress(`generating the metric-series corpus, seed ${seed}`);
      const corpus = generateMetricCorpus({ seed, days: int('days', values.days, 7), ...(values.services === undefined ? {} : { seriesPerCadence: int('services', values.services, 10) }) });
      const specs: PluginSpec[] = values.detector?.map((use) => ({ use })) ?? loaded.config.plugins.detectors;
      const detectors = await loadEvaluationDetectors(specs, loaded.baseDir);
      progress(`judging ${corpus.windows.length} metric windows with ${specs.map((d) => d.use).join(' + ')}`);
      try {
        const result = await evaluateMetricCorpus({
          corpus, detectors,
          detection: { vote, confirmWindows: int('confirm', values.confirm, loaded.config.detection.confirmWindows), resolveAfterWindows: loaded.config.detection.resolveAfterWindows, immediateRatio: ratio(values['immediate-ratio'], loaded.config.detection.immediateRatio) },
        });
        progress('done');
        // The design rate the detectors were configured for (the strictest when they differ).
        const rates = specs.map((d) => Number((d.options as Record<string, unknown> | undefined)?.['falseAlertsPerWeek'] ?? DEFAULT_CALIBRATION.falseAlertsPerWeek));
        stdout(json ? `${JSON.stringify(result, null, 2)}\n` : metricEvaluationTable(result, Math.min(...rates)));
      } finally {
        for (const d of detectors) await d.shutdown();
      }
      return;
    }
    progress(values.dataset !== undefined ? `reading ${values.dataset}` : `generating the synthetic suite, seed ${seed}`);
    const dataset = values.dataset !== undefined
      ? readLabelledDataset(values.dataset)
      : generateSyntheticDataset({ seed, services: int('services', values.services, 12), days: int('days', values.days, 3) });
    const specs: PluginSpec[] = values.detector?.map((use) => ({ use })) ?? loaded.config.plugins.detectors;
    const detectors = await loadEvaluationDetectors(specs, loaded.baseDir);
    progress(`judging the windows with ${specs.map((d) => d.use).join(' + ')}`);
    try {
      const result = await evaluateDetectors({
        dataset, detectors, keepPoints: values['scores-csv'] !== undefined,
        detection: { vote, confirmWindows: int('confirm', values.confirm, loaded.config.detection.confirmWindows), resolveAfterWindows: loaded.config.detection.resolveAfterWindows, immediateRatio: ratio(values['immediate-ratio'], loaded.config.detection.immediateRatio) },
      });
      if (values['scores-csv'] !== undefined) writeFileSync(values['scores-csv'], pointsCsv(result.points ?? []));
      progress('done');
      const { points: _points, ...summary } = result;
      stdout(json ? `${JSON.stringify(summary, null, 2)}\n` : table(summary));
    } finally {
      for (const d of detectors) await d.shutdown();
    }
  },
};
