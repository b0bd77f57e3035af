/** The parts of a Grafana dashboard model (schemaVersion 36+) that Helios's checks read. */
export interface DataSourceRef {
  type: string;
  uid: string;
}
export interface GrafanaTarget {
  refId: string;
  datasource?: DataSourceRef;
  expr?: string;
  rawSql?: string;
  format?: string;
}
export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: DataSourceRef;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}
export interface GrafanaVariable {
  name: string;
  type: string;
  query?: unknown;
  datasource?: DataSourceRef;
}
/** An annotation query: Grafana's built-in one, or one of a data source (SQL in `target.rawSql`). */
export interface GrafanaAnnotation {
  name: string;
  builtIn?: number;
  datasource?: DataSourceRef;
  target?: GrafanaTarget;
}
export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
  annotations?: { list: GrafanaAnnotation[] };
}

export const PROMETHEUS_TYPE = 'prometheus';
export const POSTGRES_TYPE = 'grafana-postgresql-datasource';

/** Panel types Grafana ships; a typo here would render as "Panel plugin not found". */
const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'table', 'gauge', 'bargauge', 'heatmap', 'text', 'piechart', 'logs', 'barchart', 'state-timeline']);
/** Since schemaVersion 36 panels reference data sources by `{ type, uid }`, not by name. */
const MIN_SCHEMA_VERSION = 36;

function* allPanels(panels: readonly GrafanaPanel[]): Generator<GrafanaPanel> {
  for (const p of panels) {
    yield p;
    if (p.panels) yield* allPanels(p.panels);
  }
}

/**
 * Every problem that would make Grafana reject the dashboard or show a broken panel, as
 * `<dashboard>: <panel>: <problem>`; empty when the dashboard is sound. Data sources must be
 * referenced through a `datasource` template variable (`${name}`) of the same plugin type, so one
 * dashboard works with whatever uid a Grafana gives its data sources.
 */
export function dashboardProblems(d: GrafanaDashboard): string[] {
  const problems: string[] = [];
  const where = (p?: GrafanaPanel) => (p ? `${d.uid}: panel ${p.id} "${p.title}"` : d.uid);
  if (typeof d.uid !== 'string' || !/^[a-zA-Z0-9_-]{1,40}$/.test(d.uid)) problems.push(`${d.uid}: uid must be 1-40 of [a-zA-Z0-9_-]`);
  if (typeof d.title !== 'string' || d.title === '') problems.push(`${where()}: title missing`);
  if (!Number.isInteger(d.schemaVersion) || d.schemaVersion < MIN_SCHEMA_VERSION) problems.push(`${where()}: schemaVersion must be an integer >= ${MIN_SCHEMA_VERSION}, got ${d.schemaVersion}`);
  if (!Array.isArray(d.panels) || d.panels.length === 0) return [...problems, `${where()}: no panels`];

  const dsVariables = new Map<string, string>();
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'datasource') dsVariables.set(v.name, String(v.query));
    else if (v.type === 'query') problems.push(...refProblems(`${where()}: variable ${v.name}`, v.datasource));
  }

  function refProblems(at: string, ref: DataSourceRef | undefined): string[] {
    if (ref === undefined) return [`${at}: datasource missing`];
    const variable = /^\$\{(\w+)\}$/.exec(ref.uid ?? '')?.[1];
    if (variable === undefined) return [`${at}: datasource uid must be a variable like \${datasource}, got ${JSON.stringify(ref.uid)}`];
    const type = dsVariables.get(variable);
    if (type === undefined) return [`${at}: datasource variable ${variable} is not a datasource variable of the dashboard`];
    if (type !== ref.type) return [`${at}: datasource type ${ref.type} but variable ${variable} selects ${type}`];
    return [];
  }

  for (const a of d.annotations?.list ?? []) {
    if (a.builtIn === 1) continue;
    const at = `${where()}: annotation ${a.name}`;
    problems.push(...refProblems(at, a.datasource));
    if (a.datasource?.type === POSTGRES_TYPE && (!a.target?.rawSql || a.target.format !== 'table')) problems.push(`${at}: PostgreSQL annotation needs target.rawSql and format table`);
  }

  const ids = new Set<number>();
  for (const p of allPanels(d.panels)) {
    if (!Number.isInteger(p.id) || ids.has(p.id)) problems.push(`${where(p)}: id must be a unique integer`);
    ids.add(p.id);
    if (!PANEL_TYPES.has(p.type)) problems.push(`${where(p)}: unknown panel type ${p.type}`);
    const g = p.gridPos;
    if (!g || ![g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n) && n >= 0) || g.w < 1 || g.h < 1 || g.x + g.w > 24) {
      problems.push(`${where(p)}: gridPos must be integers with w,h >= 1 and x + w <= 24, got ${JSON.stringify(g)}`);
    }
    if (p.type === 'row' || p.type === 'text') continue;
    problems.push(...refProblems(where(p), p.datasource));
    if (!Array.isArray(p.targets) || p.targets.length === 0) {
      problems.push(`${where(p)}: no targets`);
      continue;
    }
    const refIds = new Set<string>();
    for (const t of p.targets) {
      if (!t.refId || refIds.has(t.refId)) problems.push(`${where(p)}: target refId must be unique, got ${t.refId}`);
      refIds.add(t.refId);
      const ds = t.datasource ?? p.datasource;
      problems.push(...refProblems(`${where(p)} target ${t.refId}`, ds));
      if (ds?.type === PROMETHEUS_TYPE && !t.expr) problems.push(`${where(p)} target ${t.refId}: Prometheus target without expr`);
      if (ds?.type === POSTGRES_TYPE && (!t.rawSql || !['table', 'time_series'].includes(t.format ?? ''))) {
        problems.push(`${where(p)} target ${t.refId}: PostgreSQL target needs rawSql and format table|time_series`);
      }
    }
  }
  // Overlapping panels are moved around by Grafana on load; the layout is meant as written.
  const placed = [...allPanels(d.panels)];
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i]!.gridPos, b = placed[j]!.gridPos;
      if (a && b && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) problems.push(`${where(placed[i])}: overlaps panel ${placed[j]!.id}`);
    }
  }
  return problems;
}

/**
 * Every query of the dashboard with the panel (or variable, or annotation) it belongs to: PromQL (`expr`,
 * `label_values`) or SQL (`rawSql`, a PostgreSQL variable's query, a PostgreSQL annotation's).
 */
export function dashboardQueries(d: GrafanaDashboard): Array<{ panel: string; kind: 'promql' | 'sql'; query: string }> {
  const out: Array<{ panel: string; kind: 'promql' | 'sql'; query: string }> = [];
  for (const p of allPanels(d.panels)) {
    for (const t of p.targets ?? []) {
      if (t.expr) out.push({ panel: `${d.uid}/${p.title}`, kind: 'promql', query: t.expr });
      if (t.rawSql) out.push({ panel: `${d.uid}/${p.title}`, kind: 'sql', query: t.rawSql });
    }
  }
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query : undefined;
    const labelValues = q === undefined ? undefined : /^label_values\((\w+)\s*,/.exec(q)?.[1];
    if (labelValues !== undefined) out.push({ panel: `${d.uid}/variable ${v.name}`, kind: 'promql', query: labelValues });
    if (v.type === 'query' && v.datasource?.type === POSTGRES_TYPE && typeof v.query === 'string') out.push({ panel: `${d.uid}/variable ${v.name}`, kind: 'sql', query: v.query });
  }
  for (const a of d.annotations?.list ?? []) {
    if (a.target?.rawSql) out.push({ panel: `${d.uid}/annotation ${a.name}`, kind: 'sql', query: a.target.rawSql });
  }
  return out;
}
