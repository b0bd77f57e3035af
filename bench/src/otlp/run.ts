/**
 * Runs the OTLP decoder bench on its own: `node bench/dist/otlp/run.js [--json]` (after `npx tsc -b bench`).
 */
import { runOtlpBench } from './suite.js';

const json = process.argv.includes('--json');
const results = await runOtlpBench({ json });
if (json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const format = (value: number | undefined) => (value === undefined ? '' : Number(value.toPrecision(4)).toString());
  console.table(
    results.map((r) => ({
      name: r.name,
      value: format(r.value),
      unit: r.unit,
      baseline: r.baseline ?? '',
      'baseline value': format(r.baselineValue),
      'ours / baseline': format(r.ratio),
    })),
  );
}
