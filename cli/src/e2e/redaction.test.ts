import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { FEATURE_NAMES, Topics, newEventId, resolveConfig, silentLogger, type Anomaly, type EventInput, type IncidentReport } from '@helios/core';
import { startFakeOpenAI, validAnswer } from '@helios/reporter-llm/testing';
import { ordinaryText, secretSample, type SecretSample } from '../../../core/src/redaction-corpus.fixture.js';
import { startHelios, type HeliosApp } from '../app.js';

/**
 * The redaction stage end to end: events whose messages, endpoints and attributes carry one of every
 * secret format go in through the gateway; the incident reports come out through every reporter (the LLM
 * prompt on a local OpenAI-compatible server, the template, a file, S3 on s3rver, a Slack webhook) and the
 * reports API. None of the secrets may appear anywhere, raw or JSON-escaped.
 * Plugins and the runtime load from the packages' dist/: run `npx tsc -b` before this test.
 */
/** Formats recognisable without a key name or URL around them, so they can stand alone in a route. */
const SELF_EVIDENT = new Set(['aws-access-key-id', 'gcp-api-key', 'github-token', 'github-pat', 'slack-token', 'stripe-key', 'jwt', 'card', 'email']);

describe('no secret survives into any report, delivery, prompt or API answer', () => {
  let app: HeliosApp;
  let s3: S3rver;
  let admin: S3Client;
  let llm: Awaited<ReturnType<typeof startFakeOpenAI>>;
  const slackBodies: string[] = [];
  let slackServer: ReturnType<typeof createServer>;
  const reports: IncidentReport[] = [];
  const samples: SecretSample[] = fc.sample(secretSample, { numRuns: 120, seed: 18 });
  const ordinary: string[] = fc.sample(ordinaryText, { numRuns: 20, seed: 18 });
  const saved: Record<string, string | undefined> = {};
  const bucket = 'helios-reports';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helios-redaction-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: mkdtempSync(join(tmpdir(), 'helios-s3rver-')) });
    const endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    for (const [k, v] of Object.entries({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    slackServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        slackBodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => slackServer.listen(0, '127.0.0.1', resolve));
    // The model "echoes" a secret from nowhere in its first answer: the draft passes the stage too. Then it fails, so the template writes.
    const echoed = samples.find((s) => s.kind === 'aws-key-pair')!;
    llm = await startFakeOpenAI([
      { kind: 'content', content: validAnswer({ rootCauseAnalysis: `The key ${echoed.text} was rejected.` }) },
      { kind: 'status', status: 503 },
    ]);
    const config = resolveConfig({
      dataDir: dir,
      gateway: { host: '127.0.0.1', port: 0, otlpPort: -1, otlpGrpcPort: -1 },
      plugins: {
        timeoutMs: 10_000,
        detectors: [],
        reporters: [
          { use: '@helios/reporter-llm', options: { baseURL: llm.baseURL, model: 'test-model', maxRetries: 0, timeoutMs: 5000 } },
          { use: '@helios/reporter-template' },
          { use: '@helios/reporter-file' },
          { use: '@helios/reporter-s3', options: { bucket, prefix: 'r/', endpoint, forcePathStyle: true, region: 'us-east-1' } },
          { use: '@helios/reporter-slack', options: { webhookUrl: `http://127.0.0.1:${(slackServer.address() as AddressInfo).port}/services/T000/B000/XXXX` } },
        ],
      },
    });
    app = await startHelios({ config, baseDir: dir, logger: silentLogger(), onReport: (r) => reports.push(r) });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await llm?.close();
    admin?.destroy();
    await s3?.close();
    await new Promise<void>((resolve) => (slackServer ? slackServer.close(() => resolve()) : resolve()));
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  it('every reporter, the LLM prompt and GET /api/v1/reports (JSON and Markdown) carry none of them', async () => {
    const windowEnd = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const windowStart = windowEnd - 300_000;
    const events: EventInput[] = samples.map((s, i) => ({
      timestamp: new Date(windowStart + 1000 + i * 100).toISOString(), service: 'checkout', level: 'ERROR', message: s.text,
      // Secrets in routes too (emails, cards and tokens in raw paths), and in attributes.
      endpoint: SELF_EVIDENT.has(s.kind) ? `/api/users/${s.secrets[0]!.replace(/\s+/g, '')}/pay` : `/api/items/${i}`, latency_ms: 100 + i, error_code: `E_${i}`,
      attributes: { note: s.text },
    } as EventInput));
    // Ordinary text twice each: the context lists the 50 most frequent errors, these must be among them.
    for (const copy of [0, 1]) events.push(...ordinary.map((text, i) => ({ timestamp: new Date(windowStart + 2000 + i * 100 + copy).toISOString(), service: 'checkout', level: 'ERROR', message: text, error_code: `ORD_${i}`, endpoint: '/api/orders/:id', latency_ms: 50 } as EventInput)));
    // One event at the window's end, so the report runtime finds the window stored without waiting.
    events.push({ timestamp: new Date(windowEnd).toISOString(), service: 'checkout', level: 'INFO', message: 'ok', endpoint: '/healthz', latency_ms: 1 } as EventInput);
    const res = await fetch(`http://127.0.0.1:${app.port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBe(202);
    await app.settle();

    const features = Object.fromEntries(FEATURE_NAMES.map((f) => [f, 1])) as Anomaly['features'];
    const anomaly = (i: number): Anomaly => ({
      id: newEventId(), tenant: 'default', service: 'checkout', windowStart, windowEnd, detectedAt: windowEnd + i, detector: 'test', severity: 'high',
      score: 0.9, threshold: 0.5, features, modelVersion: 'v1', explanation: [{ feature: 'error_rate', value: 1, baseline: 0, contribution: 1, direction: 'up' }],
    });
    for (const i of [0, 1]) {
      await app.bus.publish(Topics.anomalies, [{ key: 'default/checkout', value: anomaly(i) }]);
      for (let t = 0; t < 200 && reports.length <= i; t++) await new Promise((r) => setTimeout(r, 50));
    }
    await app.settle();
    expect(reports.map((r) => r.composer)).toEqual(['@helios/reporter-llm', '@helios/reporter-template']);

    const outputs: Array<[string, string]> = [];
    for (const r of reports) {
      outputs.push([`report ${r.composer}`, JSON.stringify(r)]);
      const byReporter = Object.fromEntries(r.deliveries.map((d) => [d.reporter, d]));
      for (const name of ['@helios/reporter-file', '@helios/reporter-s3', '@helios/reporter-slack']) expect(byReporter[name], `${name} for ${r.composer}`).toMatchObject({ status: 'delivered' });
      outputs.push([`file ${r.composer}`, readFileSync(byReporter['@helios/reporter-file']!.location!, 'utf8')]);
      const key = byReporter['@helios/reporter-s3']!.location!.replace(`s3://${bucket}/`, '');
      for (const k of [key, key.replace(/\.md$/, '.json')]) outputs.push([`s3 ${k}`, await (await admin.send(new GetObjectCommand({ Bucket: bucket, Key: k }))).Body!.transformToString()]);
      outputs.push([`api markdown ${r.composer}`, await (await fetch(`http://127.0.0.1:${app.port}/api/v1/reports/${r.id}?format=markdown`)).text()]);
      outputs.push([`api json ${r.composer}`, await (await fetch(`http://127.0.0.1:${app.port}/api/v1/reports/${r.id}`)).text()]);
    }
    outputs.push(['api list', await (await fetch(`http://127.0.0.1:${app.port}/api/v1/reports?limit=10`)).text()]);
    for (const [i, body] of slackBodies.entries()) outputs.push([`slack ${i}`, body]);
    for (const [i, req] of llm.requests.entries()) outputs.push([`llm prompt ${i}`, req.body]);
    // One message per report; the second incident of the series supersedes the first, whose resolution
    // Slack posts too (its body is checked above like the rest).
    const resolutions = slackBodies.filter((b) => (JSON.parse(b) as { text: string }).text.startsWith('RESOLVED '));
    expect(slackBodies.length - resolutions.length).toBe(2);
    expect(resolutions.length).toBeLessThanOrEqual(1);
    expect(llm.requests).toHaveLength(2);

    for (const s of samples) {
      for (const secret of s.secrets) {
        const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1)]);
        for (const [where, text] of outputs) for (const form of forms) expect(text.includes(form), `${s.kind} secret ${JSON.stringify(secret)} in ${where}`).toBe(false);
      }
    }
    // The prompt still carried the facts: redacted placeholders, error codes and the ordinary ids.
    const prompt = llm.requests[0]!.body;
    expect(prompt).toContain('[REDACTED:');
    expect(prompt).toContain('E_0');
    for (const text of ordinary) expect(prompt).toContain(JSON.stringify(text).slice(1, -1));
    // The audit counts what was replaced; the LLM report's count includes the secret the model echoed.
    for (const r of reports) expect(r.notes.join(' ')).toMatch(/Redacted before composing, storing and delivering: \d+ [a-z0-9-]+/);
    const count = (r: IncidentReport) => [...r.notes.join(' ').matchAll(/(\d+) [a-z0-9-]+/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(reports[0]!.notes.join(' ')).toMatch(/aws-/);
    expect(count(reports[0]!)).toBeGreaterThan(samples.length / 2);
  }, 120_000);
});
