import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import semver from 'semver';
import { HeliosError, isHeliosError, type Logger, type PluginSpec, type Registry } from '@helios/core';
import type { DetectorStateStore, StoreReader } from '@helios/store';
import { PLUGIN_API_VERSION, type DetectorHooks, type HeliosPlugin, type PluginContext, type PluginKind, type ReporterHooks } from './define.js';
import { PluginGuard, pluginGuardMetrics } from './guard.js';
import { createMemoryDetectorState, createPluginStateStore } from './series-state.js';

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
  /** Where `ctx.state` keeps per-series state (the store); state stays in this process when absent. */
  detectorState?: DetectorStateStore;
  dataDir: string;
  timeoutMs: number;
  now?: () => number;
}

type HooksOf<K extends PluginKind> = K extends 'detector' ? DetectorHooks : ReporterHooks;

/**
 * The module file of a package folder, read from its package.json as Node resolves the package by name:
 * `exports["."]` (the `import` or `default` condition), then `main`, then index.js. Node's import of a bare
 * folder path refuses directories, so `use: ./my-plugin` is resolved here.
 */
export function packageFolderEntry(dir: string): string {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return join(dir, 'index.js');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; main?: unknown };
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (Array.isArray(target)) return target.map(pick).find((t) => t !== undefined);
    if (typeof target === 'object' && target !== null) {
      const t = target as Record<string, unknown>;
      // `{ ".": … }` (subpath map) or conditions; the host imports, so import/node/default apply.
      if ('.' in t) return pick(t['.']);
      for (const condition of ['import', 'node', 'default']) if (condition in t) return pick(t[condition]);
    }
    return undefined;
  };
  const entry = pick(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : undefined) ?? 'index.js';
  return resolve(dir, entry);
}

/** The file a plugin spec's `use` names: a path (a file or a package folder) or a package name. */
export function resolvePluginSource(use: string, baseDir: string): string {
  if (use.startsWith('.') || isAbsolute(use)) {
    const path = resolve(baseDir, use);
    return existsSync(path) && statSync(path).isDirectory() ? packageFolderEntry(path) : path;
  }
  try {
    return createRequire(join(baseDir, 'helios.config.js')).resolve(use);
  } catch {
    // Not installed next to the config: the host's own dependencies (plugins shipped with Helios).
    return createRequire(import.meta.url).resolve(use);
  }
}

async function importPlugin(use: string, baseDir: string, where: string): Promise<{ module: Record<string, unknown>; source: string }> {
  let source: string;
  try {
    source = resolvePluginSource(use, baseDir);
  } catch (err) {
    throw new HeliosError('HLS_ERR_PLUGIN_NOT_FOUND', `${where}: cannot find plugin "${use}" (install it with npm next to the config, or give a path)`, { cause: err });
  }
  if (!existsSync(source)) throw new HeliosError('HLS_ERR_PLUGIN_NOT_FOUND', `${where}: cannot find plugin "${use}": ${source} does not exist`);
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
// verbose: errors carry the offending value, so a message says `got 0` rather than `got undefined`.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });

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
  const details = (validate.errors ?? []).map((e) => describeAjvError(e, `${where}.options`));
  throw new HeliosError('HLS_ERR_PLUGIN_CONFIG', `${plugin.name}: ${details.join('; ')}`, { details });
}

/** What `helios validate` learns of one plugin spec: every problem, each naming the spec and the key. */
export interface PluginSpecCheck {
  /** The resolved file, when it resolved. */
  source?: string;
  /** The plugin's name and version, when the module exported a valid plugin. */
  name?: string;
  version?: string;
  problems: string[];
}

/**
 * Everything loadPlugin checks before setup(): the spec resolves and imports, exports a plugin of the kind
 * for this plugin API, and its options satisfy its configSchema. Runs no hook: nothing opens or listens.
 */
export async function checkPluginSpec(spec: PluginSpec, kind: PluginKind, index: number, baseDir: string): Promise<PluginSpecCheck> {
  const where = `plugins.${kind}s[${index}] (${spec.use})`;
  const check: PluginSpecCheck = { problems: [] };
  const problemsOf = (err: unknown): string[] => {
    const details = (err as HeliosError).details ?? [];
    // Option problems already carry their full key path (plugins.detectors[0].options.trees); others the field only.
    if (isHeliosError(err, 'HLS_ERR_PLUGIN_CONFIG')) return details.map((d) => `${d} (${spec.use})`);
    return details.length > 1 ? details.map((d) => `${where}: ${d}`) : [(err as Error).message];
  };
  try {
    const { module, source } = await importPlugin(spec.use, baseDir, where);
    check.source = source;
    const plugin = assertPlugin(module['default'] ?? module['plugin'], kind, where);
    check.name = plugin.name;
    check.version = plugin.version;
    resolvePluginOptions(plugin, spec.options, `plugins.${kind}s[${index}]`);
  } catch (err) {
    check.problems.push(...problemsOf(err));
  }
  return check;
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
    state: createPluginStateStore(host.detectorState ?? createMemoryDetectorState(), plugin.name, host.now ?? Date.now),
  };
  const setup = await guard.call('setup', () => (plugin.setup as (c: PluginContext<unknown>) => unknown)(ctx));
  if (!setup.ok) throw setup.error;
  const hooks = setup.value as HooksOf<K>;
  if (typeof hooks !== 'object' || hooks === null) throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: setup() must return the plugin's hooks`);
  if (kind === 'detector' && typeof (hooks as DetectorHooks).detect !== 'function') throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: detect: expected a function`);
  if (kind === 'detector' && (hooks as DetectorHooks).detectMetric !== undefined && typeof (hooks as DetectorHooks).detectMetric !== 'function') throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: detectMetric: expected a function or nothing`);
  if (kind === 'detector' && (hooks as DetectorHooks).train !== undefined && typeof (hooks as DetectorHooks).train !== 'function') throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: train: expected a function or nothing`);
  if (kind === 'detector' && (hooks as DetectorHooks).warm !== undefined && typeof (hooks as DetectorHooks).warm !== 'function') throw new HeliosError('HLS_ERR_PLUGIN_INVALID', `${where}: warm: expected a function or nothing`);
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
