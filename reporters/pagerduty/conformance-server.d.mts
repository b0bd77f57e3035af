/** The local stand-in's handle: the options pointing the reporter at it, every request body it received, close. */
export function start(options?: { script?: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | undefined> }): Promise<{
  options: Record<string, string>;
  received: any[];
  close(): Promise<void>;
}>;
export function validatePagerDutyEvent(event: unknown): string[];
