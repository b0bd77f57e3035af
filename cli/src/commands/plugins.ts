import { pathToFileURL } from 'node:url';
import { HeliosError, type HeliosConfig, type PluginSpec } from '@helios/core';
import { PLUGIN_API_VERSION, assertPlugin, resolvePluginOptions, resolvePluginSource, type PluginKind } from '@helios/plugins';
import { stringOption, type CommandModule } from './command.js';

export interface HookHealth {
  calls: number;
  errors: number;
  timeouts: number;
  /** Total time spent in the hook. */
  seconds: number;
}

export interface PluginListing {
  kind: PluginKind;
  /** Position in `plugins.<kind>s` of the config. */
  index: number;
  use: string;
  /** The resolved file, or undefined when it could not be found. */
  source?: string;
  name?: string;
  version?: string;
  /** The plugin API range the plugin declares. */
  apiVersion?: string;
  /** Whether `helios up` would accept it (found, a plugin of this kind, API range satisfied). */
  loadable: boolean;
  /** Why it would be refused: the same message `helios up` fails with. */
  problem?: string;
  /** Per hook, from the running Helios's /metrics; undefined when no Helios answered. */
  health?: Record<string, HookHealth>;
}

export interface PluginsReport {
  pluginApiVersion: string;
  /** The /metrics URL health was read from, and whether it answered. */
  metrics: { url: string; ok: boolean; error?: string };
  plugins: PluginListing[];
}

/** What the config would load, without running any plugin's setup(). */
async function inspect(spec: PluginSpec, kind: PluginKind, index: number, baseDir: string): Promise<PluginListing> {
  const listing: PluginListing = { kind, index, use: spec.use, loadable: false };
  try {
    listing.source = resolvePluginSource(spec.use, baseDir);
  } catch {
    listing.problem = `cannot find plugin "${spec.use}" (install it with npm next to the config, or give a path)`;
    return listing;
  }
  let candidate: Record<string, unknown> | undefined;
  try {
    const module = (await import(pathToFileURL(listing.source).href)) as Record<string, unknown>;
    candidate = (module['default'] ?? module['plugin']) as Record<string, unknown> | undefined;
  } catch (err) {
    listing.problem = `failed to import: ${(err as Error).message}`;
    return listing;
  }
  if (typeof candidate === 'object' && candidate !== null) {
    for (const key of ['name', 'version', 'apiVersion'] as const) if (typeof candidate[key] === 'string') listing[key] = candidate[key];
  }
  try {
    const plugin = assertPlugin(candidate, kind, `plugins.${kind}s[${index}] (${spec.use})`);
    resolvePluginOptions(plugin, spec.options, `plugins.${kind}s[${index}]`);
    listing.loadable = true;
  } catch (err) {
    listing.problem = (err as Error).message;
  }
  return listing;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Per plugin and hook: calls, errors, timeouts and seconds, from the Prometheus text of /metrics. */
export function pluginHealthFromMetrics(text: string): Map<string, Record<string, HookHealth>> {
  const byPlugin = new Map<string, Record<string, HookHealth>>();
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m === null || !m[1]!.startsWith('helios_plugin_')) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(LABEL)].map((l) => [l[1]!, l[2]!.replace(/\\(.)/g, '$1')]));
    const plugin = labels['plugin'];
    const hookName = labels['hook'];
    if (plugin === undefined || hookName === undefined) continue;
    const hooks = byPlugin.get(plugin) ?? {};
    byPlugin.set(plugin, hooks);
    const hook = (hooks[hookName] ??= { calls: 0, errors: 0, timeouts: 0, seconds: 0 });
    const value = Number(m[3]);
    if (m[1] === 'helios_plugin_hook_duration_seconds_count') hook.calls = value;
    else if (m[1] === 'helios_plugin_hook_duration_seconds_sum') hook.seconds = value;
    else if (m[1] === 'helios_plugin_errors_total') {
      hook.errors += value;
      if (labels['reason'] === 'timeout') hook.timeouts += value;
    }
  }
  return byPlugin;
}

function metricsUrl(config: HeliosConfig, url: string | undefined): string {
  if (url !== undefined) return new URL(url).pathname === '/' ? new URL('/metrics', url).href : url;
  const host = config.gateway.host === '0.0.0.0' || config.gateway.host === '::' ? '127.0.0.1' : config.gateway.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.gateway.port}/metrics`;
}

/** Everything the config loads, where from, versions and API ranges, and each plugin's health when a Helios answers. */
export async function listPlugins(options: { config: HeliosConfig; baseDir: string; url?: string }): Promise<PluginsReport> {
  const { config, baseDir } = options;
  const plugins = await Promise.all([
    ...config.plugins.detectors.map((spec, i) => inspect(spec, 'detector', i, baseDir)),
    ...config.plugins.reporters.map((spec, i) => inspect(spec, 'reporter', i, baseDir)),
  ]);
  const url = metricsUrl(config, options.url);
  const metrics: PluginsReport['metrics'] = { url, ok: false };
  try {
    // /metrics may require a metrics key (metrics.auth): the config's first one is this operator's.
    const key = config.metrics.keys[0];
    const res = await fetch(url, { signal: AbortSignal.timeout(2000), ...(key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } }) });
    if (!res.ok) throw new Error(res.status === 401 ? 'HTTP 401: /metrics requires a key; add one to metrics.keys' : `HTTP ${res.status}`);
    const health = pluginHealthFromMetrics(await res.text());
    metrics.ok = true;
    for (const p of plugins) if (p.name !== undefined) p.health = health.get(p.name) ?? {};
  } catch (err) {
    metrics.error = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    // An explicit --url that does not answer is an error; the configured port not answering just means Helios is not running.
    if (options.url !== undefined) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `--url: could not read ${url}: ${metrics.error}`, { cause: err });
  }
  return { pluginApiVersion: PLUGIN_API_VERSION, metrics, plugins };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

function describeHealth(health: Record<string, HookHealth> | undefined): string {
  if (health === undefined) return '-';
  const hooks = Object.entries(health).filter(([hook]) => hook !== 'setup');
  if (hooks.length === 0) return 'no calls yet';
  return hooks.map(([hook, h]) => `${hook}: ${h.calls} calls, ${h.errors} errors${h.timeouts > 0 ? ` (${h.timeouts} timeouts)` : ''}, ${(h.seconds * 1000).toFixed(1)} ms`).join('; ');
}

export function formatPluginsReport(report: PluginsReport): string {
  const rows = [['KIND', 'NAME', 'VERSION', 'API', 'STATUS', 'SOURCE', 'HEALTH']];
  for (const p of report.plugins) {
    rows.push([p.kind, p.name ?? p.use, p.version ?? '-', p.apiVersion ?? '-', p.loadable ? 'ok' : 'refused', p.source ?? '-', describeHealth(p.health)]);
  }
  const problems = report.plugins.filter((p) => p.problem !== undefined).map((p) => `  plugins.${p.kind}s[${p.index}] (${p.use}): ${p.problem}`);
  const healthLine = report.metrics.ok ? `health from ${report.metrics.url}` : `health: no Helios answered at ${report.metrics.url} (${report.metrics.error}); start one or pass --url`;
  return [`Helios plugin API ${report.pluginApiVersion}; ${healthLine}`, '', table(rows), ...(problems.length > 0 ? ['', 'Refused:', ...problems] : [])].join('\n');
}

export const plugins: CommandModule = {
  positionals: 'list',
  options: { url: { type: 'string', value: '<http://host:port>', description: 'A running Helios to read plugin health from; default the configured gateway port' } },
  usage: `  Reads the config's plugins.detectors and plugins.reporters, resolves each as \`helios up\` would
  (without starting it), and reads errors and time per hook from the /metrics of a running Helios:
  --url, or the configured gateway port.`,
  async run({ loaded, values, positionals, json, stdout }) {
    if ((positionals[0] ?? 'list') !== 'list' || positionals.length > 1) throw new HeliosError('HLS_ERR_USAGE', `usage: helios plugins list [--url <url>] [--json], got "${positionals.join(' ')}"`);
    const report = await listPlugins({ config: loaded.config, baseDir: loaded.baseDir, url: stringOption(values, 'url') });
    stdout(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatPluginsReport(report)}\n`);
    // Exit status says whether `helios up` would start with this config.
    if (report.plugins.some((p) => !p.loadable)) process.exitCode = 1;
  },
};
