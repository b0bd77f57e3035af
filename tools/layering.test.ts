// The package layering of issue 19, checked from the import statements of every product source file
// (every workspace but bench/): what each layer may import, no import circles, no oversized files.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const MAX_LINES = 600;
/** gateway/src/gateway.ts composes the gateway's parts (issue 19); a new job belongs in a file of its own, not here. */
const GATEWAY_COMPOSITION_MAX_LINES = 250;
const KAFKA_LIBRARIES = ['kafkajs', '@platformatic/kafka', 'kafkajs-snappy', 'lz4js'];

interface Workspace { name: string; dir: string; exports: Record<string, string> }
export interface ImportRef { specifier: string; dynamic: boolean; typeOnly: boolean }

/** Import and re-export specifiers of a TypeScript source, with `import()` marked dynamic. Comments are skipped. */
export function importsOf(source: string): ImportRef[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const refs: ImportRef[] = [];
  const statement = /(?:^|[;\n])\s*(import|export)(\s+type)?\s+(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(statement)) refs.push({ specifier: m[3]!, dynamic: false, typeOnly: m[2] !== undefined });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) refs.push({ specifier: m[1]!, dynamic: true, typeOnly: false });
  return refs;
}

/** Every circle (strongly connected component of more than one file, or a file importing itself). */
export function circles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function workspaces(): Workspace[] {
  const patterns = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  const dirs = patterns.flatMap((p) => (p.endsWith('/*') ? readdirSync(join(root, p.slice(0, -2))).map((d) => `${p.slice(0, -2)}/${d}`) : [p]));
  return dirs
    .filter((d) => existsSync(join(root, d, 'package.json')))
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string; exports?: Record<string, unknown> };
      const exports: Record<string, string> = {};
      for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
        const file = typeof target === 'string' ? target : ((target as Record<string, string>)['@helios/source'] ?? (target as Record<string, string>)['default']);
        if (file !== undefined) exports[sub] = file;
      }
      return { name: pkg.name, dir, exports };
    });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(relative(root, path));
    }
  };
  for (const sub of ['src', 'test', 'examples']) if (existsSync(join(root, dir, sub))) walk(join(root, dir, sub));
  return out;
}

const isTest = (file: string) => /\.(test|fixture|testkit)\.ts$|\/test\/|\/e2e\//.test(file);

/** A source file's path for an import, or undefined when it is not a file of the repo. */
function resolveImport(from: string, specifier: string, byName: Map<string, Workspace>): { file?: string; workspace?: Workspace; outside?: string } {
  const asSource = (path: string): string | undefined => {
    for (const candidate of [path.replace(/\.js$/, '.ts'), path.replace(/\.mjs$/, '.mts'), path, `${path}.ts`, join(path, 'index.ts')]) {
      if (existsSync(join(root, candidate)) && statSync(join(root, candidate)).isFile()) return candidate;
    }
    return undefined;
  };
  if (specifier.startsWith('.')) {
    const path = relative(root, resolve(root, dirname(from), specifier));
    const file = asSource(path);
    return file === undefined ? { outside: path } : { file };
  }
  const m = /^(@helios\/[^/]+)(\/.*)?$/.exec(specifier);
  if (m === null) return {};
  const workspace = byName.get(m[1]!);
  if (workspace === undefined) return { outside: specifier };
  const target = workspace.exports[m[2] === undefined ? '.' : `.${m[2]}`];
  const file = target === undefined ? undefined : asSource(join(workspace.dir, target));
  return file === undefined ? { workspace } : { workspace, file };
}

const all = workspaces();
const byName = new Map(all.map((w) => [w.name, w]));
const product = all.filter((w) => w.name !== '@helios/bench');
const workspaceOf = (file: string) => product.find((w) => file.startsWith(`${w.dir}/`));
const files = product.flatMap((w) => sourceFiles(w.dir));
const imports = new Map(files.map((f) => [f, importsOf(readFileSync(join(root, f), 'utf8'))]));
const workspaceImports = (dir: string) =>
  [...imports].filter(([f]) => f.startsWith(`${dir}/`)).flatMap(([f, refs]) => refs.map((r) => ({ from: f, ...r, ...resolveImport(f, r.specifier, byName) })));

describe('the layering checks themselves', () => {
  it('find circles of any length, and only circles', () => {
    const g = (edges: Array<[string, string]>) => {
      const m = new Map<string, Set<string>>();
      for (const [a, b] of edges) {
        if (!m.has(a)) m.set(a, new Set());
        if (!m.has(b)) m.set(b, new Set());
        m.get(a)!.add(b);
      }
      return m;
    };
    expect(circles(g([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']]))).toEqual([['a', 'b', 'c']]);
    expect(circles(g([['a', 'a']]))).toEqual([['a']]);
    expect(circles(g([['a', 'b'], ['b', 'c'], ['a', 'c']]))).toEqual([]);
  });

  it('read every kind of import statement, including multi-line, type-only and dynamic ones', () => {
    const source = [
      "import { a,\n  b } from './x.js';",
      "import type { T } from '@helios/core';",
      "export { c } from './y.js';",
      "export * from './z.js';",
      "import './side-effect.js';",
      "// import { not } from './commented.js';",
      "const m = await import('./lazy.js');",
    ].join('\n');
    expect(importsOf(source)).toEqual([
      { specifier: './x.js', dynamic: false, typeOnly: false },
      { specifier: '@helios/core', dynamic: false, typeOnly: true },
      { specifier: './y.js', dynamic: false, typeOnly: false },
      { specifier: './z.js', dynamic: false, typeOnly: false },
      { specifier: './side-effect.js', dynamic: false, typeOnly: false },
      { specifier: './lazy.js', dynamic: true, typeOnly: false },
    ]);
  });
});

describe('package layering (issue 19)', () => {
  it('reads a meaningful number of product files', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(files).toContain('core/src/index.ts');
    expect(files).toContain('bus/src/kafka-bus.ts');
  });

  it('core imports nothing from the repo', () => {
    const offending = workspaceImports('core').filter((i) => i.specifier.startsWith('@helios/') || (i.file !== undefined && !i.file.startsWith('core/')) || i.outside !== undefined);
    expect(offending.map((i) => `${i.from} -> ${i.specifier}`)).toEqual([]);
  });

  it('bus imports only core from the repo', () => {
    const offending = workspaceImports('bus').filter((i) => (i.specifier.startsWith('@helios/') && i.specifier !== '@helios/core') || (i.file !== undefined && !i.file.startsWith('bus/') && !i.file.startsWith('core/')));
    expect(offending.map((i) => `${i.from} -> ${i.specifier}`)).toEqual([]);
  });

  it('nothing in the product imports bench, nor depends on it', () => {
    const offending = product.flatMap((w) => workspaceImports(w.dir)).filter((i) => i.specifier.startsWith('@helios/bench') || i.outside?.startsWith('bench/') || i.file?.startsWith('bench/'));
    expect(offending.map((i) => `${i.from} -> ${i.specifier}`)).toEqual([]);
    for (const w of product) {
      const pkg = JSON.parse(readFileSync(join(root, w.dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      expect(Object.keys({ ...pkg['dependencies'], ...pkg['peerDependencies'], ...pkg['optionalDependencies'] }), `${w.name} dependencies`).not.toContain('@helios/bench');
    }
  });

  it('has no import circle between product source files, nor between packages', () => {
    const graph = new Map<string, Set<string>>();
    const packages = new Map<string, Set<string>>();
    for (const [from, refs] of imports) {
      if (isTest(from)) continue;
      const edges = new Set<string>();
      graph.set(from, edges);
      const own = workspaceOf(from)!.name;
      if (!packages.has(own)) packages.set(own, new Set());
      for (const ref of refs) {
        const { file, workspace } = resolveImport(from, ref.specifier, byName);
        if (file !== undefined && !isTest(file)) edges.add(file);
        const target = workspace?.name ?? (file === undefined ? undefined : workspaceOf(file)?.name);
        if (target !== undefined && target !== own) packages.get(own)!.add(target);
      }
    }
    expect(circles(graph)).toEqual([]);
    expect(circles(packages)).toEqual([]);
  });

  it(`has no product source file over ${MAX_LINES} lines (tests aside), and gateway.ts stays a composition under ${GATEWAY_COMPOSITION_MAX_LINES}`, () => {
    expect(readFileSync(join(root, 'gateway/src/gateway.ts'), 'utf8').split('\n').length).toBeLessThan(GATEWAY_COMPOSITION_MAX_LINES);
    const over = files.filter((f) => !isTest(f)).map((f) => [f, readFileSync(join(root, f), 'utf8').split('\n').length] as const).filter(([, n]) => n > MAX_LINES);
    expect(over).toEqual([]);
  });

  it('loads no Kafka library by importing @helios/core or @helios/bus (the Kafka modules load on demand)', () => {
    for (const entry of ['core/src/index.ts', 'bus/src/index.ts']) {
      const seen = new Set<string>();
      const external = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const ref of imports.get(file) ?? []) {
          if (ref.dynamic || ref.typeOnly) continue;
          const { file: next } = resolveImport(file, ref.specifier, byName);
          if (next !== undefined) visit(next);
          else if (!ref.specifier.startsWith('.') && !ref.specifier.startsWith('@helios/')) external.add(ref.specifier.split('/').slice(0, ref.specifier.startsWith('@') ? 2 : 1).join('/'));
        }
      };
      visit(entry);
      expect(seen.size, entry).toBeGreaterThan(3);
      expect([...external].filter((name) => KAFKA_LIBRARIES.includes(name)), entry).toEqual([]);
    }
    // ...while the Kafka bus itself does load them (the check above looks where it should).
    expect(importsOf(readFileSync(join(root, 'bus/src/kafka-bus.ts'), 'utf8')).map((r) => r.specifier)).toContain('kafkajs');
  });
});
