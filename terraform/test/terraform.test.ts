import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Folder {
  path: string;
  variables: Set<string>;
  locals: Set<string>;
  outputs: Set<string>;
  modules: Map<string, { source: string; inputs: string[] }>;
  /** Every expression string of the folder, with the file it came from. */
  expressions: Array<{ file: string; text: string }>;
}

function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) yield* strings(v);
}

function terraformFolders(dir: string): string[] {
  const entries = readdirSync(dir);
  const here = entries.some((e) => e.endsWith('.tf')) ? [dir] : [];
  return [...here, ...entries.filter((e) => e !== 'node_modules' && e !== 'test' && statSync(join(dir, e)).isDirectory()).flatMap((e) => terraformFolders(join(dir, e)))];
}

async function readFolder(path: string): Promise<Folder> {
  const folder: Folder = { path, variables: new Set(), locals: new Set(), outputs: new Set(), modules: new Map(), expressions: [] };
  for (const file of readdirSync(path).filter((f) => f.endsWith('.tf'))) {
    const json = (await parse(file, readFileSync(join(path, file), 'utf8'))) as Record<string, any>;
    for (const name of Object.keys(json['variable'] ?? {})) folder.variables.add(name);
    for (const name of Object.keys(json['output'] ?? {})) folder.outputs.add(name);
    for (const block of json['locals'] ?? []) for (const name of Object.keys(block)) folder.locals.add(name);
    for (const [name, [block]] of Object.entries<any>(json['module'] ?? {})) {
      folder.modules.set(name, { source: block.source, inputs: Object.keys(block).filter((k) => !['source', 'version', 'providers', 'depends_on', 'count', 'for_each'].includes(k)) });
    }
    for (const text of strings(json)) folder.expressions.push({ file: `${relative(root, path)}/${file}`, text });
  }
  return folder;
}

/** `prefix.name` references in interpolations; `$${` is an escaped literal and not one. */
function references(text: string, prefix: string): string[] {
  const out: string[] = [];
  for (const interp of text.replace(/\$\$\{/g, '').matchAll(/\$\{([\s\S]*)\}/g)) {
    for (const m of interp[1]!.matchAll(new RegExp(`(?<![\\w.])${prefix}\\.([a-zA-Z_][\\w-]*)(?:\\.([a-zA-Z_][\\w-]*))?`, 'g'))) out.push(m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`);
  }
  return out;
}

describe('terraform/', () => {
  const folders = new Map<string, Folder>();
  beforeAll(async () => {
    for (const path of terraformFolders(root)) folders.set(path, await readFolder(path));
  });

  it('has the modules and environments the issue asks for', () => {
    const names = [...folders.keys()].map((p) => relative(root, p)).sort();
    expect(names).toEqual(['environments/dev', 'environments/prod', 'modules/helios-ecs', 'modules/helios-stack', 'modules/msk', 'modules/network', 'modules/rds', 'modules/reports-bucket', 'modules/secrets']);
  });

  it('every var.X and local.X used is declared in the same folder', () => {
    const missing: string[] = [];
    for (const f of folders.values()) {
      for (const { file, text } of f.expressions) {
        for (const ref of references(text, 'var')) if (!f.variables.has(ref.split('.')[0]!)) missing.push(`${file}: var.${ref}`);
        for (const ref of references(text, 'local')) if (!f.locals.has(ref.split('.')[0]!)) missing.push(`${file}: local.${ref}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('module calls pass only inputs the module declares, every required one, and read only declared outputs', () => {
    const problems: string[] = [];
    for (const f of folders.values()) {
      for (const [name, call] of f.modules) {
        const target = folders.get(resolve(f.path, call.source));
        if (target === undefined) {
          problems.push(`${relative(root, f.path)}: module ${name}: source ${call.source} is not a module here`);
          continue;
        }
        for (const input of call.inputs) if (!target.variables.has(input)) problems.push(`${relative(root, f.path)}: module ${name}: ${input} is not a variable of ${call.source}`);
        for (const required of requiredVariables(target)) if (!call.inputs.includes(required)) problems.push(`${relative(root, f.path)}: module ${name}: required ${required} not passed`);
      }
      for (const { file, text } of f.expressions) {
        for (const ref of references(text, 'module')) {
          const [moduleName, output] = ref.split('.') as [string, string | undefined];
          const call = f.modules.get(moduleName);
          if (call === undefined) problems.push(`${file}: module.${moduleName} is not called here`);
          else if (output !== undefined && !folders.get(resolve(f.path, call.source))?.outputs.has(output)) problems.push(`${file}: module.${ref} is not an output of ${call.source}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every variable and output has a description; every module declares outputs', async () => {
    const problems: string[] = [];
    for (const f of folders.values()) {
      for (const file of readdirSync(f.path).filter((x) => x.endsWith('.tf'))) {
        const json = (await parse(file, readFileSync(join(f.path, file), 'utf8'))) as Record<string, any>;
        for (const kind of ['variable', 'output']) for (const [name, [block]] of Object.entries<any>(json[kind] ?? {})) if (!block.description) problems.push(`${relative(root, f.path)}: ${kind} ${name} has no description`);
      }
      if (f.outputs.size === 0) problems.push(`${relative(root, f.path)}: no outputs`);
    }
    expect(problems).toEqual([]);
  });

  it('MSK speaks what the Helios Kafka client (kafkajs) does: SASL/SCRAM over TLS with an AmazonMSK_ secret under a key of its own', async () => {
    const msk = (await parse('main.tf', readFileSync(join(root, 'modules', 'msk', 'main.tf'), 'utf8'))) as Record<string, any>;
    const cluster = msk['resource'].aws_msk_cluster.this[0];
    expect(cluster.client_authentication).toEqual([{ unauthenticated: false, sasl: [{ scram: true }] }]);
    expect(cluster.encryption_info[0].encryption_in_transit[0].client_broker).toBe('TLS');
    const ingress = Object.values<any>(msk['resource'].aws_vpc_security_group_ingress_rule).map(([rule]) => [rule.from_port, rule.to_port]);
    expect(ingress).toEqual([[9096, 9096]]);
    const secret = msk['resource'].aws_secretsmanager_secret.scram[0];
    expect(secret.name).toMatch(/^AmazonMSK_/);
    expect(secret.kms_key_id).toBe('${aws_kms_key.scram.key_id}');
    expect(secret.secret_string).toBeUndefined();
    expect(msk['resource'].aws_msk_scram_secret_association.this[0]).toMatchObject({ cluster_arn: '${aws_msk_cluster.this.arn}', secret_arn_list: ['${aws_secretsmanager_secret.scram.arn}'] });
    const mskOutputs = (await parse('outputs.tf', readFileSync(join(root, 'modules', 'msk', 'outputs.tf'), 'utf8'))) as Record<string, any>;
    expect(mskOutputs['output'].bootstrap_brokers_sasl_scram[0].value).toBe('${aws_msk_cluster.this.bootstrap_brokers_sasl_scram}');
    const ecs = (await parse('main.tf', readFileSync(join(root, 'modules', 'helios-ecs', 'main.tf'), 'utf8'))) as Record<string, any>;
    // The execution role reads the SCRAM secret and decrypts with its key through Secrets Manager only.
    const statements = ecs['data'].aws_iam_policy_document.execution_secrets[0].statement;
    expect(statements[0].resources).toContain('${var.kafka_scram_secret_arn}');
    expect(statements[1]).toMatchObject({ actions: ['kms:Decrypt'], resources: ['${var.kafka_scram_kms_key_arn}'] });
    expect(statements[1].condition[0].variable).toBe('kms:ViaService');
    const stack = (await parse('main.tf', readFileSync(join(root, 'modules', 'helios-stack', 'main.tf'), 'utf8'))) as Record<string, any>;
    expect(stack['module'].helios[0]).toMatchObject({
      kafka_bootstrap_brokers: '${module.msk.bootstrap_brokers_sasl_scram}', kafka_scram_secret_arn: '${module.msk.scram_secret_arn}', kafka_scram_kms_key_arn: '${module.msk.scram_kms_key_arn}',
    });
  });

  const terraform = spawnSync('sh', ['-c', 'command -v terraform || command -v tofu'], { encoding: 'utf8' }).stdout.trim();
  it.skipIf(terraform === '')('terraform fmt -check finds nothing to reformat', () => {
    const r = spawnSync(terraform, ['fmt', '-check', '-recursive', root], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  function requiredVariables(f: Folder): string[] {
    const required: string[] = [];
    for (const file of readdirSync(f.path).filter((x) => x.endsWith('.tf'))) {
      const text = readFileSync(join(f.path, file), 'utf8');
      for (const m of text.matchAll(/variable "([\w-]+)" \{([\s\S]*?)\n\}/g)) if (!/\n\s*default\s*=/.test(m[2]!)) required.push(m[1]!);
    }
    return required;
  }
});
