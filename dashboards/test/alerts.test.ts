import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardsRoot } from '../src/index.js';
import { findBinary } from './promtool.js';

const promtool = findBinary('promtool');
const prometheusDir = join(dashboardsRoot, 'prometheus');

function run(args: string[]) {
  const r = spawnSync(promtool!, args, { cwd: prometheusDir, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe.skipIf(promtool === undefined)('Prometheus rules and config (promtool)', () => {
  it('alerts.yml passes promtool check rules', () => {
    const r = run(['check', 'rules', 'alerts.yml']);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('alerts.test.yml unit tests pass (each alert fires when it should and stays quiet otherwise)', () => {
    const r = run(['test', 'rules', 'alerts.test.yml']);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('every alert has a unit test', async () => {
    const { readFileSync } = await import('node:fs');
    const rules = readFileSync(join(prometheusDir, 'alerts.yml'), 'utf8');
    const tests = readFileSync(join(prometheusDir, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(9);
    const untested = alerts.filter((a) => !new RegExp(`alertname: ${a}\\b`).test(tests));
    expect(untested).toEqual([]);
  });

  it('prometheus.yml (the scrape config of the local stack) passes promtool check config', () => {
    const r = run(['check', 'config', 'prometheus.yml']);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
