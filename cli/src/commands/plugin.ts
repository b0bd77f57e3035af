import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeliosError } from '@helios/core';
import { PLUGIN_API_VERSION, type PluginKind } from '@helios/plugins';
import { stringOption, type CommandModule } from './command.js';

// cli/templates/<kind>/ — the same relative place from src/commands and dist/commands.
const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));
const KINDS: readonly PluginKind[] = ['detector', 'reporter'];
// npm's rules for a package name: lower case, URL-safe, optionally scoped, at most 214 characters.
const PACKAGE_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

export interface ScaffoldOptions {
  name: string;
  kind: PluginKind;
  /** Folder to write into; must not exist or be empty. */
  dir: string;
  description?: string;
  /**
   * Where the plugin's development copy of @helios/plugins comes from: a folder (a Helios checkout's
   * plugins/) or a packed .tgz. Default: this CLI's own copy when it runs from a checkout, else the registry.
   */
  pluginsFrom?: string;
}

export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/** The range a new plugin declares: the host's current major, from this minor on. */
function apiRange(): string {
  const [major, minor] = PLUGIN_API_VERSION.split('.');
  return `^${major}.${minor}.0`;
}

/** The folder of the @helios/plugins this CLI runs with (its real path, through workspace links). */
function pluginsPackageDir(): string {
  // package.json is not among the package's exports: walk up from its entry to find it.
  let dir = dirname(fileURLToPath(import.meta.resolve('@helios/plugins')));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return realpathSync(dir);
}

/** The @helios/plugins range a new plugin builds against: the version this CLI runs with. */
function pluginsPackageRange(): string {
  const pkg = JSON.parse(readFileSync(join(pluginsPackageDir(), 'package.json'), 'utf8')) as { version: string };
  return `^${pkg.version}`;
}

/**
 * The devDependency spec for @helios/plugins, so a plain `npm install` in the new plugin works before
 * Helios is on the registry: `file:` the given folder or tarball, else this CLI's own copy when it runs
 * from a checkout (not from node_modules), else the registry range.
 */
export function pluginsDevSpec(pluginsFrom: string | undefined, range: string, ownDir = pluginsPackageDir()): string {
  if (pluginsFrom !== undefined) {
    const path = resolve(pluginsFrom);
    if (!existsSync(path)) throw new HeliosError('HLS_ERR_USAGE', `--plugins-from: ${path} does not exist (give a Helios checkout's plugins/ folder or a tarball from \`npm pack -w @helios/plugins\`)`);
    return `file:${path}`;
  }
  return ownDir.split(sep).includes('node_modules') ? range : `file:${ownDir}`;
}

/**
 * A packed @helios/plugins depends on @helios/core and @helios/store, which are not on the registry
 * either: when their tarballs (`npm pack -w @helios/core -w @helios/store -w @helios/plugins`) lie next
 * to it, npm `overrides` point those dependencies at them, so a plain `npm install` resolves everything.
 */
export function siblingTarballOverrides(devSpec: string): Record<string, string> {
  if (!devSpec.startsWith('file:') || !devSpec.endsWith('.tgz')) return {};
  const folder = dirname(devSpec.slice('file:'.length));
  const overrides: Record<string, string> = {};
  for (const [name, prefix] of [['@helios/core', 'helios-core-'], ['@helios/store', 'helios-store-']] as const) {
    const tarball = readdirSync(folder).filter((f) => f.startsWith(prefix) && f.endsWith('.tgz')).sort().at(-1);
    if (tarball !== undefined) overrides[name] = `file:${join(folder, tarball)}`;
  }
  return overrides;
}

/** Write a ready-to-publish plugin package: entry, test, README with its options table, package.json with the API range. */
export function scaffoldPlugin(options: ScaffoldOptions): ScaffoldResult {
  const { name, kind } = options;
  if (!PACKAGE_NAME.test(name) || name.length > 214) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `name: not a valid npm package name, got ${JSON.stringify(name)} (lower case letters, digits, - . _ ~, optionally @scope/)`);
  if (!KINDS.includes(kind)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `--kind: expected one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const dir = resolve(options.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `--dir: ${dir} exists and is not empty; choose another folder`);
  const description = options.description ?? (kind === 'detector'
    ? 'Helios detector: flags windows whose error rate jumps well above the recent average of the service.'
    : 'Helios reporter: appends every incident report as one JSON line to a file.');
  const range = pluginsPackageRange();
  const devSpec = pluginsDevSpec(options.pluginsFrom, range);
  const overrides = siblingTarballOverrides(devSpec);
  const pkg = {
    name,
    version: '0.1.0',
    description,
    type: 'module',
    license: 'MIT',
    exports: { '.': './index.js' },
    files: ['index.js', 'README.md'],
    keywords: ['helios', 'helios-plugin', `helios-${kind}`],
    engines: { node: '>=20.10' },
    scripts: { test: 'node --test' },
    // The host provides @helios/plugins (definePlugin, Type); a plugin never bundles its own copy. The peer
    // is optional so npm never fetches Helios for a plugin: installed into a Helios setup, Helios is there.
    peerDependencies: { '@helios/plugins': range },
    peerDependenciesMeta: { '@helios/plugins': { optional: true } },
    devDependencies: { '@helios/plugins': devSpec },
    ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
    helios: { kind, apiVersion: apiRange() },
  };
  const fill = (text: string) => text.replaceAll('{{name}}', name).replaceAll('{{description}}', description).replaceAll('{{apiVersion}}', pkg.helios.apiVersion);
  const files: Record<string, string> = { 'package.json': `${JSON.stringify(pkg, null, 2)}\n`, '.gitignore': 'node_modules/\n*.tgz\n' };
  for (const file of readdirSync(join(TEMPLATES, kind))) files[file] = fill(readFileSync(join(TEMPLATES, kind, file), 'utf8'));
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return { dir, files: Object.keys(files).sort() };
}

export const plugin: CommandModule = {
  positionals: 'new <name>',
  options: {
    kind: { type: 'string', value: '<detector|reporter>', description: 'What the plugin is (required)' },
    dir: { type: 'string', value: '<folder>', description: 'Where to write it; default ./<name without scope>' },
    description: { type: 'string', value: '<text>', description: 'One line for package.json and the README' },
    'plugins-from': { type: 'string', value: '<folder|tgz>', description: "@helios/plugins for development: a checkout's plugins/ folder or a packed tarball; default this CLI's copy when run from a checkout, else the registry" },
  },
  usage: `  Writes a package ready to test and publish: index.js (definePlugin, config schema with defaults),
  index.test.js (the Helios conformance check, run with \`npm test\`), README.md with the options table,
  and package.json declaring the plugin API range (helios.apiVersion). The folder defaults to ./<name
  without scope>.`,
  async run({ values: flags, positionals, stdout, json }) {
    const values = { kind: stringOption(flags, 'kind'), dir: stringOption(flags, 'dir'), description: stringOption(flags, 'description'), pluginsFrom: stringOption(flags, 'plugins-from') };
    const [action, name] = positionals;
    if (action !== 'new' || name === undefined || positionals.length > 2) throw new HeliosError('HLS_ERR_USAGE', 'usage: helios plugin new <name> --kind detector|reporter [--dir <folder>]');
    if (values.kind === undefined) throw new HeliosError('HLS_ERR_USAGE', `--kind: required, one of ${KINDS.join(', ')}`);
    const dir = values.dir ?? name.replace(/^@[^/]+\//, '');
    const result = scaffoldPlugin({ name, kind: values.kind as PluginKind, dir, description: values.description, pluginsFrom: values.pluginsFrom });
    if (json) {
      stdout(`${JSON.stringify(result)}\n`);
      return;
    }
    const shown = relative(process.cwd(), result.dir) || '.';
    stdout(`Created ${values.kind} plugin ${name} in ${shown}:\n${result.files.map((f) => `  ${f}`).join('\n')}\n\nNext:\n  cd ${shown}\n  npm install\n  npm test\n  npm publish\n\nThen name it in helios.config.yaml under plugins.${values.kind}s: - use: '${name}'\n`);
  },
};
