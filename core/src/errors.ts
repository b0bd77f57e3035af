/**
 * Every error Helios raises on purpose carries a stable code (searchable, asserted by tests)
 * and, where it reaches an HTTP client, the status it maps to. Message text may change; codes do not.
 */
export const ErrorCodes = {
  HLS_ERR_CONFIG_INVALID: { status: 500, summary: 'configuration is invalid' },
  HLS_ERR_CONFIG_NOT_FOUND: { status: 500, summary: 'configuration file not found' },
  HLS_ERR_USAGE: { status: 500, summary: 'command-line arguments are invalid' },
  HLS_ERR_PORT_IN_USE: { status: 500, summary: 'the port is already in use by another process' },
  HLS_ERR_EVENT_INVALID: { status: 400, summary: 'event failed validation' },
  HLS_ERR_BODY_MALFORMED: { status: 400, summary: 'request body could not be parsed' },
  HLS_ERR_BODY_EMPTY: { status: 400, summary: 'request body is empty' },
  HLS_ERR_BODY_TOO_LARGE: { status: 413, summary: 'request body exceeds the limit' },
  HLS_ERR_TOO_MANY_EVENTS: { status: 413, summary: 'too many events in one request' },
  HLS_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'unsupported content type or encoding' },
  HLS_ERR_UNAUTHORIZED: { status: 401, summary: 'missing or invalid API key' },
  HLS_ERR_QUERY_INVALID: { status: 400, summary: 'a query parameter is unknown, repeated or invalid' },
  HLS_ERR_REQUEST_INVALID: { status: 400, summary: 'request body failed validation' },
  HLS_ERR_NOT_FOUND: { status: 404, summary: 'no such route' },
  HLS_ERR_METHOD_NOT_ALLOWED: { status: 405, summary: 'method not allowed' },
  HLS_ERR_BUS_FULL: { status: 429, summary: 'the event bus is full; retry later' },
  HLS_ERR_BUS_CLOSED: { status: 503, summary: 'the event bus is closed' },
  HLS_ERR_SHUTTING_DOWN: { status: 503, summary: 'the server is shutting down' },
  HLS_ERR_DEADLINE_EXCEEDED: { status: 504, summary: "the client's deadline passed before the records were taken" },
  HLS_ERR_OVERLOADED: { status: 503, summary: 'the server is at its memory budget for request bodies; retry later' },
  HLS_ERR_PLUGIN_NOT_FOUND: { status: 500, summary: 'plugin could not be resolved' },
  HLS_ERR_PLUGIN_INVALID: { status: 500, summary: 'plugin module does not export a Helios plugin' },
  HLS_ERR_PLUGIN_CONFIG: { status: 500, summary: 'plugin options are invalid' },
  HLS_ERR_PLUGIN_API_MISMATCH: { status: 500, summary: 'plugin was built for another plugin API version' },
  HLS_ERR_PLUGIN_TIMEOUT: { status: 500, summary: 'plugin hook exceeded its time limit' },
  HLS_ERR_PLUGIN_FAILED: { status: 500, summary: 'plugin hook threw' },
  HLS_ERR_STORE: { status: 503, summary: 'the store failed' },
  HLS_ERR_KAFKA_CLIENT_MISSING: { status: 500, summary: 'bus.kind is kafka but the Kafka client libraries of @helios/bus are not installed' },
  HLS_ERR_INTERNAL: { status: 500, summary: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class HeliosError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Every individual problem, e.g. one line per failed field: `[2].latency_ms: expected number, got "abc"`. */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message?: string, options?: { details?: readonly string[]; cause?: unknown }) {
    super(message ?? ErrorCodes[code].summary, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeliosError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.details = options?.details ?? [];
  }

  toJSON(): { code: ErrorCode; message: string; details?: readonly string[] } {
    return this.details.length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

export function isHeliosError(err: unknown, code?: ErrorCode): err is HeliosError {
  return err instanceof HeliosError && (code === undefined || err.code === code);
}
