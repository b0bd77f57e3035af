// 150 concurrent 4.4 MB uncompressed uploads against a gateway in a child process: statuses, peak RSS,
// peak in-flight body bytes, RSS after GC. Usage (after npx tsc -b): node bench/body-memory/run.mjs uws|node [maxInFlightBodyBytes]
import { fork } from 'node:child_process';
import { request } from 'node:http';
const transport = process.argv[2];
const child = fork(new URL('./server.mjs', import.meta.url), [transport, process.argv[3] ?? ''], { execArgv: ['--expose-gc'] });
const ask = (m) => new Promise((r) => { child.once('message', r); child.send(m); });
const { port } = await new Promise((r) => child.once('message', r));
const before = await ask('gc');
const line = JSON.stringify({ service: 'big', level: 'INFO', message: 'x'.repeat(900) });
const body = Buffer.from(Array.from({ length: 4600 }, () => line).join('\n')); // ~4.4 MB
const post = () => new Promise((resolve) => {
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/events', agent: false, headers: { 'content-type': 'application/x-ndjson', 'content-length': body.length } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
  req.on('error', (e) => resolve('err:' + e.code));
  req.end(body);
});
const statuses = {};
const t0 = Date.now();
const results = await Promise.all(Array.from({ length: 150 }, post));
for (const s of results) statuses[s] = (statuses[s] ?? 0) + 1;
const during = await ask('x');
await new Promise((r) => setTimeout(r, 3000));
const after = await ask('gc');
console.log(JSON.stringify({ transport, bodyMB: +(body.length / 1e6).toFixed(2), statuses, ms: Date.now() - t0, rssBeforeMB: Math.round(before.rss / 1e6), peakRssMB: Math.round(during.peak / 1e6), budgetPeakMB: Math.round(during.budgetPeak / 1e6), rssAfterGcMB: Math.round(after.rss / 1e6), inUseAfter: after.inUse }));
child.kill();
