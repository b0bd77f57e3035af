/**
 * The SQL the per-minute rollups are computed with, published for benchmarks that time it against
 * alternatives in the same run (bench/src/store/rollup.ts); not part of the store's API.
 */
export { ROLLUP_COUNTS, ROLLUP_PERCENTILES } from './maintenance.js';
export { WEIGHTED_AVG_LATENCY, weightedLatencyPercentiles } from './weighted-sql.js';
