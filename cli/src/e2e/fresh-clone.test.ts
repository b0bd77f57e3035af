import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What a newcomer does first, on a fresh clone of this commit: `npm ci`, then `npx helios --help`,
 * `--version`, `validate` and `up` (ready, /readyz answered, stopped with SIGTERM) — all by
 * scripts/fresh-clone-check.sh. A green run on a developer's tree can hide a missing install step (the
 * bin npm links before `prepare` builds it was one); this clone has nothing but what git tracks.
 *
 * It costs a clone, an `npm ci` and a build (one to three minutes), so it runs in CI (where it fails, never
 * skips) and when HELIOS_TEST_FRESH_CLONE=1; it checks HEAD, so commit before running it by hand.
 */
const root = resolve(import.meta.dirname, '..', '..', '..');
const wanted = process.env['CI'] === 'true' || process.env['HELIOS_TEST_FRESH_CLONE'] === '1';

describe.runIf(wanted)('a fresh clone', () => {
  it('installs with npm ci, and npx helios --help, --version, validate and up work', async () => {
    const run = await new Promise<{ code: number | null; output: string }>((done, fail) => {
      const child = spawn('bash', [resolve(root, 'scripts', 'fresh-clone-check.sh'), root, 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('error', fail);
      child.on('exit', (code) => done({ code, output }));
    });
    expect(run.output).toContain('== fresh clone: ok');
    expect(run.code, run.output.slice(-4000)).toBe(0);
  }, 900_000);
});
