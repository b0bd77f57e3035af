import { isHeliosError, loadConfig, type LoadedConfig } from '@helios/core';
import { checkPluginSpec } from '@helios/plugins';
import type { CommandModule } from './command.js';

export interface ValidationReport {
  valid: boolean;
  /** The config file checked, or `(defaults)` when none. */
  source: string;
  /** Every problem, each naming the key path and the bad value. */
  problems: string[];
  plugins: Array<{ kind: 'detector' | 'reporter'; use: string; name?: string; version?: string; source?: string }>;
}

/**
 * The whole configuration checked as `helios up` would check it, plugin options included, without
 * starting anything: no store is opened, no port bound, no plugin's setup() run.
 */
export async function validateConfiguration(load: () => LoadedConfig): Promise<ValidationReport> {
  let loaded: LoadedConfig;
  try {
    loaded = load();
  } catch (err) {
    if (!isHeliosError(err)) throw err;
    // The config file itself is invalid: every schema problem, no plugin checks (the plugin lists may be wrong too).
    // resolveConfig's message is `<file>: <first detail>`; the details hold every problem.
    const first = err.details[0];
    const source = first !== undefined && err.message.endsWith(`: ${first}`) ? err.message.slice(0, -first.length - 2) : '(config)';
    return { valid: false, source, problems: err.details.length > 0 ? [...err.details] : [err.message], plugins: [] };
  }
  const specs = [
    ...loaded.config.plugins.detectors.map((spec, index) => ({ spec, index, kind: 'detector' as const })),
    ...loaded.config.plugins.reporters.map((spec, index) => ({ spec, index, kind: 'reporter' as const })),
  ];
  const checks = await Promise.all(specs.map(({ spec, index, kind }) => checkPluginSpec(spec, kind, index, loaded.baseDir)));
  const problems = checks.flatMap((c) => c.problems);
  return {
    valid: problems.length === 0,
    source: loaded.path ?? '(defaults)',
    problems,
    plugins: specs.map(({ spec, kind }, i) => ({ kind, use: spec.use, name: checks[i]!.name, version: checks[i]!.version, source: checks[i]!.source })),
  };
}

export const validate: CommandModule = {
  usage: `  Loads the configuration as \`helios up\` would (file, environment, flags), then imports each configured
  plugin and checks its options against its configSchema. Opens no store, binds no port, runs no plugin setup().`,
  async run({ configSources, json, stdout }) {
    const report = await validateConfiguration(() => loadConfig(configSources));
    if (json) stdout(`${JSON.stringify(report, null, 2)}\n`);
    else if (report.valid) {
      const names = report.plugins.map((p) => `${p.kind} ${p.name ?? p.use}${p.version === undefined ? '' : `@${p.version}`}`);
      stdout(`configuration valid: ${report.source}\n${names.map((n) => `  ${n}`).join('\n')}\n`);
    } else {
      process.stderr.write(`helios: HLS_ERR_CONFIG_INVALID: configuration invalid: ${report.source}, ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`);
    }
    if (!report.valid) process.exitCode = 1;
  },
};
