import { appendFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Type, definePlugin } from '@helios/plugins';

// Name, version and the plugin API range are declared once, in package.json (`helios.apiVersion`),
// where npm, `helios plugins list` and the host's compatibility check all read them.
const pkg = createRequire(import.meta.url)('./package.json');

const SEVERITIES = ['low', 'medium', 'high', 'critical'];

export const configSchema = Type.Object(
  {
    file: Type.Optional(Type.String({ minLength: 1, description: 'File each report is appended to as one JSON line; default: reports.jsonl in the plugin state folder under dataDir.' })),
    minSeverity: Type.Union(SEVERITIES.map((s) => Type.Literal(s)), { default: 'low', description: 'Reports of a lower severity are not written.' }),
    markdown: Type.Boolean({ default: false, description: 'Include the whole Markdown report in each line.' }),
  },
  { additionalProperties: false },
);

/** Appends every incident report as one JSON line to a file, for tools that tail or ship JSON Lines. */
export default definePlugin({
  kind: 'reporter',
  name: pkg.name,
  version: pkg.version,
  apiVersion: pkg.helios.apiVersion,
  description: pkg.description,
  configSchema,
  setup(ctx) {
    const file = resolve(ctx.options.file ?? join(ctx.stateDir, 'reports.jsonl'));
    const minRank = SEVERITIES.indexOf(ctx.options.minSeverity);
    return {
      async deliver(report, incident) {
        if (SEVERITIES.indexOf(report.severity) < minRank) return undefined;
        const line = {
          id: report.id, anomalyId: report.anomalyId, createdAt: new Date(report.createdAt).toISOString(),
          tenant: report.tenant, service: report.service, severity: report.severity, title: report.title,
          detector: incident.anomaly.detector, summary: report.sections.executiveSummary,
          ...(ctx.options.markdown ? { markdown: report.markdown } : {}),
        };
        await mkdir(dirname(file), { recursive: true });
        // One write per line in append mode: concurrent deliveries never interleave within a line.
        await appendFile(file, `${JSON.stringify(line)}\n`);
        return { location: file };
      },
    };
  },
});
