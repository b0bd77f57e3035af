import { join } from 'node:path';
import { HeliosError } from '@helios/core';
import isolationForest, { SeriesModel, writeModels, type IsolationForestOptions } from '@helios/detector-isolation-forest';
import { resolvePluginOptions } from '@helios/plugins';
import { WindowAggregator, type ClosedWindow } from '@helios/detection';
import { openStore } from '@helios/store';
import { parseCommandArgs, type Command } from './command.js';
import { liveCounter } from '../live-counter.js';

const DAY_MS = 86_400_000;

export const train: Command = {
  name: 'train',
  summary: 'Train the Isolation Forest models from the stored history and write them where the detector loads them',
  usage: [
    'helios train [--days N] [--service <name>] [--json]',
    '',
    'Replays the stored events of the last N days (default 7) through the',
    'production window aggregator (detection.windowMs / hopMs) and the detector\u2019s own model, per tenant+service,',
    'with the options of @helios/detector-isolation-forest from plugins.detectors. Writes',
    '<dataDir>/plugins/_helios_detector-isolation-forest/models.json (replacing it; with --service it holds that service only),',
    'which the detector loads at start (persist: true);',
    'stop Helios first, or its next save overwrites the file.',
  ].join('\n'),
  async run({ loaded, args, json, stdout }) {
    const { values } = parseCommandArgs('train', { args, strict: true, options: { days: { type: 'string' }, service: { type: 'string' } } });
    const days = values.days === undefined ? 7 : Number(values.days);
    if (!(days > 0 && days <= 31)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `helios train: --days expects a number in (0, 31], got ${JSON.stringify(values.days)}`);
    const { config } = loaded;
    const index = config.plugins.detectors.findIndex((d) => d.use === isolationForest.name);
    const options = resolvePluginOptions(isolationForest, config.plugins.detectors[index]?.options, `plugins.detectors[${index}]`) as IsolationForestOptions;
    const started = performance.now();
    const store = await openStore(config);
    const series = new Map<string, SeriesModel>();
    let events = 0;
    let windows = 0;
    const live = liveCounter(process.stderr);
    try {
      const to = Date.now();
      const { windowMs, hopMs, allowedLatenessMs } = config.detection;
      // No gap detection: a quiet span in stored history is what it was, not a pipeline outage in progress.
      const aggregator = new WindowAggregator({ windowMs, hopMs, allowedLatenessMs });
      // The detector's own path: each window judged, and learnt from only when normal, in order per series.
      const judge = (closed: ClosedWindow[]): void => {
        for (const w of closed) {
          const key = `${w.tenant}/${w.service}`;
          let model = series.get(key);
          if (model === undefined) series.set(key, (model = new SeriesModel(options)));
          model.observe(w);
          windows++;
        }
      };
      for await (const page of store.scanEvents({ from: to - days * DAY_MS, to, service: values.service })) {
        for (const e of page) aggregator.add(e, to);
        events += page.length;
        judge(aggregator.closeReady());
        live.update(`${events} events, ${windows} windows, ${series.size} series`);
      }
      judge(aggregator.closeUpTo(aggregator.watermark));
    } finally {
      live.done();
      await store.close();
    }
    const stateDir = join(config.dataDir, 'plugins', isolationForest.name.replace(/[^a-zA-Z0-9._-]+/g, '_'));
    const trained = [...series].filter(([, m]) => m.trained);
    const written = writeModels(stateDir, new Map(trained));
    const result = {
      file: written.file, bytes: written.bytes, events, windows, seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      series: Object.fromEntries([...series].map(([key, m]) => [key, { trained: m.trained, trainingWindows: m.trainingWindows, modelVersion: m.modelVersion }])),
    };
    if (json) {
      stdout(`${JSON.stringify(result)}\n`);
      return;
    }
    const lines = [`${events} events, ${windows} windows in ${result.seconds} s; ${trained.length} of ${series.size} series trained`];
    for (const [key, m] of series) lines.push(`  ${key.padEnd(32)} ${m.trained ? `${m.trainingWindows} training windows, ${m.modelVersion}` : `cold (fewer than ${options.minTrainingWindows} windows)`}`);
    lines.push(`models: ${written.file} (${(written.bytes / 1024).toFixed(0)} KiB)`);
    stdout(`${lines.join('\n')}\n`);
  },
};
