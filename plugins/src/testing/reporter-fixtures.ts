import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newEventId, type Incident, type IncidentReport, type Severity } from '@helios/core';
import type { ReportDraft } from '../define.js';
import { renderReportMarkdown } from '../report-markdown.js';
import { sampleIncident } from './fixtures.js';

/**
 * The sample incident and a report on it as the report runtime would store it, drafted by `compose` (the
 * template composer, passed in: this package cannot depend on a reporter), for deliverers' wire-format tests.
 */
export function sampleReport(compose: (incident: Incident) => ReportDraft, overrides: { severity?: Severity } = {}): { report: IncidentReport; incident: Incident } {
  const incident = sampleIncident();
  const draft = { ...compose(incident), ...overrides };
  const createdAt = Date.now();
  const report: IncidentReport = {
    id: newEventId(), anomalyId: incident.anomaly.id, tenant: incident.anomaly.tenant, service: incident.anomaly.service, createdAt,
    composer: '@helios/reporter-template', notes: [], deliveries: [], title: draft.title, severity: draft.severity, sections: draft.sections,
    markdown: renderReportMarkdown(draft, incident, { composer: 'template', createdAt }),
  };
  return { report, incident };
}

/** One request a recording server received: arrival time (performance.now()), method, path, raw body, headers. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  raw: string;
  headers: IncomingHttpHeaders;
}

export interface ScriptedReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface RecordingServer {
  /** `http://127.0.0.1:<port>` plus `path`. */
  url: string;
  received: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP server standing in for a paging service (a webhook receiver, Slack's incoming webhook):
 * records every request, and answers the n-th from `script[n]` (the last entry repeats when `repeatLast`),
 * or else from `respond` (default 200 with an empty body).
 */
export async function startRecordingServer(options: { path?: string; script?: readonly ScriptedReply[]; repeatLast?: boolean; respond?: (request: RecordedRequest) => ScriptedReply } = {}): Promise<RecordingServer> {
  const received: RecordedRequest[] = [];
  const script = options.script ?? [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: RecordedRequest = { at: performance.now(), method: req.method ?? '', path: req.url ?? '', raw: Buffer.concat(chunks).toString('utf8'), headers: req.headers };
      received.push(request);
      const n = received.length - 1;
      const reply = script[options.repeatLast === true ? Math.min(n, script.length - 1) : n] ?? options.respond?.(request) ?? { status: 200 };
      res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${options.path ?? '/'}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Closes what a test started after it ends: `const closing = closeAfterEach(afterEach)` once per file, then
 * `const server = await closing(start())`. The test framework's hook is passed in (no dependency on it here).
 */
export function closeAfterEach(afterEach: (fn: () => Promise<void>) => void): <T extends { close(): Promise<void> }>(started: Promise<T> | T) => Promise<T> {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((o) => o.close()));
  });
  return async (started) => {
    const handle = await started;
    open.push(handle);
    return handle;
  };
}
