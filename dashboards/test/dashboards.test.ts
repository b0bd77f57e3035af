import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createPgliteClient, migrate } from '@helios/store';
import { dashboardProblems, dashboardQueries, grafanaDashboardsDir, grafanaProvisioningDir, POSTGRES_TYPE, PROMETHEUS_TYPE, type GrafanaDashboard } from '../src/index.js';

const files = readdirSync(grafanaDashboardsDir).filter((f) => f.endsWith('.json')).sort();
const dashboards = files.map((f) => ({ file: f, model: JSON.parse(readFileSync(join(grafanaDashboardsDir, f), 'utf8')) as GrafanaDashboard }));

describe('Grafana dashboards', () => {
  it('are the four of Helios itself and the Services one of the user\'s services', () => {
    expect(dashboards.map((d) => d.model.title).sort()).toEqual(['Helios / Detection', 'Helios / Ingestion', 'Helios / Reporting', 'Helios / Services', 'Helios / System Overview']);
    expect(new Set(dashboards.map((d) => d.model.uid)).size).toBe(dashboards.length);
  });

  it.each(dashboards)('$file is a model Grafana accepts as written', ({ model }) => {
    expect(dashboardProblems(model)).toEqual([]);
  });

  it('the checker catches what Grafana would not accept', () => {
    const broken = structuredClone(dashboards[0]!.model);
    broken.schemaVersion = 16;
    broken.panels[1]!.datasource = { type: PROMETHEUS_TYPE, uid: 'helios-prometheus' };
    broken.panels[2]!.gridPos = { x: 20, y: 0, w: 8, h: 4 };
    broken.panels[3]!.targets = [];
    const problems = dashboardProblems(broken).join('\n');
    expect(problems).toMatch(/schemaVersion must be an integer >= 36/);
    expect(problems).toMatch(/datasource uid must be a variable/);
    expect(problems).toMatch(/x \+ w <= 24/);
    expect(problems).toMatch(/no targets/);
  });

  it('Detection plots anomaly scores per service and lists anomalies from PostgreSQL; Reporting shows time, tokens and cost', () => {
    const byUid = new Map(dashboards.map((d) => [d.model.uid, dashboardQueries(d.model)]));
    const detection = byUid.get('helios-detection')!;
    expect(detection.some((q) => q.kind === 'promql' && /helios_anomaly_detection_score/.test(q.query) && /by \(service, detector\)/.test(q.query))).toBe(true);
    expect(detection.some((q) => q.kind === 'sql' && /FROM helios_anomalies/.test(q.query))).toBe(true);
    const reporting = byUid.get('helios-reporting')!.map((q) => q.query).join('\n');
    for (const m of ['helios_report_generation_duration_seconds_bucket', 'helios_llm_tokens_total', 'helios_llm_cost_usd_total', 'FROM helios_reports']) expect(reporting).toContain(m);
  });

  it('Services charts rate, error rate and p95 from the rollups with incidents from helios_anomalies as annotations', () => {
    const services = dashboards.find((d) => d.model.uid === 'helios-services')!.model;
    const queries = dashboardQueries(services);
    const byPanel = new Map(queries.map((q) => [q.panel, q.query]));
    expect(byPanel.get('helios-services/Request rate')).toMatch(/sum\(events\)[\s\S]*FROM helios_rollups_1m/);
    expect(byPanel.get('helios-services/Error rate')).toMatch(/sum\(errors\)[\s\S]*FROM helios_rollups_1m/);
    expect(byPanel.get('helios-services/p95 latency')).toMatch(/latency_p95[\s\S]*FROM helios_rollups_1m/);
    expect(byPanel.get('helios-services/annotation Incidents')).toMatch(/window_start AS "time", window_end AS timeend[\s\S]*FROM helios_anomalies/);
    // Every query of the user's data is of one tenant: a dashboard never mixes two tenants' `checkout`.
    for (const q of queries.filter((x) => /FROM helios_(rollups_1m|anomalies)/.test(x.query) && !x.panel.endsWith('variable tenant'))) expect(q.query, q.panel).toMatch(/tenant = '\$tenant'/);
    const broken = structuredClone(services);
    broken.annotations!.list[1]!.target!.format = 'time_series';
    expect(dashboardProblems(broken).join('\n')).toMatch(/annotation Incidents: PostgreSQL annotation needs target.rawSql and format table/);
  });

  it('datasource variables default to the provisioned data sources, with the same plugin types', () => {
    const provisioned = parseYaml(readFileSync(join(grafanaProvisioningDir, 'datasources', 'helios.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string }> };
    const types = new Map(provisioned.datasources.map((d) => [d.uid, d.type]));
    expect([...types.values()].sort()).toEqual([POSTGRES_TYPE, PROMETHEUS_TYPE]);
    for (const { model } of dashboards) {
      for (const v of model.templating.list.filter((x) => x.type === 'datasource')) {
        const current = (v as unknown as { current: { value: string } }).current.value;
        expect(types.get(current), `${model.uid} variable ${v.name}`).toBe(v.query);
      }
    }
    const provider = parseYaml(readFileSync(join(grafanaProvisioningDir, 'dashboards', 'helios.yml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    expect(provider.providers[0]!.type).toBe('file');
    expect(provider.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards/helios');
  });

  it('every PostgreSQL panel query runs on the Helios schema (Grafana macros expanded as Grafana does)', async () => {
    const db = await createPgliteClient();
    try {
      await migrate(db);
      await db.query(`INSERT INTO helios_anomalies (id, tenant, service, window_start, window_end, detected_at, detector, severity, score, threshold, features, explanation, model_version)
        VALUES ('0190a0a0-0000-7000-8000-000000000001', 'default', 'checkout', now() - interval '10 minutes', now() - interval '5 minutes', now(), 'isolation-forest', 'high', 0.81, 0.6, '{}', '[]', 'v1')`);
      await db.query(`INSERT INTO helios_reports (id, anomaly_id, tenant, service, created_at, title, severity, composer, notes, sections, markdown, deliveries)
        VALUES ('0190a0a0-0000-7000-8000-000000000002', '0190a0a0-0000-7000-8000-000000000001', 'default', 'checkout', now(), 'DB timeouts', 'high', 'template', '[]', '{}', '# x',
                '[{"reporter":"file","status":"delivered"},{"reporter":"slack","status":"failed"}]')`);
      // The rollups of two tenants' `checkout`: the Services dashboard must show the selected tenant's only.
      for (const [tenant, events] of [['default', 120], ['other', 999]] as const) {
        await db.query(`INSERT INTO helios_rollups_1m (bucket, tenant, service, events, trace, debug, info, warn, error, critical, errors, latency_avg, latency_p50, latency_p95, latency_p99, latency_max, unique_endpoints)
          SELECT date_trunc('minute', now()) - m * interval '1 minute', $1, 'checkout', $2::bigint, 0, 0, $2::bigint - 3, 0, 3, 0, 3, 40, 35, 90, 140, 400, 3 FROM generate_series(1, 30) AS m`, [tenant, events]);
      }
      const queries = dashboards.flatMap((d) => dashboardQueries(d.model)).filter((q) => q.kind === 'sql');
      expect(queries.length).toBeGreaterThanOrEqual(9);
      for (const q of queries) {
        const sql = q.query
          .replace(/\$__timeFilter\((\w+(?:\.\w+)?)\)/g, `$1 BETWEEN now() - interval '6 hours' AND now() + interval '1 minute'`)
          .replace(/\$__timeGroupAlias\((\w+),\s*1h\)/g, `date_trunc('hour', $1) AS "time"`)
          .replace(/\$__timeGroupAlias\((\w+),\s*\$__interval\)/g, `date_trunc('minute', $1) AS "time"`)
          .replace(/\$__interval_ms\b/g, '60000')
          .replace(/'\$tenant'/g, `'default'`)
          .replace(/\$service\b/g, `'checkout','payments'`);
        expect(sql, q.panel).not.toMatch(/\$\w/);
        const result = await db.query<Record<string, unknown>>(sql);
        expect(result.rows.length, q.panel).toBeGreaterThan(0);
        if (/FROM helios_reports/.test(sql)) expect(result.rows[0]).toMatchObject({ delivered: 1, failed: 1 });
        if (q.panel === 'helios-services/Request rate') expect(result.rows.map((r) => Number(r['events/min']))).toEqual(Array(30).fill(120));
        if (q.panel === 'helios-services/Error rate') expect(Number(result.rows[0]!['error rate'])).toBeCloseTo(3 / 120, 10);
        if (q.panel === 'helios-services/variable tenant') expect(result.rows.map((r) => r['tenant'])).toEqual(['default', 'other']);
      }
    } finally {
      await db.close();
    }
  });
});
