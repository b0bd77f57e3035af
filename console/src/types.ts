/** The shapes of the read API's answers that the console reads (see GET /api/v1/openapi.json). */
export type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL';
export const LEVELS: readonly Level[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'];
export type Severity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'resolved'];

export interface HeliosEvent {
  id: string;
  timestamp: number;
  service: string;
  level: Level;
  message: string;
  kind: string;
  endpoint: string | null;
  latency_ms: number | null;
  status_code: number | null;
  error_code: string | null;
  trace_id: string | null;
  span_id: string | null;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  tenant: string;
}

export interface ServicePoint { minute: number; events: number; errors: number; latencyP95Ms: number | null }

export interface ServiceOverview {
  tenant: string;
  service: string;
  eventsPerSecond: number;
  errorRate: number;
  latencyP95Ms: number | null;
  lastMinute: number;
  series: ServicePoint[];
  anomalies: { count: number; lastDetectedAt: number | null };
  detectorState: unknown;
}

export interface ServiceMinute {
  minute: number;
  events: number;
  errors: number;
  latencyAvgMs: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  uniqueEndpoints: number;
}

export interface IncidentRecord {
  id: string;
  tenant: string;
  service: string;
  series?: string;
  severity: Severity;
  status: IncidentStatus;
  openedAt: number;
  updatedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  resolvedAt?: number;
  resolvedBy?: string;
  feedback?: { rating: 'up' | 'down'; comment?: string; by: string; at: number };
  reportId?: string;
  silencedBy?: string;
}

export interface FeatureExplanation { feature: string; value: number; baseline: number; contribution: number; direction: 'up' | 'down' | 'flat' }

export interface Anomaly {
  id: string;
  tenant: string;
  service: string;
  windowStart: number;
  windowEnd: number;
  detectedAt: number;
  detector: string;
  severity: Severity;
  score: number;
  threshold: number;
  features: Record<string, number>;
  explanation: FeatureExplanation[];
  metric?: { name: string; attributes: Record<string, string> };
}

export interface IncidentReport {
  id: string;
  anomalyId: string;
  service: string;
  createdAt: number;
  title: string;
  severity: Severity;
  composer: string;
  notes: string[];
  sections: {
    executiveSummary: string;
    rootCauseAnalysis: string;
    impactAssessment: string;
    recommendedActions: { immediate: string[]; shortTerm: string[]; longTerm: string[] };
    preventionMeasures: string[];
  };
  deliveries: Array<{ reporter: string; status: string; location?: string; error?: string; at: number }>;
}

export interface WindowTotals { from: number; to: number; events: number; errors: number; avgLatencyMs: number | null; p95LatencyMs: number | null }

export interface IncidentContext {
  window: WindowTotals;
  baseline: WindowTotals;
  topErrors: Array<{ errorCode: string | null; message: string; events: number; lastSeen: number }>;
  slowestEndpoints: Array<{ endpoint: string; events: number; errors: number; avgLatencyMs: number | null; p95LatencyMs: number | null }>;
  exampleTraceIds: string[];
}

export interface Page<T> { items: T[]; next: string | null }
