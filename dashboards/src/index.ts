import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export { metricNamesIn, seriesNamesInExposition } from './promql.js';
export { dashboardProblems, dashboardQueries, PROMETHEUS_TYPE, POSTGRES_TYPE, type GrafanaAnnotation, type GrafanaDashboard, type GrafanaPanel, type GrafanaTarget, type GrafanaVariable, type DataSourceRef } from './grafana.js';

/** Root of the package: the folders below ship with it (see "files" in package.json). */
export const dashboardsRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const grafanaDashboardsDir = join(dashboardsRoot, 'grafana', 'dashboards');
export const grafanaProvisioningDir = join(dashboardsRoot, 'grafana', 'provisioning');
export const alertRulesFile = join(dashboardsRoot, 'prometheus', 'alerts.yml');
