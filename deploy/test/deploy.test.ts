import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '@helios/core';
// @ts-expect-error plain ESM script without types
import { renderConfig } from '../render-config.mjs';

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(deployDir, '..');
const COMMANDS = ['up', 'demo', 'migrate', 'config'];
const render = renderConfig as (template: string, env: Record<string, string | undefined>) => string;

describe('deploy/ (checked statically: no Docker engine here)', () => {
  const compose = parseYaml(readFileSync(join(deployDir, 'docker-compose.yml'), 'utf8')) as { services: Record<string, any> };

  it('the compose file runs the full local stack with the ports the docs give', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'helios', 'kafka', 'postgres', 'prometheus']);
    const ports = Object.fromEntries(Object.entries(compose.services).map(([name, s]) => [name, s.ports]));
    expect(ports).toEqual({ helios: ['8080:8080', '4318:4318'], kafka: ['9092:9092'], postgres: ['5432:5432'], prometheus: ['9090:9090'], grafana: ['3000:3000'] });
  });

  it('every file the compose file mounts or builds from exists', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(resolve(deployDir, source)), `${name}: ${source}`).toBe(true);
      }
    }
    expect(existsSync(resolve(deployDir, compose.services['helios'].build.context, compose.services['helios'].build.dockerfile))).toBe(true);
  });

  it('the Helios config of the stack is valid against the config schema and matches the other services', () => {
    const config = resolveConfig(parseYaml(readFileSync(join(deployDir, 'helios.config.yaml'), 'utf8')), 'deploy/helios.config.yaml');
    expect(config.gateway.port).toBe(8080);
    expect(config.gateway.otlpPort).toBe(4318);
    const pg = compose.services['postgres'].environment;
    expect(config.store).toMatchObject({ kind: 'postgres', url: `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}` });
    const prometheusTargets = (parseYaml(readFileSync(join(repoRoot, 'dashboards', 'prometheus', 'prometheus.yml'), 'utf8')) as any).scrape_configs[0].static_configs[0].targets;
    expect(prometheusTargets).toEqual([`helios:${config.gateway.port}`]);
    const grafana = compose.services['grafana'].environment;
    expect([grafana.HELIOS_GRAFANA_PG_USER, grafana.HELIOS_GRAFANA_PG_PASSWORD]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_PASSWORD]);
  });

  it('the Kubernetes manifests parse, run a helios command that exists, and their config renders to a valid one', () => {
    const docs = parseAllDocuments(readFileSync(join(deployDir, 'k8s', 'helios.yaml'), 'utf8')).map((d) => d.toJSON() as any);
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
    const container = docs[2].spec.template.spec.containers[0];
    expect(COMMANDS).toContain(container.args[0]);
    const rendered = render(docs[1].data.HELIOS_CONFIG_YAML, { HELIOS_STORE_URL: 'postgres://u:p@db:5432/helios' });
    expect(resolveConfig(parseYaml(rendered)).store.url).toBe('postgres://u:p@db:5432/helios');
  });

  it('compose and the Dockerfile run helios commands that exist', () => {
    expect(COMMANDS).toContain(compose.services['helios'].command[0]);
    const dockerfile = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^CMD \["up"\]$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/app\/deploy\/docker-entrypoint.sh"\]$/m);
    const cli = readFileSync(join(repoRoot, 'cli', 'src', 'commands', 'index.ts'), 'utf8');
    for (const c of COMMANDS) expect(cli).toMatch(new RegExp(`\\b${c}\\b`));
  });

  it('the ECS config of each environment renders (secrets URL-encoded) to a valid Helios config', () => {
    for (const env of ['dev', 'prod']) {
      const template = readFileSync(join(repoRoot, 'terraform', 'environments', env, 'helios.config.yaml'), 'utf8');
      const rendered = render(template, {
        HELIOS_API_KEYS: '[{"key":"k3y-0123456789","tenant":"acme"}]', HELIOS_PG_USER: 'helios', HELIOS_PG_PASSWORD: 'p@ss:w/rd#1',
        HELIOS_PG_HOST: 'db.internal', HELIOS_PG_DATABASE: 'helios',
      });
      const config = resolveConfig(parseYaml(rendered), `terraform/environments/${env}/helios.config.yaml`);
      expect(config.store.url).toBe('postgres://helios:p%40ss%3Aw%2Frd%231@db.internal:5432/helios?sslmode=require');
      expect(config.gateway.auth.keys).toEqual([{ key: 'k3y-0123456789', tenant: 'acme' }]);
    }
    expect(() => render('url: ${HELIOS_PG_HOST}', {})).toThrow(/not set: HELIOS_PG_HOST/);
  });
});
