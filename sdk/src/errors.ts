/**
 * Every error or diagnostic the SDK raises on purpose carries a stable code. Users search for codes and
 * tests assert them; message text may change, codes do not.
 */
export const SdkErrorCodes = {
  HLS_ERR_SDK_CONFIG_INVALID: 'an init() option or environment variable is invalid',
  HLS_ERR_SDK_QUEUE_FULL: 'the in-memory queue is full; events are being dropped',
  HLS_ERR_SDK_EXPORT_REJECTED: 'the gateway rejected a batch as invalid (4xx); the batch was dropped',
  HLS_ERR_SDK_UNAUTHORIZED: 'the gateway refused the API key (401/403); the batch was dropped',
  HLS_ERR_SDK_EXPORT_RETRYING: 'the gateway is unreachable or overloaded; retrying with backoff',
  HLS_ERR_SDK_OFFLINE_BUFFER: 'the offline buffer could not read or write its directory',
  HLS_ERR_SDK_OFFLINE_BUFFER_LOCKED: 'another live process holds the offline buffer directory; the buffer is off',
  HLS_ERR_SDK_OFFLINE_BUFFER_FULL: 'the offline buffer reached maxBytes; events are being dropped',
  HLS_ERR_SDK_OTEL: 'the OpenTelemetry SDK failed to start or shut down',
} as const;

export type SdkErrorCode = keyof typeof SdkErrorCodes;

export class HeliosSdkError extends Error {
  readonly code: SdkErrorCode;

  constructor(code: SdkErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? SdkErrorCodes[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeliosSdkError';
    this.code = code;
  }
}

/** Receives the SDK's own problems. The SDK never throws into the application after init(). */
export type DiagnosticHandler = (error: HeliosSdkError) => void;

/**
 * Default handler: one process warning per code per client, so an outage cannot flood stderr.
 * Counters in `stats()` keep the full tally.
 */
export function createDefaultDiagnosticHandler(): DiagnosticHandler {
  const reported = new Set<SdkErrorCode>();
  return function warnOncePerCode(error) {
    if (reported.has(error.code)) return;
    reported.add(error.code);
    process.emitWarning(error.message, { type: 'HeliosSdkWarning', code: error.code });
  };
}
