import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../commands/index.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
// The committed entry npm links as `helios` (package.json "bin"), not the build it loads.
const committedBin = join(root, 'cli', 'bin', 'helios.js');
const version = (JSON.parse(readFileSync(join(root, 'cli', 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function helios(args: string[], cwd: string, bin = committedBin): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, HELIOS_PORT: '', HELIOS_CONFIG: '', HELIOS_DATA_DIR: '', HELIOS_LOG_FORMAT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'helios-cli-'));

describe('helios command line', () => {
  it('package.json "bin" names the committed entry, which exists before any build', () => {
    expect(version.bin['helios']).toBe('./bin/helios.js');
    expect(existsSync(join(root, 'cli', version.bin['helios']!))).toBe(true);
  });

  it('--version and -v print the version; --help lists every command; <command> --help its flags', async () => {
    const cwd = tempDir();
    for (const flag of ['--version', '-v']) expect(await helios([flag], cwd)).toMatchObject({ code: 0, stdout: `helios ${version.version}\n` });
    const help = await helios(['--help'], cwd);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(`  ${c.name} `);
    const upHelp = await helios(['up', '--help'], cwd);
    expect(upHelp).toMatchObject({ code: 0, stdout: expect.stringContaining('--role') });
  }, 60_000);

  it('refuses an unknown flag and a bad --port with a coded error, no stack trace, exit 2', async () => {
    const cwd = tempDir();
    const typo = await helios(['up', '--prot', '1'], cwd);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^helios: HLS_ERR_USAGE: helios up: unknown option --prot; allowed: --role, --config, --port/);
    const port = await helios(['up', '--port', '99999'], cwd);
    expect(port.code).toBe(2);
    expect(port.stderr).toBe('helios: HLS_ERR_USAGE: --port: expected an integer from 0 to 65535, got "99999"\n');
    const command = await helios(['upp'], cwd);
    expect(command).toMatchObject({ code: 2, stderr: expect.stringContaining('HLS_ERR_USAGE: unknown command "upp"') });
  }, 60_000);

  it('says to build when dist/ is missing, instead of crashing', async () => {
    const checkout = tempDir();
    mkdirSync(join(checkout, 'cli', 'bin'), { recursive: true });
    copyFileSync(committedBin, join(checkout, 'cli', 'bin', 'helios.js'));
    const run = await helios(['--version'], checkout, join(checkout, 'cli', 'bin', 'helios.js'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/HLS_ERR_NOT_BUILT: .* is missing; run `npm run build`/);
  });

  it('validate: the defaults are valid; a bad config lists every problem with its key and value; nothing is started', async () => {
    const cwd = tempDir();
    const ok = await helios(['validate'], cwd);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^configuration valid: \(defaults\)\n/);
    expect(ok.stdout).toContain('detector @helios/detector-isolation-forest@');
    writeFileSync(join(cwd, 'helios.config.yaml'), `dataDir: ./data
plugins:
  detectors:
    - use: '@helios/detector-isolation-forest'
      options: { trees: 0, sampleSize: "many", colour: red }
  reporters:
    - use: ./not-there
`);
    const bad = await helios(['validate'], cwd);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('HLS_ERR_CONFIG_INVALID: configuration invalid');
    expect(bad.stderr).toContain('plugins.detectors[0].options.trees: must be >= 1, got 0');
    expect(bad.stderr).toContain('plugins.detectors[0].options.sampleSize: must be integer, got "many"');
    expect(bad.stderr).toContain('plugins.detectors[0].options.colour: unknown field');
    expect(bad.stderr).toContain('plugins.reporters[0] (./not-there): cannot find plugin');
    // No store was opened: the embedded database would have created its folder.
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    writeFileSync(join(cwd, 'helios.config.yaml'), 'gateway: { port: 70000, colour: red }\n');
    const schema = await helios(['validate', '--json'], cwd);
    expect(schema.code).toBe(1);
    const report = JSON.parse(schema.stdout) as { valid: boolean; problems: string[] };
    expect(report.valid).toBe(false);
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^gateway\.port: .*70000/), expect.stringMatching(/^gateway\.colour: unknown field/)]));
  }, 60_000);

  it('validate accepts a plugin given as a package folder (use: ./my-plugin), resolved through its package.json', async () => {
    const cwd = tempDir();
    const plugin = join(cwd, 'my-plugin');
    mkdirSync(join(plugin, 'lib'), { recursive: true });
    writeFileSync(join(plugin, 'package.json'), JSON.stringify({ name: 'my-plugin', type: 'module', exports: { '.': { import: './lib/entry.js' } } }));
    writeFileSync(join(plugin, 'lib', 'entry.js'), `export default { kind: 'reporter', name: 'my-plugin', version: '1.0.0', apiVersion: '^1.0.0', setup: () => ({ compose: () => undefined }) };\n`);
    writeFileSync(join(cwd, 'helios.config.yaml'), "plugins:\n  reporters:\n    - use: ./my-plugin\n");
    const run = await helios(['validate'], cwd);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('reporter my-plugin@1.0.0');
  }, 60_000);
});
