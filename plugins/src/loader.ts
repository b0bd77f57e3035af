import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import semver from 'semver';
import { HeliosError, type Logger, type PluginSpec, type Registry } from '@helios/core';
import type { StoreReader } from '@helios/store';
import { PLUGIN_API_VERSION, type DetectorHooks, type HeliosPlugin, type PluginContext, type PluginKind, type ReporterHooks } from './define.js';
import { PluginGuard, pluginGuardMetrics } from './guard.js';

export interface LoadedPlugin<H> {
  readonly name: string;
  readonly version: string;
  readonly kind: PluginKind;
  /** Where it was loaded from (resolved file). */
  readonly source: string;
  readonly hooks: H;
  readonly guard: PluginGuard;
  /** Calls the plugin's shutdown once, however often it is called. */
  shutdown(): Promise<void>;
}

export interface PluginHostOptions {
  /** Folder that relative plugin paths and package names resolve from (the config file's folder). */
  baseDir: string;
  logger: Logger;
  metrics: Registry;
  store: StoreReader;
  dataDir: string;
  timeoutMs: number;
  now?: () => number;
}

type HooksOf<K extends PluginKind> = K extends 'detector' ? DetectorHooks : ReporterHooks;

async function importPlugin(use: string, baseDir: string, where: string): Promise<{ module: Record<string, unknown>; source: string }> {
  const isPath = use.startsWith('.') || isAbsolute(use);
  let source: string;
  try {
    source = isPath ? resolve(baseDir, use) : createRequire(join(baseDir, 'helios.config.js')).resolve(use);
  } catch {
    // Not installed next to the config: the host's own dependencies (plugins shipped with Helios).
    try {
      source = createRequire(import.meta.url).resolve(use);
    } catch (err) {
      throw new HeliosError('HLS_ERR_PLUGIN_NOT_FOUND', `${where}: cannot find plugin "${use}" (install it with npm next to the config, or give a path)`, { cause: err });
    }
  }
  try {
    return { module: (await import(pathToFileURL(source).href)) as Record<string, unknown>, source };
  } catch (err) {
    throw new HeliosError('HLS_ERR_PLUGIN_NOT_FOUND', `${where}: failed to import "${use}" from ${source}: ${(err as Error).message}`, { cause: err });
  }
}

/** Check the exported object is a plugin of the expected kind; every problem names the field. */
export function assertPlugin(candidate: unknown, kind: PluginKind, where: string): HeliosPlugin {
  const problems: string[] = [];
  const p = candidate as Partial<HeliosPlugin> | undefined;
  if (typeof p !== 'object' || p === null) throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: module has no default export made with definePlugin`);
  if (p.kind !== kind) problems.push(`kind: expected "${kind}", got ${JSON.stringify(p.kind)}`);
  if (typeof p.name !== 'string' || p.name === '') problems.push('name: required');
  if (typeof p.version !== 'string' || semver.valid(p.version) === null) problems.push(`version: expected a semver version, got ${JSON.stringify(p.version)}`);
  if (typeof p.apiVersion !== 'string' || semver.validRange(p.apiVersion) === null) problems.push(`apiVersion: expected a semver range, got ${JSON.stringify(p.apiVersion)}`);
  if (typeof p.setup !== 'function') problems.push('setup: expected a function');
  if (problems.length > 0) throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: ${problems.join('; ')}`, { details: problems });
  if (!semver.satisfies(PLUGIN_API_VERSION, p.apiVersion!)) {
    throw new HeliosError('HLS_ERR_PLUGIN_API_MISMATCH', `${where}: ${p.name}@${p.version} supports plugin API ${p.apiVersion}, but this Helios provides plugin API ${PLUGIN_API_VERSION}`);
  }
  return p as HeliosPlugin;
}

// Plugin options are validated once at load, so Ajv's compile cost does not matter; it takes any JSON
// Schema, so a plugin may be written with TypeBox (typed options) or with a plain JSON Schema object.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });

function describeAjvError(e: ErrorObject, prefix: string): string {
  const path = prefix + e.instancePath.replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
  if (e.keyword === 'additionalProperties') return `${path}.${String(e.params['additionalProperty'])}: unknown field`;
  if (e.keyword === 'required') return `${path}.${String(e.params['missingProperty'])}: required`;
  return `${path}: ${e.message ?? e.keyword}, got ${JSON.stringify(e.data)}`;
}

/** Apply the schema's defaults to the options and validate them; errors name the plugin and the key. */
export function resolvePluginOptions(plugin: HeliosPlugin, options: unknown, where: string): unknown {
  if (plugin.configSchema === undefined) {
    if (options !== undefined && (typeof options !== 'object' || options === null || Object.keys(options).length > 0)) {
      throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `${where}.options: ${plugin.name} takes no options`);
    }
    return {};
  }
  const candidate = structuredClone(options ?? {});
  const validate = ajv.compile({ ...plugin.configSchema, $async: undefined });
  if (validate(candidate)) return candidate;
  (validate as { verbose?: boolean }).verbose = true;
  const details = (validate.errors ?? []).map((e) => describeAjvError(e, `${where}.options`));
  throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `${plugin.name}: ${details.join('; ')}`, { details });
}

/** Load, validate and set up one plugin. Fails at start, with the plugin and field named, never later. */
export async function loadPlugin<K extends PluginKind>(spec: PluginSpec, kind: K, index: number, host: PluginHostOptions): Promise<LoadedPlugin<HooksOf<K>>> {
  const where = `plugins.${kind}s[${index}] (${spec.use})`;
  const { module, source } = await importPlugin(spec.use, host.baseDir, where);
  const plugin = assertPlugin(module['default'] ?? module['plugin'], kind, where);
  const options = resolvePluginOptions(plugin, spec.options, `plugins.${kind}s[${index}]`);
  const logger = host.logger.child({ plugin: plugin.name });
  const guard = new PluginGuard(plugin.name, host.timeoutMs, logger, pluginGuardMetrics(host.metrics));
  const ctx: PluginContext<unknown> = {
    options, logger, metrics: host.metrics, store: host.store,
    dataDir: host.dataDir,
    stateDir: join(host.dataDir, 'plugins', plugin.name.replace(/[^a-zA-Z0-9._-]+/g, '_')),
    now: host.now ?? Date.now,
  };
  const setup = await guard.call('setup', () => (plugin.setup as (c: PluginContext<unknown>) => unknown)(ctx));
  if (!setup.ok) throw setup.error;
  const hooks = setup.value as HooksOf<K>;
  if (typeof hooks !== 'object' || hooks === null) throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: setup() must return the plugin's hooks`);
  if (kind === 'detector' && typeof (hooks as DetectorHooks).detect !== 'function') throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: detect: expected a function`);
  if (kind === 'detector' && (hooks as DetectorHooks).detectMetric !== undefined && typeof (hooks as DetectorHooks).detectMetric !== 'function') throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: detectMetric: expected a function or nothing`);
  if (kind === 'detector' && (hooks as DetectorHooks).train !== undefined && typeof (hooks as DetectorHooks).train !== 'function') throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: train: expected a function or nothing`);
  if (kind === 'reporter' && typeof (hooks as ReporterHooks).compose !== 'function' && typeof (hooks as ReporterHooks).deliver !== 'function') {
    throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: a reporter must return compose() or deliver()`);
  }
  let stopping: Promise<void> | undefined;
  return {
    name: plugin.name, version: plugin.version, kind, source, hooks, guard,
    shutdown() {
      stopping ??= hooks.shutdown === undefined ? Promise.resolve() : guard.call('shutdown', () => hooks.shutdown!()).then(() => undefined);
      return stopping;
    },
  };
}

export async function loadPlugins<K extends PluginKind>(specs: readonly PluginSpec[], kind: K, host: PluginHostOptions): Promise<Array<LoadedPlugin<HooksOf<K>>>> {
  const loaded: Array<LoadedPlugin<HooksOf<K>>> = [];
  try {
    for (const [i, spec] of specs.entries()) loaded.push(await loadPlugin(spec, kind, i, host));
    return loaded;
  } catch (err) {
    await Promise.all(loaded.map((p) => p.shutdown()));
    throw err;
  }
}
