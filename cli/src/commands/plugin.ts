import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeliosError } from '@helios/core';
import { PLUGIN_API_VERSION, type PluginKind } from '@helios/plugins';
import { stringOption, type Command } from './command.js';

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

/** The @helios/plugins range a new plugin builds against: the version this CLI runs with. */
function pluginsPackageRange(): string {
  // package.json is not among the package's exports: walk up from its entry to find it.
  let dir = dirname(fileURLToPath(import.meta.resolve('@helios/plugins')));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return `^${pkg.version}`;
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
    // The host provides @helios/plugins (definePlugin, Type); a plugin never bundles its own copy.
    peerDependencies: { '@helios/plugins': range },
    devDependencies: { '@helios/plugins': range },
    helios: { kind, apiVersion: apiRange() },
  };
  const fill = (text: string) => text.replaceAll('{{name}}', name).replaceAll('{{description}}', description).replaceAll('{{apiVersion}}', pkg.helios.apiVersion);
  const files: Record<string, string> = { 'package.json': `${JSON.stringify(pkg, null, 2)}\n`, '.gitignore': 'node_modules/\n*.tgz\n' };
  for (const file of readdirSync(join(TEMPLATES, kind))) files[file] = fill(readFileSync(join(TEMPLATES, kind, file), 'utf8'));
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return { dir, files: Object.keys(files).sort() };
}

export const plugin: Command = {
  name: 'plugin',
  summary: 'Create a plugin package: helios plugin new <name> --kind detector|reporter [--dir <folder>]',
  positionals: 'new <name>',
  options: {
    kind: { type: 'string', value: '<detector|reporter>', description: 'What the plugin is (required)' },
    dir: { type: 'string', value: '<folder>', description: 'Where to write it; default ./<name without scope>' },
    description: { type: 'string', value: '<text>', description: 'One line for package.json and the README' },
  },
  usage: `  Writes a package ready to test and publish: index.js (definePlugin, config schema with defaults),
  index.test.js (the Helios conformance check, run with \`npm test\`), README.md with the options table,
  and package.json declaring the plugin API range (helios.apiVersion). The folder defaults to ./<name
  without scope>.`,
  async run({ values: flags, positionals, stdout, json }) {
    const values = { kind: stringOption(flags, 'kind'), dir: stringOption(flags, 'dir'), description: stringOption(flags, 'description') };
    const [action, name] = positionals;
    if (action !== 'new' || name === undefined || positionals.length > 2) throw new HeliosError('HLS_ERR_USAGE', 'usage: helios plugin new <name> --kind detector|reporter [--dir <folder>]');
    if (values.kind === undefined) throw new HeliosError('HLS_ERR_USAGE', `--kind: required, one of ${KINDS.join(', ')}`);
    const dir = values.dir ?? name.replace(/^@[^/]+\//, '');
    const result = scaffoldPlugin({ name, kind: values.kind as PluginKind, dir, description: values.description });
    if (json) {
      stdout(`${JSON.stringify(result)}\n`);
      return;
    }
    const shown = relative(process.cwd(), result.dir) || '.';
    stdout(`Created ${values.kind} plugin ${name} in ${shown}:\n${result.files.map((f) => `  ${f}`).join('\n')}\n\nNext:\n  cd ${shown}\n  npm install\n  npm test\n  npm publish\n\nThen name it in helios.config.yaml under plugins.${values.kind}s: - use: '${name}'\n`);
  },
};
