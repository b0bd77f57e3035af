// Robust statistics for detector authors: @helios/plugins/stats. The detection engine uses the same helpers.
export {
  robustBaseline, robustZScores, judgedValue, judgedVector, unjudgedValue, tailSupported, samplingNoise, pooledErrorRate, errorCountZ, upperNormalQuantile, logGamma,
  TAIL_SHARE, type RobustBaseline,
} from './robust-stats.js';
export { median, medianOfSorted, quantileOf, quantileOfSorted, rocAuc, upperQuantileOfSorted } from './quantiles.js';
export { metricVector, metricUnjudged, metricBaseline, metricZScores, metricExplanation } from './metric-stats.js';
export { CalibratedSeries, TailThreshold, calibrationConfig, calibrationOf, tailQuantile, exceedanceProbability, DEFAULT_CALIBRATION, type CalibrationOptions, type CalibratedSeriesState, type CalibratedSeriesSnapshot, type CalibratedJudgement } from './calibrated-series.js';
export { CalibratedMetricSeries, type CalibratedMetricSnapshot } from './calibrated-metric.js';
export { createMetricJudges, encodeMetricJudge, decodeMetricJudge, METRIC_JUDGE_STATE_VERSION, type MetricJudges } from './calibrated-series-state.js';
