/**
 * @helios/sdk: one-line Helios setup for Node apps on OpenTelemetry, structured events and logs
 * correlated with the active trace, and a reliable Helios JSON exporter.
 * Framework middleware lives in subpath exports: `@helios/sdk/middleware/http`, `/express`, `/fastify`.
 */
export { init, createHeliosClient } from './client.js';
export type { HeliosClient, HeliosLogger, HeliosStats, EventOptions, LogMethod } from './client.js';
export type { HeliosOptions, OfflineBufferOptions, OtelOptions, BeforeSend } from './config.js';
export { defaultConfig, resolveConfig } from './config.js';
export type { WireEvent, Level, LevelInput, EventKind, Attributes, AttributeValue } from './event.js';
export { HeliosSdkError, SdkErrorCodes } from './errors.js';
export type { SdkErrorCode, DiagnosticHandler } from './errors.js';
