/** Detection evaluation: the synthetic incident suite, labelled dataset files, and the scorer behind `helios eval`. */
export { generateSyntheticDataset, INCIDENT_KINDS, type IncidentKind, type IncidentLabel, type LabelledDataset, type LabelledWindow, type SyntheticOptions } from './synthetic.js';
export { readLabelledDataset } from './dataset-file.js';
export { rocAuc } from '@helios/plugins/stats';
export { evaluateDetectors, pointsCsv, type EvaluatedDetector, type EvaluateOptions, type EvaluationResult, type PointScore, type DelayStats } from './evaluate.js';
export { loadEvaluationDetectors } from './detectors.js';
export { generateMetricCorpus, METRIC_ANOMALY_KINDS, CADENCES_MS, SHAPES, type MetricCorpus, type MetricCorpusOptions, type MetricAnomaly, type MetricAnomalyKind, type CorpusSeries, type LabelledMetricWindow, type SeriesShape } from './metric-corpus.js';
export { evaluateMetricCorpus, metricEvaluationTable, type MetricEvaluation } from './metric-evaluate.js';
