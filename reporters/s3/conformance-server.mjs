// A real S3-compatible server (s3rver) on loopback with one bucket, started by the repo's plugin
// conformance test (plugins/src/conformance.test.ts) so the check writes through the real AWS SDK.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export async function start() {
  const bucket = 'helios-conformance';
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true,
    directory: mkdtempSync(join(tmpdir(), 'helios-s3rver-')),
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  // s3rver's fixed test credentials, through the SDK's default chain.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  return {
    options: { bucket, endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true },
    async close() {
      await server.close();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID; else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY; else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    },
  };
}
