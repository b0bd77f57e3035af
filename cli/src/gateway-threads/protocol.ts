import type { MessagePort } from 'node:worker_threads';
import { HeliosError, type ErrorCode, type HeliosConfig } from '@helios/core';
import type { IncidentWriter, StoreReader } from '@helios/store';

/**
 * Messages between the pipeline thread (main: bus, store, detection, reporting) and a gateway thread
 * (worker: HTTP only). The events themselves travel on a port of their own (bus/src/thread-bus.ts).
 */

export interface GatewayThreadData {
  config: HeliosConfig;
  /** 0 for the first thread: the only one serving OTLP/gRPC (its server cannot share a port). */
  index: number;
  /** Gateway threads in the process (they share the bus capacity). */
  threads: number;
  busPort: MessagePort;
  /** The process has a store: serve the read API through the pipeline thread. */
  hasStore: boolean;
}

/** The store reads the read API makes, answered by the pipeline thread's store. */
export const STORE_READER_METHODS = [
  'incidentContext', 'listAnomalies', 'listReports', 'getReport', 'countEvents', 'latestEventTime', 'rollups', 'searchEvents', 'eventsAfter', 'traceEvents', 'serviceOverview', 'detectorSeriesStates',
  'getIncident', 'listIncidents', 'listSilences', 'unresolvedIncidents',
] as const satisfies ReadonlyArray<keyof StoreReader>;
/** The writes of the incident and silence API (acknowledge, resolve, rate, silence), done by the pipeline thread's store. */
export const INCIDENT_API_WRITE_METHODS = ['acknowledgeIncident', 'resolveIncident', 'setIncidentFeedback', 'createSilence', 'deleteSilence'] as const satisfies ReadonlyArray<keyof IncidentWriter>;
export type StoreReaderMethod = (typeof STORE_READER_METHODS)[number] | (typeof INCIDENT_API_WRITE_METHODS)[number];

export interface ThreadError {
  code?: string;
  message: string;
  details?: readonly string[];
}

/** Worker -> main. */
export type FromGatewayThread =
  | { t: 'started'; port: number; otlpPort: number | undefined; otlpGrpcPort: number | undefined; transport: 'uws' | 'node' }
  | { t: 'failed'; error: ThreadError }
  | { t: 'stopped' }
  | { t: 'log'; line: string }
  | { t: 'gap'; from: number; to: number }
  | { t: 'store'; id: number; method: StoreReaderMethod; args: unknown[] }
  | { t: 'scrape'; id: number }
  | { t: 'metrics-json'; id: number; json: unknown };

/** Main -> worker. */
export type ToGatewayThread =
  | { t: 'stop' }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: ThreadError }
  | { t: 'metrics-json'; id: number };

export function threadError(err: unknown): ThreadError {
  if (err instanceof HeliosError) return { code: err.code, message: err.message, details: err.details };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** A HeliosError again when it was one (its code decides the HTTP status). */
export function fromThreadError(error: ThreadError): Error {
  if (error.code !== undefined) return new HeliosError(error.code as ErrorCode, error.message, { details: error.details ?? [] });
  return new Error(error.message);
}
