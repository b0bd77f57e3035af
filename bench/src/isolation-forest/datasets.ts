/**
 * Labelled, seeded datasets for comparing Helios's Isolation Forest with scikit-learn's. Each is a row-major
 * matrix plus a 0/1 label per row (1 = injected anomaly); the same seed always gives the same numbers.
 */
import { createRandom, type SeededRandom } from '@helios/core';

export interface LabelledDataset {
  name: string;
  description: string;
  rows: number;
  cols: number;
  /** Row-major: row r, column c at data[r * cols + c]. */
  data: Float64Array;
  labels: Uint8Array;
}

function normal(random: SeededRandom): number {
  const u = 1 - random.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
}

function uniform(random: SeededRandom, low: number, high: number): number {
  return low + (high - low) * random.nextFloat();
}

function build(name: string, description: string, rows: number[][], labels: number[]): LabelledDataset {
  const cols = rows[0].length;
  return { name, description, rows: rows.length, cols, data: Float64Array.from(rows.flat()), labels: Uint8Array.from(labels) };
}

/** 1,000 standard-normal 2-D points and 50 points uniform on [-6, 6]^2 (some of which land inside the cloud). */
export function gaussianWithOutliers(seed = 1): LabelledDataset {
  const random = createRandom(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 1000; i++) {
    rows.push([normal(random), normal(random)]);
    labels.push(0);
  }
  for (let i = 0; i < 50; i++) {
    rows.push([uniform(random, -6, 6), uniform(random, -6, 6)]);
    labels.push(1);
  }
  return build('gaussian-2d', '1000 N(0, I) points + 50 uniform on [-6, 6]^2', rows, labels);
}

/**
 * One week of 5-minute windows (2,016 rows) of a service's 7 window features — requests/s, p50 and p99
 * latency (ms), error rate, CPU, memory (MB), queue depth — with a daily traffic cycle the other features
 * follow, and 2% of windows replaced by incidents of five kinds: latency spike, error burst, CPU saturation
 * without traffic, traffic drop at a busy hour, and a memory jump.
 */
export function serviceMetrics(seed = 2): LabelledDataset {
  const random = createRandom(seed);
  const windows = 7 * 288;
  const rows: number[][] = [];
  const labels: number[] = [];
  const anomalous = new Set<number>();
  while (anomalous.size < Math.round(windows * 0.02)) anomalous.add(random.nextInt(windows));

  for (let w = 0; w < windows; w++) {
    const dayPhase = (w % 288) / 288;
    const daily = 0.5 + 0.5 * Math.sin(2 * Math.PI * (dayPhase - 0.3));
    let rps = 150 + 850 * daily * (1 + 0.08 * normal(random));
    let cpu = Math.min(0.98, 0.08 + 0.00065 * rps + 0.03 * normal(random));
    let p50 = 18 + 14 * cpu * cpu + 1.5 * normal(random);
    let p99 = p50 * (3.2 + 0.4 * normal(random));
    let errors = Math.max(0, 0.002 + 0.0015 * normal(random));
    let memory = 900 + 120 * ((w % 96) / 96) + 15 * normal(random); // GC sawtooth every 8 hours
    let queue = Math.max(0, (rps / 100) * cpu * cpu * 4 + normal(random));

    if (anomalous.has(w)) {
      switch (random.nextInt(5)) {
        case 0:
          p99 *= uniform(random, 3, 8);
          p50 *= uniform(random, 1.5, 3);
          break;
        case 1:
          errors = uniform(random, 0.03, 0.25);
          break;
        case 2:
          cpu = uniform(random, 0.9, 0.99);
          queue += uniform(random, 10, 40);
          break;
        case 3:
          rps *= uniform(random, 0.02, 0.2);
          if (daily < 0.5) rps = Math.max(1, rps * 0.2); // make the drop stand out at quiet hours too
          break;
        default:
          memory += uniform(random, 600, 1500);
          break;
      }
    }
    rows.push([rps, p50, p99, errors, cpu, memory, queue]);
    labels.push(anomalous.has(w) ? 1 : 0);
  }
  return build('service-metrics-7', '2016 five-minute windows x 7 service features, 2% incidents of 5 kinds', rows, labels);
}

/**
 * Two 5-D Gaussian clusters of different spread (600 and 400 points) and 40 anomalies: 20 scattered over
 * the bounding box and 20 "local" points in the empty space between the clusters.
 */
export function twoClusters(seed = 3): LabelledDataset {
  const random = createRandom(seed);
  const cols = 5;
  const rows: number[][] = [];
  const labels: number[] = [];
  const centreA = [0, 0, 0, 0, 0];
  const centreB = [6, 6, -4, 3, 5];
  for (let i = 0; i < 600; i++) {
    rows.push(centreA.map((c) => c + normal(random)));
    labels.push(0);
  }
  for (let i = 0; i < 400; i++) {
    rows.push(centreB.map((c) => c + 0.5 * normal(random)));
    labels.push(0);
  }
  for (let i = 0; i < 20; i++) {
    rows.push(Array.from({ length: cols }, () => uniform(random, -5, 10)));
    labels.push(1);
  }
  for (let i = 0; i < 20; i++) {
    const t = uniform(random, 0.35, 0.65);
    rows.push(centreA.map((a, c) => a + t * (centreB[c] - a) + 0.3 * normal(random)));
    labels.push(1);
  }
  return build('two-clusters-5d', '600 + 400 points in two 5-D clusters, 20 scattered + 20 between-cluster anomalies', rows, labels);
}
