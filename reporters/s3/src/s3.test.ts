import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { newEventId, type IncidentReport } from '@helios/core';
import { renderReportMarkdown } from '@helios/plugins';
import { checkPluginConformance, sampleIncident } from '@helios/plugins/testing';
import { composeTemplateReport } from '@helios/reporter-template';

/**
 * A real S3-compatible server (s3rver: the S3 REST API over a folder) on loopback, hit through the real
 * AWS SDK. Credentials are s3rver's fixed test pair, given to the SDK through its default chain (env).
 */
let server: S3rver;
let endpoint: string;
let admin: S3Client;
const bucket = 'helios-reports';
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: mkdtempSync(join(tmpdir(), 'helios-s3rver-')) });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  for (const [k, v] of Object.entries({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  admin.destroy();
  await server.close();
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
});

describe('@helios/reporter-s3 against a local S3-compatible server (s3rver) through the real AWS SDK', () => {
  it('writes the report as Markdown and JSON under the prefix, with metadata', async () => {
    const use = new URL('./index.ts', import.meta.url).pathname;
    const result = await checkPluginConformance(use, 'reporter', {
      options: { bucket, prefix: 'prod/reports/', endpoint, forcePathStyle: true, region: 'us-east-1' },
      badOptions: { options: { bucket: 'x' }, key: 'bucket' },
    });
    const location = (result.outputs[0] as { location: string }).location;
    expect(location).toMatch(new RegExp(`^s3://${bucket}/prod/reports/.+_checkout_[0-9a-f]{8}\\.md$`));

    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'prod/reports/' }));
    const keys = (listed.Contents ?? []).map((c) => c.Key!).sort();
    expect(keys).toHaveLength(2);
    expect(keys[0]!.endsWith('.json')).toBe(true);
    expect(keys[1]).toBe(location.slice(`s3://${bucket}/`.length));

    const md = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: keys[1] }));
    expect(md.ContentType).toBe('text/markdown; charset=utf-8');
    expect(await md.Body!.transformToString()).toContain('# conformance');
    const json = JSON.parse(await (await admin.send(new GetObjectCommand({ Bucket: bucket, Key: keys[0] }))).Body!.transformToString()) as IncidentReport;
    expect(json.service).toBe('checkout');
    const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: keys[0] }));
    expect(head.Metadata?.['helios-service']).toBe('checkout');
    expect(head.Metadata?.['helios-report-id']).toBe(json.id);
  });

  it('writes a full template report, byte for byte, and only Markdown when json is off', async () => {
    const { default: plugin } = await import('./index.js');
    const { resolvePluginOptions } = await import('@helios/plugins');
    const { createMetricsRegistry, silentLogger } = await import('@helios/core');
    const { fixtureStore } = await import('@helios/plugins/testing');
    const options = resolvePluginOptions(plugin, { bucket, prefix: 'md-only/', endpoint, forcePathStyle: true, json: false }, 's3');
    const hooks = await plugin.setup({ options, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), store: fixtureStore(), dataDir: '/tmp', stateDir: '/tmp', now: Date.now } as never);
    const incident = sampleIncident();
    const draft = composeTemplateReport(incident);
    const report: IncidentReport = {
      id: newEventId(), anomalyId: incident.anomaly.id, tenant: 'default', service: 'checkout', createdAt: Date.now(), composer: 'template', notes: [], deliveries: [],
      title: draft.title, severity: draft.severity, sections: draft.sections, markdown: renderReportMarkdown(draft, incident, { composer: 'template', createdAt: Date.now() }),
    };
    await hooks.deliver!(report, incident);
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'md-only/' }));
    expect((listed.Contents ?? []).map((c) => c.Key)).toHaveLength(1);
    const body = await (await admin.send(new GetObjectCommand({ Bucket: bucket, Key: listed.Contents![0]!.Key }))).Body!.transformToString();
    expect(body).toBe(report.markdown);
    await hooks.shutdown?.();
  });

  it('fails the delivery (for the runtime to retry) when the bucket does not exist', async () => {
    const { default: plugin } = await import('./index.js');
    const { resolvePluginOptions } = await import('@helios/plugins');
    const { createMetricsRegistry, silentLogger } = await import('@helios/core');
    const { fixtureStore } = await import('@helios/plugins/testing');
    const options = resolvePluginOptions(plugin, { bucket: 'no-such-bucket', endpoint, forcePathStyle: true, maxAttempts: 1 }, 's3');
    const hooks = await plugin.setup({ options, logger: silentLogger(), metrics: createMetricsRegistry({ defaultMetrics: false }), store: fixtureStore(), dataDir: '/tmp', stateDir: '/tmp', now: Date.now } as never);
    const incident = sampleIncident();
    await expect(hooks.deliver!({ id: newEventId(), anomalyId: 'a', tenant: 't', service: 's', createdAt: 0, composer: 'c', notes: [], deliveries: [], title: 't', severity: 'low', sections: composeTemplateReport(incident).sections, markdown: '# x' }, incident)).rejects.toThrow(/bucket/i);
  });
});
