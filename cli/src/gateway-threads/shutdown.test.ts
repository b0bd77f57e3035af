import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '@helios/core';
import { openStore } from '@helios/store';

const HELIOS_BIN = fileURLToPath(new URL('../../dist/bin/helios.js', import.meta.url));

/**
 * SIGTERM under load with the gateway on threads: every request answered 202 before the process exited
 * is in the embedded store afterwards (the threads hand everything over, the pipeline stores it, then exit 0).
 */
describe('helios up on gateway threads, SIGTERM under load', () => {
  it('stores every event it acknowledged before exiting 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'helios-threads-term-'));
    const child = spawn(process.execPath, [HELIOS_BIN, 'up', '--port', '0', '--otlp-port=-1', '--otlp-grpc-port=-1', '--data-dir', dataDir], {
      env: { ...process.env, HELIOS_PORT: '', HELIOS_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir,
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const line = stderr.split('\n').find((l) => l.includes('helios ready'));
        if (line !== undefined) resolve(JSON.parse(line) as { port: number });
      });
      void exited.then((code) => reject(new Error(`helios up exited early (${code}): ${stderr}`)));
    });
    expect(stderr).not.toMatch(/"level":50/);

    // Clients posting batches until the server stops answering 202; each request has a trace id of its own.
    const acknowledged = new Map<string, number>();
    let sent = 0;
    let stopping = false;
    const client = async (c: number) => {
      for (let i = 0; ; i++) {
        const traceId = (c * 1_000_000 + i).toString(16).padStart(32, '0');
        const body = JSON.stringify(Array.from({ length: 50 }, (_, k) => ({ service: `svc-${k % 3}`, message: `m${k}`, trace_id: traceId })));
        sent++;
        const answer = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch(() => undefined);
        if (answer?.status !== 202) {
          if (!stopping) throw new Error(`refused before SIGTERM: ${answer?.status}`);
          return;
        }
        acknowledged.set(traceId, ((await answer.json()) as { accepted: number }).accepted);
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    while (acknowledged.size < 40) await new Promise((resolve) => setTimeout(resolve, 20));
    stopping = true;
    child.kill('SIGTERM');
    await Promise.all(clients);
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"stopped"');
    expect(sent).toBeGreaterThan(acknowledged.size);

    const store = await openStore(resolveConfig({ dataDir }));
    try {
      for (const [traceId, accepted] of acknowledged) {
        const found = await store.traceEvents({ traceId, limit: 1000 });
        expect({ traceId, stored: found.items.length }).toEqual({ traceId, stored: accepted });
      }
    } finally {
      await store.close();
    }
  }, 180_000);
});
