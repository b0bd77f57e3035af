/** `helios loadgen`: request bodies (Helios JSON, OTLP/JSON, OTLP protobuf) and the runner that sends them. */
export { prepareRequests, type LoadFormat, type LoadOptions, type LoadProgress, type LoadReport, type PreparedRequest } from './loadgen.js';
export { runLoad } from './run-load.js';
