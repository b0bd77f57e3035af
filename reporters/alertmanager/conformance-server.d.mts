/** The local stand-in's handle: the options pointing the reporter at it, every request body it received, close. */
export function start(options?: { script?: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | undefined> }): Promise<{
  options: Record<string, string>;
  received: any[];
  /** Silence requests: POST /api/v2/silences (with body) and DELETE /api/v2/silence/{id}, in order. */
  requests: Array<{ method: 'POST' | 'DELETE'; path: string; body?: any; headers: Record<string, unknown> }>;
  /** Silences by id, with `status.state` (active, pending, expired). */
  silences: Map<string, any>;
  close(): Promise<void>;
}>;
export function validatePostableAlerts(body: unknown): string[];
export function validatePostableSilence(body: unknown, now?: number): string[];
