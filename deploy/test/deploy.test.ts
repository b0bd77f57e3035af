import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { loadConfig, type HeliosConfig } from '@helios/core';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { HELIOS_ROLES, type HeliosRole } from '../../cli/src/app.js';
import { COMMANDS as COMMAND_TABLE, loadCommand } from '../../cli/src/commands/index.js';
import { COMMON_OPTIONS } from '../../cli/src/commands/command.js';
// @ts-expect-error plain ESM script without types
import { renderConfig } from '../render-config.mjs';

/** Every command with its options (the table in commands/index.ts loads each module lazily). */
const COMMANDS = await Promise.all(COMMAND_TABLE.map(loadCommand));

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(deployDir, '..');
const render = renderConfig as (template: string, env: Record<string, string | undefined>) => string;
/** Consumer group of each worker role (the names Helios always uses, see bus.kafka.clientId in the config reference). */
const GROUPS: Record<Exclude<HeliosRole, 'gateway'>, string> = { storage: 'helios-storage', detect: 'helios-detect', report: 'helios-report' };

/**
 * Check one `helios …` invocation against the CLI: the command exists, every flag is a common one or
 * one of its own options, and `--role` values are among those its role option lists. Returns the roles it runs.
 */
function rolesOf(argv: readonly string[], where: string): HeliosRole[] {
  const command = COMMANDS.find((c) => c.name === argv[0]);
  expect(command, `${where}: helios ${argv.join(' ')}: no such command`).toBeDefined();
  const roles: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const flag = arg.split('=')[0]!;
    const name = flag.slice(2);
    expect(name in COMMON_OPTIONS || name in (command!.options ?? {}), `${where}: helios ${command!.name} has no flag ${flag}`).toBe(true);
    if (flag === '--role') roles.push(...(arg.includes('=') ? arg.slice('--role='.length) : argv[++i] ?? '').split(','));
  }
  if (roles.length === 0) return command!.name === 'up' ? [...HELIOS_ROLES] : command!.name === 'worker' ? ['storage', 'detect', 'report'] : [];
  // The role flag's value text lists the roles the command takes, e.g. `<storage|detect|report|all>`.
  const allowed = /^<([a-z|]+)>$/.exec(command!.options?.['role']?.value ?? '')?.[1]?.split('|') ?? [];
  for (const role of roles) expect(allowed, `${where}: helios ${command!.name} --role ${role}`).toContain(role);
  return roles.flatMap((r) => (r === 'all' ? (command!.name === 'up' ? [...HELIOS_ROLES] : ['storage', 'detect', 'report']) : [r])) as HeliosRole[];
}

/** Every role runs in exactly one of the given invocations (a split deployment covers the pipeline once). */
function expectEveryRoleOnce(invocations: Array<{ where: string; argv: readonly string[] }>): void {
  const roles = invocations.flatMap(({ where, argv }) => rolesOf(argv, where));
  expect([...roles].sort()).toEqual([...HELIOS_ROLES].sort());
}

/** Render a config template with an environment, write it and load it as the container would (file + env layering). */
function loadRendered(template: string, env: Record<string, string>, name: string): HeliosConfig {
  const dir = mkdtempSync(join(tmpdir(), 'helios-deploy-'));
  try {
    writeFileSync(join(dir, 'helios.config.yaml'), render(template, env));
    return loadConfig({ configPath: join(dir, 'helios.config.yaml'), env, cwd: dir }).config;
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('deploy/ (checked statically: no Docker engine here)', () => {
  // Compose files use YAML merge keys (<<: *helios).
  const compose = parseYaml(readFileSync(join(deployDir, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };
  const heliosServices = Object.entries(compose.services).filter(([, s]) => s.image === 'helios:local');
  const stackConfig = loadConfig({ configPath: join(deployDir, 'helios.config.yaml'), env: {}, cwd: deployDir }).config;

  it('the compose file runs the full local stack, Helios split into a gateway and one service per worker role', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['detect', 'gateway', 'grafana', 'kafka', 'postgres', 'prometheus', 'report', 'storage']);
    expect(heliosServices.map(([name]) => name).sort()).toEqual(['detect', 'gateway', 'report', 'storage']);
    const ports = Object.fromEntries(Object.entries(compose.services).filter(([, s]) => s.ports !== undefined).map(([name, s]) => [name, s.ports]));
    expect(ports).toEqual({ gateway: ['8080:8080', '4318:4318'], kafka: ['9092:9092'], postgres: ['5432:5432'], prometheus: ['9090:9090'], grafana: ['3000:3000'] });
    expectEveryRoleOnce(heliosServices.map(([name, s]) => ({ where: `docker-compose.yml ${name}`, argv: s.command })));
    for (const [name, s] of heliosServices) {
      // The service name is the role (Prometheus labels targets with it).
      expect(rolesOf(s.command, name)).toEqual([name]);
      expect(s.environment.HELIOS_CONFIG, name).toBe('/etc/helios/helios.config.yaml');
      expect(s.volumes, name).toContain('./helios.config.yaml:/etc/helios/helios.config.yaml:ro');
      expect(Object.keys(s.depends_on).sort(), name).toEqual(['kafka', 'postgres']);
    }
  });

  it('every file the compose file mounts or builds from exists, every named volume is declared', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(resolve(deployDir, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: volume ${source}`).toContain(source);
      }
      if (service.build !== undefined) expect(existsSync(resolve(deployDir, service.build.context, service.build.dockerfile)), name).toBe(true);
    }
  });

  it('the Helios config of the stack is valid and points at the stack Kafka (plaintext), PostgreSQL, Prometheus and Grafana', () => {
    const config = stackConfig;
    expect(config.gateway.port).toBe(8080);
    expect(config.gateway.otlpPort).toBe(4318);
    const pg = compose.services['postgres'].environment;
    expect(config.store).toMatchObject({ kind: 'postgres', url: `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}` });
    const kafka = compose.services['kafka'].environment;
    expect(config.bus.kind).toBe('kafka');
    expect(config.bus.kafka.brokers).toEqual([kafka.KAFKA_ADVERTISED_LISTENERS.replace(/^PLAINTEXT:\/\//, '')]);
    expect(kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toContain('PLAINTEXT:PLAINTEXT');
    expect(config.bus.kafka.ssl.enabled).toBe(false);
    expect(config.bus.kafka.sasl.mechanism).toBe('none');
    // One broker: no topic may ask for more replicas than that, and the broker creates none itself.
    expect(kafka.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    for (const [topic, spec] of Object.entries(config.bus.kafka.topics)) expect(spec.replicationFactor, topic).toBe(1);
    const grafana = compose.services['grafana'].environment;
    expect([grafana.HELIOS_GRAFANA_PG_USER, grafana.HELIOS_GRAFANA_PG_PASSWORD]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_PASSWORD]);
  });

  it('Prometheus scrapes the gateway and every worker service and loads the alert rules', () => {
    const prometheus = compose.services['prometheus'];
    expect(prometheus.volumes).toContain('./prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(prometheus.volumes).toContain('../dashboards/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    const config = parseYaml(readFileSync(join(deployDir, 'prometheus.yml'), 'utf8')) as any;
    expect(config.rule_files).toEqual(['alerts.yml']);
    const sd = config.scrape_configs[0].dns_sd_configs[0];
    expect([...sd.names].sort()).toEqual(heliosServices.map(([name]) => name).sort());
    expect(sd.port).toBe(stackConfig.gateway.port);
    expect(config.scrape_configs[0].metrics_path).toBe('/metrics');
  });

  describe('Kubernetes manifests', () => {
    const docs = parseAllDocuments(readFileSync(join(deployDir, 'k8s', 'helios.yaml'), 'utf8')).map((d) => d.toJSON() as any);
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    const configMap = docs.find((d) => d.kind === 'ConfigMap');

    it('run a gateway Deployment and one Deployment per worker role, every role once, with commands the CLI has', () => {
      expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
        'Namespace/helios', 'ConfigMap/helios-config',
        'Deployment/gateway', 'Service/helios', 'HorizontalPodAutoscaler/gateway', 'PodDisruptionBudget/gateway',
        'Deployment/storage', 'HorizontalPodAutoscaler/storage',
        'Deployment/detect', 'HorizontalPodAutoscaler/detect',
        'Deployment/report', 'HorizontalPodAutoscaler/report',
      ]);
      expectEveryRoleOnce(deployments.map((d) => ({ where: `k8s Deployment ${d.metadata.name}`, argv: d.spec.template.spec.containers[0].args })));
      for (const d of deployments) {
        expect(rolesOf(d.spec.template.spec.containers[0].args, d.metadata.name)).toEqual([d.metadata.name]);
        expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      }
      const service = docs.find((d) => d.kind === 'Service');
      expect(service.spec.selector).toEqual(deployments.find((d) => d.metadata.name === 'gateway').spec.template.metadata.labels);
    });

    it('autoscale every Deployment, workers also on their consumer group lag, never past their topic partitions', () => {
      const hpas = docs.filter((d) => d.kind === 'HorizontalPodAutoscaler');
      for (const d of deployments) {
        const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
        expect(hpa, d.metadata.name).toBeDefined();
        const kinds = hpa.spec.metrics.map((m: any) => m.type);
        if (d.metadata.name === 'gateway') expect(kinds).toEqual(['Resource']);
        else {
          const role = d.metadata.name as keyof typeof GROUPS;
          expect(kinds).toEqual(['Resource', 'External']);
          expect(hpa.spec.metrics[1].external.metric.selector.matchLabels.group).toBe(GROUPS[role]);
          const topic = role === 'report' ? 'helios.anomalies' : 'helios.events';
          expect(hpa.spec.maxReplicas, role).toBeLessThanOrEqual(stackConfig.bus.kafka.topics[topic]!.partitions);
        }
      }
    });

    it('every pod gets the environment its config needs, and the config renders to a valid Kafka one', () => {
      const env = { HELIOS_STORE_URL: 'postgres://u:p@db:5432/helios', HELIOS_KAFKA_BROKERS: 'kafka-0:9093,kafka-1:9093', HELIOS_KAFKA_SASL_USERNAME: 'helios', HELIOS_KAFKA_SASL_PASSWORD: 's3cret' };
      for (const d of deployments) {
        const names = d.spec.template.spec.containers[0].env.map((e: any) => e.name).sort();
        expect(names, d.metadata.name).toEqual(['HELIOS_CONFIG_YAML', ...Object.keys(env)].sort());
      }
      const config = loadRendered(configMap.data.HELIOS_CONFIG_YAML, env, 'k8s ConfigMap helios-config');
      expect(config.store.url).toBe(env.HELIOS_STORE_URL);
      expect(config.bus).toMatchObject({ kind: 'kafka', kafka: { brokers: ['kafka-0:9093', 'kafka-1:9093'], ssl: { enabled: true }, sasl: { mechanism: 'scram-sha-512', username: 'helios', password: 's3cret' } } });
    });
  });

  it('the Dockerfile runs a helios command that exists through the entrypoint', () => {
    const dockerfile = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd).not.toBeNull();
    expect(rolesOf(JSON.parse(cmd![1]!), 'Dockerfile CMD')).toEqual([...HELIOS_ROLES]);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/app\/deploy\/docker-entrypoint.sh"\]$/m);
  });

  it("the Dockerfile's base loads the uWebSockets.js binary of its Node: the binary exists for that ABI and the distribution's glibc is new enough", () => {
    const dockerfile = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(bases.length).toBe(2);
    // Build and run stages on the same image: node_modules built in one must load in the other.
    expect(new Set(bases).size).toBe(1);
    const tag = /^node:(\d+)-(\w+)-slim$/.exec(bases[0]!);
    expect(tag, `base ${bases[0]}: expected node:<major>-<debian release>-slim (glibc; alpine's musl does not load uWS)`).not.toBeNull();
    const major = Number(tag![1]);
    // Node's module ABI per release line (process.versions.modules), which names uWS's binary.
    const ABI: Record<number, string> = { 20: '115', 22: '127', 24: '137' };
    // glibc of each Debian release the official node images are built on.
    const GLIBC: Record<string, number> = { bullseye: 2.31, bookworm: 2.36, trixie: 2.41 };
    expect(ABI[major], `Node ${major} is not a supported line (20, 22, 24)`).toBeDefined();
    expect(GLIBC[tag![2]!], `unknown Debian release ${tag![2]}`).toBeDefined();
    // Where the official Node builds of the test matrix are installed, the table must agree with them.
    for (const [line, abi] of Object.entries(ABI)) {
      const node = join(repoRoot, 'node_modules', `node${line}`, 'bin', 'node');
      if (existsSync(node)) expect(execFileSync(node, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim()).toBe(abi);
    }
    const binary = join(repoRoot, 'node_modules', 'uWebSockets.js', `uws_linux_x64_${ABI[major]}.node`);
    expect(existsSync(binary), `${binary} missing: this uWebSockets.js has no build for Node ${major}`).toBe(true);
    // The newest glibc symbol version the binary asks for (what the dynamic loader checks).
    const needed = Math.max(...[...readFileSync(binary).toString('latin1').matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(`2.${m[1]!.padStart(2, '0')}`)));
    expect(needed, `uws_linux_x64_${ABI[major]}.node needs glibc ${needed}, ${tag![2]} has ${GLIBC[tag![2]!]}`).toBeLessThanOrEqual(GLIBC[tag![2]!]!);
    // The image fails its build rather than fall back to node:http, and ships no test-matrix Node builds.
    expect(dockerfile).toMatch(/^RUN node -e "require\('\/app\/node_modules\/uWebSockets\.js'\)/m);
    expect(dockerfile).toMatch(/rm -rf node_modules\/node22 node_modules\/node24/);
  });

  describe('ECS (terraform/modules/helios-ecs) with each environment config', () => {
    let roles: Record<string, { command: string[]; consumer_group: string | null; topic: string | null }>;
    /** Environment and secret names each role's task definition gives its container. */
    const envNames: Record<string, string[]> = {};
    beforeAll(async () => {
      const text = readFileSync(join(repoRoot, 'terraform', 'modules', 'helios-ecs', 'main.tf'), 'utf8');
      const hcl = (await parseHcl('main.tf', text)) as any;
      roles = hcl.locals[0].roles;
      const container: string = hcl.resource.aws_ecs_task_definition.role[0].container_definitions;
      const always = [...container.replace(/each\.key == "\w+" \? \[[^\]]*\]/g, '').matchAll(/\{ name = "(\w+)", value(?:From)? = /g)].map((m) => m[1]!);
      for (const role of Object.keys(roles)) {
        const only = [...container.matchAll(/each\.key == "(\w+)" \? \[\{ name = "(\w+)"/g)].filter((m) => m[1] === role).map((m) => m[2]!);
        envNames[role] = [...always, ...only];
      }
    });

    it('runs every role once with commands the CLI has; the lag policies watch the groups Helios uses', () => {
      expect(Object.keys(roles).sort()).toEqual([...HELIOS_ROLES].sort());
      expectEveryRoleOnce(Object.entries(roles).map(([name, r]) => ({ where: `ECS ${name}`, argv: r.command })));
      for (const [name, r] of Object.entries(roles)) {
        expect(rolesOf(r.command, name)).toEqual([name]);
        expect(r.consumer_group).toBe(name === 'gateway' ? null : GROUPS[name as keyof typeof GROUPS]);
      }
    });

    it('gives every task the Kafka brokers and SCRAM credentials; the API keys to the gateway only', () => {
      for (const [role, names] of Object.entries(envNames)) {
        expect(names, role).toEqual(expect.arrayContaining(['HELIOS_CONFIG_YAML', 'HELIOS_KAFKA_BROKERS', 'HELIOS_KAFKA_SASL_USERNAME', 'HELIOS_KAFKA_SASL_PASSWORD']));
        expect(names.includes('HELIOS_API_KEYS'), role).toBe(role === 'gateway');
      }
    });

    const values: Record<string, string> = {
      HELIOS_CONFIG_YAML: '', HELIOS_PORT: '8080', AWS_REGION: 'eu-west-1', HELIOS_REPORTS_BUCKET: 'helios-reports',
      HELIOS_KAFKA_BROKERS: 'b-1.helios.kafka.eu-west-1.amazonaws.com:9096,b-2.helios.kafka.eu-west-1.amazonaws.com:9096',
      HELIOS_KAFKA_SASL_USERNAME: 'helios', HELIOS_KAFKA_SASL_PASSWORD: 'scr@m:p/w',
      HELIOS_API_KEYS: '[{"key":"k3y-0123456789","tenant":"acme"}]', HELIOS_PG_USER: 'helios', HELIOS_PG_PASSWORD: 'p@ss:w/rd#1',
      HELIOS_PG_HOST: 'db.internal', HELIOS_PG_DATABASE: 'helios', HELIOS_LLM_API_KEY: 'sk-test',
    };

    for (const environment of ['dev', 'prod']) {
      it(`${environment}: every role renders its config from exactly its task environment to a valid Kafka (TLS, SCRAM-SHA-512) config`, () => {
        const template = readFileSync(join(repoRoot, 'terraform', 'environments', environment, 'helios.config.yaml'), 'utf8');
        for (const [role, names] of Object.entries(envNames)) {
          const env = Object.fromEntries(names.map((n) => [n, values[n]!]));
          expect(Object.values(env), `${role}: a test value for every variable`).not.toContain(undefined);
          const config = loadRendered(template, env, `terraform/environments/${environment}/helios.config.yaml (${role})`);
          expect(config.store.url).toBe('postgres://helios:p%40ss%3Aw%2Frd%231@db.internal:5432/helios?sslmode=require');
          expect(config.bus).toMatchObject({
            kind: 'kafka',
            kafka: { brokers: values['HELIOS_KAFKA_BROKERS']!.split(','), namespace: '', ssl: { enabled: true, rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'helios', password: 'scr@m:p/w' } },
          });
          expect(config.gateway.auth.enabled).toBe(true);
          expect(config.gateway.auth.keys).toEqual(role === 'gateway' ? [{ key: 'k3y-0123456789', tenant: 'acme' }] : []);
        }
      });
    }
  });

  describe('render-config.mjs', () => {
    it('fills variables, URL-encodes on request, uses a fallback only when the variable is unset, refuses holes', () => {
      expect(render('a: ${A}\nb: ${urlencode:B}\nc: ${C:-[]}\nd: ${D:-x}', { A: '1', B: 'p@ss', D: '' })).toBe('a: 1\nb: p%40ss\nc: []\nd: ');
      expect(() => render('url: ${HELIOS_PG_HOST}', {})).toThrow(/not set: HELIOS_PG_HOST/);
    });
  });

});
