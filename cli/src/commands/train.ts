import { createLogger, createMetricsRegistry, HeliosError, type FeatureWindow } from '@helios/core';
import { WindowAggregator } from '@helios/detection';
import { loadPlugins, type DetectorHooks, type TrainingResult } from '@helios/plugins';
import { openStore, type Store } from '@helios/store';
import { stringOption, type CommandModule } from './command.js';
import { liveCounter } from '../live-counter.js';

const DAY_MS = 86_400_000;

/**
 * The stored events of [from, to) as closed request-feature windows, through the production window
 * aggregator (detection.windowMs / hopMs), in pages; `onPage` sees the running counts.
 */
async function* storedWindows(
  store: Store, window: { windowMs: number; hopMs: number; allowedLatenessMs: number }, range: { from: number; to: number; service?: string | undefined },
  onPage: (events: number, windows: number) => void,
): AsyncGenerator<readonly FeatureWindow[]> {
  // No gap detection: a quiet span in stored history is what it was, not a pipeline outage in progress.
  const aggregator = new WindowAggregator(window);
  let events = 0;
  let windows = 0;
  for await (const page of store.scanEvents({ from: range.from, to: range.to, service: range.service })) {
    for (const e of page) aggregator.add(e, range.to);
    events += page.length;
    const closed = aggregator.closeReady();
    windows += closed.length;
    onPage(events, windows);
    if (closed.length > 0) yield closed;
  }
  const last = aggregator.closeUpTo(aggregator.watermark);
  windows += last.length;
  onPage(events, windows);
  if (last.length > 0) yield last;
}

export const train: CommandModule = {
  options: {
    days: { type: 'string', value: '<n>', description: 'Days of stored history to replay, up to 31; default 7' },
    service: { type: 'string', value: '<name>', description: 'Train this service only' },
  },
  usage: [
    'Replays the stored events of the last N days (default 7) through the production window aggregator',
    '(detection.windowMs / hopMs) and hands the windows to every detector in plugins.detectors that has a',
    'train hook (plugin API 1.2; @helios/detector-isolation-forest has one), with its configured options. Each',
    'saves its models where it loads them at start, in its state folder (<dataDir>/plugins/<name>), replacing',
    'them (with --service they hold that service only); stop Helios first, or its next save overwrites them.',
  ].join('\n'),
  async run({ loaded, values: flags, json, stdout }) {
    const values = { days: stringOption(flags, 'days'), service: stringOption(flags, 'service') };
    const days = values.days === undefined ? 7 : Number(values.days);
    if (!(days > 0 && days <= 31)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios train: --days expects a number in (0, 31], got ${JSON.stringify(values.days)}`);
    const { config, baseDir } = loaded;
    const started = performance.now();
    const store = await openStore(config);
    const live = liveCounter(process.stderr);
    const logger = createLogger({ level: 'warn' });
    const detectors = await loadPlugins(config.plugins.detectors, 'detector', {
      baseDir, logger, metrics: createMetricsRegistry(), store, detectorState: store, dataDir: config.dataDir, timeoutMs: config.plugins.timeoutMs,
    }).catch(async (err: unknown) => {
      await store.close();
      throw err;
    });
    const trainable = detectors.filter((d) => (d.hooks as DetectorHooks).train !== undefined);
    const results: Array<{ detector: string } & TrainingResult> = [];
    let events = 0;
    let windows = 0;
    try {
      if (trainable.length === 0) {
        throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios train: none of plugins.detectors (${detectors.map((d) => d.name).join(', ') || 'none'}) has a train hook`);
      }
      const to = Date.now();
      const { windowMs, hopMs, allowedLatenessMs } = config.detection;
      // One replay per detector: each reads the history as its own stream, in order.
      for (const detector of trainable) {
        const history = storedWindows(store, { windowMs, hopMs, allowedLatenessMs }, { from: to - days * DAY_MS, to, service: values.service }, (e, w) => {
          events = e;
          windows = w;
          live.update(`${detector.name}: ${e} events, ${w} windows`);
        });
        results.push({ detector: detector.name, ...(await (detector.hooks as DetectorHooks).train!({ windows: history })) });
      }
    } finally {
      live.done();
      await Promise.all(detectors.map((d) => d.shutdown()));
      await store.close();
    }
    const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
    // The first trained detector's figures at the top level, as before the train hook (scripts read them).
    const first = results[0]!;
    const result = { file: first.saved?.file, bytes: first.saved?.bytes, events, windows, seconds, series: first.series, detectors: results };
    if (json) {
      stdout(`${JSON.stringify(result)}\n`);
      return;
    }
    const lines = [`${events} events, ${windows} windows in ${seconds} s`];
    for (const r of results) {
      const entries = Object.entries(r.series);
      lines.push(`${r.detector}: ${entries.filter(([, s]) => s.trained).length} of ${entries.length} series trained`);
      for (const [key, s] of entries) lines.push(`  ${key.padEnd(32)} ${s.trained ? `${s.trainingWindows} training windows${s.modelVersion === undefined ? '' : `, ${s.modelVersion}`}` : 'cold'}`);
      for (const note of r.notes ?? []) lines.push(`  ${note}`);
      if (r.saved !== undefined) lines.push(`  models: ${r.saved.file} (${(r.saved.bytes / 1024).toFixed(0)} KiB)`);
    }
    stdout(`${lines.join('\n')}\n`);
  },
};
