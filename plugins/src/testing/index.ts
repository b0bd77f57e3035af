export { checkPluginConformance, type ConformanceOptions, type ConformanceResult } from './conformance.js';
export { FIXTURE_T0, normalFeatures, windowSeries, metricWindowSeries, errorCountSeries, anomalousWindow, sampleContext, sampleIncident, fixtureStore, testHost } from './fixtures.js';
export { createTestHost, createSeededStore, createRecordingLogger, fixtureEvents, type TestHost, type SeededStoreOptions, type RecordingLogger, type LogRecord } from './host.js';
export { configRows, configTableMarkdown, markedSection, readmeOptionsSection, type ConfigRow } from './config-table.js';
export { setupReporter } from './setup-reporter.js';
export { sampleReport, startRecordingServer, closeAfterEach, type RecordedRequest, type RecordingServer, type ScriptedReply } from './reporter-fixtures.js';
export { testStores, type TestStore } from './test-stores.js';
