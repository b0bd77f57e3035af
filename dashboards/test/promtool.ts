import { spawnSync } from 'node:child_process';

/**
 * Path of a Prometheus binary (promtool, prometheus) when installed. In CI a missing binary is a
 * failure, not a skip: `.ci/run` installs it with `apt-get install -y prometheus`.
 */
export function findBinary(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  if (path !== '') return path;
  if (process.env['CI'] === 'true') throw new Error(`${name} not found; CI needs it: apt-get install -y prometheus`);
  return undefined;
}
