// A local stand-in for Slack's webhook endpoint, started by the repo's plugin conformance test
// (plugins/src/conformance.test.ts) so the check delivers through the real client to a real socket.
import { createServer } from 'node:http';

export async function start() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    options: { webhookUrl: `http://127.0.0.1:${port}/services/T000/B000/CONFORMANCE` },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
