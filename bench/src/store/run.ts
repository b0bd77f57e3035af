/**
 * Runs the store bench on its own: `HELIOS_PG_URL=... node bench/dist/store/run.js [--json]` (after `npx tsc -b bench`).
 */
import { runStoreBench } from './suite.js';

const json = process.argv.includes('--json');
const results = await runStoreBench({ json });
if (json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const format = (value: number | undefined) => (value === undefined ? '' : Number(value.toPrecision(4)).toString());
  console.table(results.map((r) => ({ name: r.name, value: format(r.value), unit: r.unit, baseline: r.baseline ?? '', 'ours / baseline': format(r.ratio) })));
}
