import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Type, definePlugin, reportFileName } from '@helios/plugins';

const configSchema = Type.Object(
  {
    bucket: Type.String({ minLength: 3, maxLength: 63, description: 'Bucket name (must exist).' }),
    prefix: Type.String({ default: 'helios/reports/', description: 'Key prefix; objects are <prefix><time>_<service>_<id>.md and .json.' }),
    region: Type.String({ minLength: 1, default: 'us-east-1' }),
    endpoint: Type.Optional(Type.String({ pattern: '^https?://', description: 'S3-compatible endpoint (MinIO, Ceph, R2…); omit for AWS S3.' })),
    forcePathStyle: Type.Boolean({ default: false, description: 'Path-style URLs (endpoint/bucket/key), which most S3-compatible stores need.' }),
    json: Type.Boolean({ default: true, description: 'Also write the structured report as JSON.' }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'SDK attempts per object (its standard retry mode with backoff).' }),
  },
  { additionalProperties: false },
);

/**
 * Writes each report as Markdown and JSON objects to S3 or an S3-compatible store. Credentials come
 * from the AWS SDK's default chain (environment, shared config, instance/role), never from Helios config.
 */
export default definePlugin({
  kind: 'reporter',
  name: '@helios/reporter-s3',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'Delivers reports as <prefix><time>_<service>_<id>.md and .json objects in an S3 bucket.',
  configSchema,
  setup(ctx) {
    const o = ctx.options;
    const client = new S3Client({
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      maxAttempts: o.maxAttempts,
      ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
      // Checksums only where the API requires them: many S3-compatible stores reject the SDK's
      // default trailing CRC32 on PutObject (aws-chunked bodies), and the payload is hashed by SigV4 anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    let closed = false;
    return {
      async deliver(report) {
        const base = `${o.prefix}${reportFileName(report)}`;
        const metadata = { 'helios-report-id': report.id, 'helios-anomaly-id': report.anomalyId, 'helios-service': report.service, 'helios-severity': report.severity };
        const puts = [client.send(new PutObjectCommand({ Bucket: o.bucket, Key: `${base}.md`, Body: report.markdown, ContentType: 'text/markdown; charset=utf-8', Metadata: metadata }))];
        if (o.json) puts.push(client.send(new PutObjectCommand({ Bucket: o.bucket, Key: `${base}.json`, Body: `${JSON.stringify(report, null, 2)}\n`, ContentType: 'application/json', Metadata: metadata })));
        await Promise.all(puts);
        return { location: `s3://${o.bucket}/${base}.md` };
      },
      shutdown() {
        if (closed) return;
        closed = true;
        client.destroy();
      },
    };
  },
});
