import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import {
  averagePathLength,
  loadIsolationForest,
  trainIsolationForest,
  type SerializedIsolationForest,
} from './forest.js';
import { createRandom } from '@helios/core';

/** Standard-normal rows from a seeded generator (Box–Muller), so every test sees the same data. */
function gaussianRows(count: number, cols: number, seed: number): number[][] {
  const random = createRandom(seed);
  const rows: number[][] = [];
  for (let r = 0; r < count; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) {
      const u = 1 - random.nextFloat();
      row.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat()));
    }
    rows.push(row);
  }
  return rows;
}

function decodeInt32(base64: string): Int32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Int32Array(new Uint8Array(bytes).buffer);
}

function splitFeatures(model: SerializedIsolationForest): Set<number> {
  return new Set(Array.from(decodeInt32(model.feature)).filter((f) => f >= 0));
}

describe('averagePathLength (c(n))', () => {
  it('has the known values of the paper and scikit-learn', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // scikit-learn's _average_path_length([3, 10, 256]) = [1.20739236, 3.74888048, 10.24477092]
    expect(averagePathLength(3)).toBeCloseTo(1.20739236, 8);
    expect(averagePathLength(10)).toBeCloseTo(3.74888048, 8);
    expect(averagePathLength(256)).toBeCloseTo(10.24477092, 8);
  });
});


describe('trainIsolationForest', () => {
  const cloud = gaussianRows(500, 2, 7);
  const outlier = [6, -6];
  const training = [...cloud, outlier];

  it('scores in (0, 1) and ranks an obvious outlier above every inlier', () => {
    const forest = trainIsolationForest(training, { seed: 3 });
    expect(forest.features).toBe(2);
    expect(forest.trees).toBe(100);
    expect(forest.sampleSize).toBe(256);

    const inlierScores = forest.scoreMany(cloud);
    for (const s of inlierScores) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(1);
    }
    const outlierScore = forest.score(outlier);
    expect(outlierScore).toBeLessThan(1);
    expect(outlierScore).toBeGreaterThan(Math.max(...inlierScores));
    expect(outlierScore).toBeGreaterThan(0.7);
    // The centre of the cloud is ordinary: well under the 0.5 line the paper uses.
    expect(forest.score([0, 0])).toBeLessThan(0.5);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = trainIsolationForest(training, { seed: 42 });
    const b = trainIsolationForest(training, { seed: 42 });
    const c = trainIsolationForest(training, { seed: 43 });
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(Array.from(b.scoreMany(cloud))).toEqual(Array.from(a.scoreMany(cloud)));

    expect(c.toJSON().threshold).not.toBe(a.toJSON().threshold);
    const scoresA = a.scoreMany(cloud);
    const scoresC = c.scoreMany(cloud);
    expect(scoresC.some((s, i) => s !== scoresA[i])).toBe(true);
  });

  it('accepts a row-major matrix and builds the same model as from an array of rows', () => {
    const data = Float64Array.from(training.flat());
    const fromMatrix = trainIsolationForest({ data, rows: training.length, cols: 2 }, { seed: 9, trees: 20 });
    const fromRows = trainIsolationForest(training, { seed: 9, trees: 20 });
    expect(fromMatrix.toJSON()).toEqual(fromRows.toJSON());
    expect(Array.from(fromMatrix.scoreMany({ data, rows: training.length, cols: 2 }))).toEqual(
      Array.from(fromRows.scoreMany(training)),
    );
  });

  it('caps sampleSize at the number of rows and honours trees', () => {
    const forest = trainIsolationForest(cloud.slice(0, 50), { trees: 7, sampleSize: 256 });
    expect(forest.sampleSize).toBe(50);
    expect(forest.trees).toBe(7);
    expect(forest.toJSON().treeStart).toHaveLength(7);
  });

  it('skips features that are constant, and makes a leaf when every feature is', () => {
    const rows = cloud.map(([x, y]) => [x, 5, y]);
    const forest = trainIsolationForest(rows, { seed: 1 });
    expect(splitFeatures(forest.toJSON())).toEqual(new Set([0, 2]));
    // The constant feature cannot change a score or earn attribution.
    expect(forest.score([4, -1000, 4])).toBe(forest.score([4, 5, 4]));
    expect(forest.attribution([4, 5, 4])[1]).toBe(0);

    const flat = trainIsolationForest(
      Array.from({ length: 300 }, () => [1, 2, 3]),
      { trees: 10 },
    );
    const model = flat.toJSON();
    expect(model.nodes).toBe(10); // one leaf per tree
    // Every tree is a leaf of 256 rows: h = c(256), so s = 2^-1 for any row.
    expect(flat.score([1, 2, 3])).toBe(0.5);
    expect(flat.score([100, -100, 0])).toBe(0.5);
    expect(Array.from(flat.attribution([100, 2, 3]))).toEqual([0, 0, 0]);
  });

  it('splits each tree on at most maxFeatures features', () => {
    const rows = gaussianRows(300, 5, 11);
    const forest = trainIsolationForest(rows, { maxFeatures: 1, trees: 30, seed: 5 });
    const json = forest.toJSON();
    const feature = decodeInt32(json.feature);
    const perTree = json.treeStart.map((start, t) => {
      const end = json.treeStart[t + 1] ?? json.nodes;
      return new Set(Array.from(feature.subarray(start, end)).filter((f) => f >= 0));
    });
    for (const used of perTree) expect(used.size).toBe(1);
    // Across trees, every feature gets its turn.
    expect(new Set(perTree.flatMap((used) => [...used])).size).toBe(5);
  });

  it('rejects bad options and bad rows with the key or position named', () => {
    expect(() => trainIsolationForest(cloud, { tree: 10 } as never)).toThrow(
      /unknown isolation forest option 'tree'; valid options: trees, sampleSize, seed, maxFeatures/,
    );
    expect(() => trainIsolationForest(cloud, { trees: 0 })).toThrow(/'trees' must be an integer/);
    expect(() => trainIsolationForest(cloud, { sampleSize: 1 })).toThrow(/'sampleSize'/);
    expect(() => trainIsolationForest(cloud, { maxFeatures: 3 })).toThrow(/'maxFeatures' must be an integer in \[1, 2\]/);
    expect(() => trainIsolationForest(cloud, { seed: 0.5 })).toThrow(/'seed' must be a safe integer/);
    expect(() => trainIsolationForest([[1, 2]])).toThrow(/at least 2 rows/);
    expect(() => trainIsolationForest([[1, 2], [3]])).toThrow(/row 1 has 1 features, row 0 has 2/);
    expect(() => trainIsolationForest([[1, 2], [3, Number.NaN]])).toThrow(/row 1 feature 1 is NaN/);
    expect(() => trainIsolationForest([[1, 2], [3, Infinity]])).toThrow(/row 1 feature 1 is Infinity/);

    const forest = trainIsolationForest(cloud, { trees: 5 });
    expect(() => forest.score([1, 2, 3])).toThrow(/row has 3 features, the model was trained on 2/);
    expect(() => forest.score([1, Number.NaN])).toThrow(/row\[1\] is NaN/);
    expect(forest.score([Infinity, 0])).toBeGreaterThan(forest.score([0, 0]));
    expect(forest.scoreMany([])).toHaveLength(0);
  });
});

describe('attribution', () => {
  const cols = 7;
  const rows = gaussianRows(2016, cols, 21);
  const forest = trainIsolationForest(rows, { seed: 8 });
  const ordinary = [0.1, -0.2, 0.3, 0, -0.1, 0.2, -0.3];

  it('sums to 1 over the features', () => {
    const shares = forest.attribution(ordinary);
    expect(shares).toHaveLength(cols);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (const share of shares) expect(share).toBeGreaterThanOrEqual(0);
  });

  it.each(Array.from({ length: cols }, (_, f) => f))('names feature %i when only it is extreme', (f) => {
    const row = [...ordinary];
    row[f] = f % 2 === 0 ? 8 : -8;
    const shares = Array.from(forest.attribution(row));
    const top = shares.indexOf(Math.max(...shares));
    expect(top).toBe(f);
    // Not a narrow win: the extreme feature carries most of the explanation.
    expect(shares[f]).toBeGreaterThan(0.5);
    expect(forest.score(row)).toBeGreaterThan(forest.score(ordinary));
  });
});

describe('serialization', () => {
  const rows = gaussianRows(600, 3, 5);
  rows.push([9, 9, -9]);
  const forest = trainIsolationForest(rows, { seed: 77, trees: 50 });
  const json = JSON.stringify(forest);
  const scores = Array.from(forest.scoreMany(rows));

  it('round-trips through JSON with identical scores and attribution', () => {
    const parsed = JSON.parse(json) as SerializedIsolationForest;
    expect(parsed.format).toBe('helios-iforest');
    expect(parsed.version).toBe(1);
    const loaded = loadIsolationForest(parsed);
    expect(loaded.features).toBe(3);
    expect(loaded.trees).toBe(50);
    expect(loaded.sampleSize).toBe(256);
    expect(Array.from(loaded.scoreMany(rows))).toEqual(scores);
    expect(Array.from(loaded.attribution([9, 9, -9]))).toEqual(Array.from(forest.attribution([9, 9, -9])));
    expect(JSON.stringify(loaded)).toBe(json);
  });

  describe('in a new Node process', () => {
    // A fresh process must reproduce the scores from the JSON alone. Node cannot run TypeScript, so the test
    // transpiles the current forest.ts and core's seeded-random.ts (no build step, no stale dist/) into a temporary folder
    // and runs a small script there with plain `node`.
    const work = mkdtempSync(join(tmpdir(), 'helios-iforest-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it('loads the model and gives identical scores; retraining with the seed gives the same model', () => {
      const here = dirname(fileURLToPath(import.meta.url));
      // The generator is @helios/core's seeded-random.ts; the copy here has no node_modules, so forest.js imports it by path.
      const sources = { forest: join(here, 'forest.ts'), 'forest-input': join(here, 'forest-input.ts'), random: join(here, '../../../core/src/seeded-random.ts') };
      for (const [name, file] of Object.entries(sources)) {
        const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        });
        writeFileSync(join(work, `${name}.js`), outputText.replace("from '@helios/core'", "from './random.js'"));
      }
      writeFileSync(join(work, 'package.json'), '{"type":"module"}');
      writeFileSync(join(work, 'model.json'), json);
      writeFileSync(join(work, 'rows.json'), JSON.stringify(rows));
      writeFileSync(
        join(work, 'check.js'),
        [
          "import { readFileSync } from 'node:fs';",
          "import { loadIsolationForest, trainIsolationForest } from './forest.js';",
          "const model = loadIsolationForest(JSON.parse(readFileSync(new URL('./model.json', import.meta.url), 'utf8')));",
          "const rows = JSON.parse(readFileSync(new URL('./rows.json', import.meta.url), 'utf8'));",
          'const retrained = trainIsolationForest(rows, { seed: 77, trees: 50 });',
          'process.stdout.write(JSON.stringify({ scores: Array.from(model.scoreMany(rows)), retrained: JSON.stringify(retrained) }));',
        ].join('\n'),
      );
      const output = execFileSync(process.execPath, [join(work, 'check.js')], { encoding: 'utf8' });
      const result = JSON.parse(output) as { scores: number[]; retrained: string };
      expect(result.scores).toEqual(scores);
      expect(result.retrained).toBe(json);
    });
  });

  function corrupt(change: (model: Record<string, unknown>) => void): () => unknown {
    const model = JSON.parse(json) as Record<string, unknown>;
    change(model);
    return () => loadIsolationForest(model as unknown as SerializedIsolationForest);
  }

  function rewriteInt32(model: Record<string, unknown>, key: string, edit: (values: Int32Array) => void): void {
    const values = decodeInt32(model[key] as string);
    edit(values);
    model[key] = Buffer.from(values.buffer).toString('base64');
  }

  it('rejects unknown formats and versions, naming what was wrong', () => {
    expect(corrupt((m) => (m.format = 'sklearn-pickle'))).toThrow(
      'unsupported model format "sklearn-pickle": expected "helios-iforest"',
    );
    expect(corrupt((m) => delete m.format)).toThrow('unsupported model format undefined: expected "helios-iforest"');
    expect(corrupt((m) => (m.version = 2))).toThrow('unsupported helios-iforest version 2: this build reads version 1');
    expect(corrupt((m) => (m.version = '1'))).toThrow('unsupported helios-iforest version "1"');
    expect(corrupt((m) => (m.encoding = 'numbers'))).toThrow(/unsupported helios-iforest encoding "numbers"/);
    expect(() => loadIsolationForest(null as never)).toThrow(/must be an object, got null/);
    expect(() => loadIsolationForest('{}' as never)).toThrow(/got a string: JSON.parse it first/);
  });

  it('rejects structurally broken models instead of scoring with them', () => {
    expect(corrupt((m) => (m.features = 0))).toThrow(/features must be an integer >= 1, got 0/);
    expect(corrupt((m) => (m.treeStart = [0]))).toThrow(/treeStart must be an array of 50/);
    expect(corrupt((m) => (m.threshold = (m.threshold as string).slice(0, -8)))).toThrow(/threshold/);
    expect(corrupt((m) => (m.size = '***'))).toThrow(/size must be a base64 string/);
    expect(corrupt((m) => rewriteInt32(m, 'feature', (f) => (f[0] = 3)))).toThrow(/node 0 splits on feature 3 of 3/);
    // A right child pointing back up the tree would make scoring loop forever.
    expect(corrupt((m) => rewriteInt32(m, 'right', (r) => (r[0] = 0)))).toThrow(/node 0 has children 1 and 0/);
    expect(corrupt((m) => rewriteInt32(m, 'size', (s) => (s[1] += 1)))).toThrow(/node 0 holds 256 rows but its children hold 257/);
  });
});

describe('properties', () => {
  // Small data with many ties and constant columns: the cases where a split could go wrong.
  const smallData = fc
    .integer({ min: 1, max: 4 })
    .chain((cols) =>
      fc.array(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: cols, maxLength: cols }), {
        minLength: 2,
        maxLength: 60,
      }),
    );

  it('any data gives scores in (0, 1), a model that reloads, and identical scores after reloading', () => {
    fc.assert(
      fc.property(smallData, fc.integer({ min: 2, max: 64 }), fc.integer(), (rows, sampleSize, seed) => {
        const forest = trainIsolationForest(rows, { trees: 8, sampleSize, seed });
        const scores = forest.scoreMany(rows);
        for (const s of scores) {
          expect(s).toBeGreaterThan(0);
          expect(s).toBeLessThan(1);
        }
        const loaded = loadIsolationForest(JSON.parse(JSON.stringify(forest)) as SerializedIsolationForest);
        expect(Array.from(loaded.scoreMany(rows))).toEqual(Array.from(scores));
        const shares = forest.attribution(rows[0]);
        const total = shares.reduce((a, b) => a + b, 0);
        expect(total === 0 || Math.abs(total - 1) < 1e-12).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
