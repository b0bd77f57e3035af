/**
 * Detection quality on the synthetic suite: `node bench/dist/detection/run.js [--seed N] [--detector NAME]... [--options JSON]... [--vote any|majority|all] [--confirm N] [--immediate-ratio X] [--json]`
 * (each --options belongs to the --detector at the same position)
 * (after `npx tsc -b bench`). Seed 1 is the development seed; the reported numbers use held-out seeds.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { evaluateDetectors, generateSyntheticDataset, loadEvaluationDetectors } from '@helios/cli/eval';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, detector: { type: 'string', multiple: true }, vote: { type: 'string', default: 'any' }, confirm: { type: 'string', default: '2' }, 'immediate-ratio': { type: 'string', default: '2' }, services: { type: 'string', default: '12' }, days: { type: 'string', default: '3' }, json: { type: 'boolean', default: false }, options: { type: 'string', multiple: true } } });
const t0 = performance.now();
const dataset = generateSyntheticDataset({ seed: Number(values.seed), services: Number(values.services), days: Number(values.days) });
const generatedMs = performance.now() - t0;
const names = values.detector ?? ['@helios/detector-isolation-forest'];
const detectors = await loadEvaluationDetectors(names.map((use, i) => (values.options?.[i] === undefined ? { use } : { use, options: JSON.parse(values.options[i]!) as Record<string, unknown> })), resolve(import.meta.dirname, '..', '..', '..'));
const t1 = performance.now();
const result = await evaluateDetectors({ dataset, detectors, detection: { vote: values.vote as 'any', confirmWindows: Number(values.confirm), resolveAfterWindows: 3, immediateRatio: Number(values['immediate-ratio']) } });
const evaluatedMs = performance.now() - t1;
for (const d of detectors) await d.shutdown();
const out = { ...result, generatedMs: Math.round(generatedMs), evaluatedMs: Math.round(evaluatedMs), windows: dataset.windows.length };
if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else console.dir(out, { depth: 4 });
