import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createPgliteClient, createPostgresClient, createSqlStore, type SqlClient, type Store } from '@helios/store';

/**
 * Shared by the Kafka end-to-end suites. They run when HELIOS_KAFKA_BROKERS is set (scripts/kafka.sh
 * start); the fault suites also need HELIOS_KAFKA_SCRIPT, which they use to run a second broker of their
 * own (never the shared one, which other suites use at the same time).
 */
export const brokers = (process.env['HELIOS_KAFKA_BROKERS'] ?? '').split(',').filter((b) => b.length > 0);
export const kafkaScript = process.env['HELIOS_KAFKA_SCRIPT'];
export const pgUrl = process.env['HELIOS_PG_URL'];
export const root = resolve(import.meta.dirname, '..', '..', '..');
export const heliosBin = join(root, 'cli', 'dist', 'bin', 'helios.js');
const exec = promisify(execFile);

/** Topic and group names of one test run: every run (and suite) gets fresh ones on a shared broker. */
export const runNamespace = (suite: string) => `helios-test.${suite}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;

/** Poll until `condition` holds; the deadline only bounds a hung test, it asserts nothing about speed. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let nextNote = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (process.env['HELIOS_TEST_LOG'] && Date.now() > nextNote) {
      nextNote = Date.now() + 5000;
      console.info(`still waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface PostResult {
  status: number;
  ids: string[];
}

/** POST events; a 202 returns the ids the gateway assigned, anything else (or a refused connection) none. */
export async function postEvents(port: number, events: unknown[]): Promise<PostResult> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    const body = (await res.json()) as { ids?: string[] };
    return { status: res.status, ids: res.status === 202 ? body.ids ?? [] : [] };
  } catch {
    return { status: 0, ids: [] };
  }
}

/** A fresh, migrated store the test can also query directly: a PostgreSQL schema of its own, or PGlite in memory. */
export async function openTestStore(): Promise<{ store: Store; client: SqlClient; url: string | undefined; close(): Promise<void> }> {
  if (pgUrl === undefined) {
    const client = await createPgliteClient();
    const store = createSqlStore(client);
    await store.migrate();
    return { store, client, url: undefined, close: () => store.close() };
  }
  const schema = `helios_kafka_${randomBytes(6).toString('hex')}`;
  const admin = createPostgresClient({ connectionString: pgUrl, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const client = createPostgresClient({ connectionString: url, max: 4 });
  const store = createSqlStore(client);
  await store.migrate();
  return {
    store, client, url,
    async close() {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await admin.close();
    },
  };
}

/** Stored copies per event id, for ids in `ids`. */
export async function storedCopies(client: SqlClient, ids: readonly string[]): Promise<Map<string, number>> {
  const copies = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 5000) {
    const { rows } = await client.query<{ id: string; n: number | string }>('SELECT id::text AS id, count(*) AS n FROM helios_events WHERE id::text = ANY($1) GROUP BY id', [ids.slice(i, i + 5000)]);
    for (const r of rows) copies.set(r.id, Number(r.n));
  }
  return copies;
}

/** A broker of the test's own on another port (scripts/kafka.sh with KAFKA_PORT and a fresh state dir). */
export function ownBroker(port: number) {
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_STATE_DIR: mkdtempSync(join(tmpdir(), `helios-kafka-${port}-`)) };
  const run = (command: string) => exec('bash', [kafkaScript!, command], { env, timeout: 180_000 });
  return {
    address: `127.0.0.1:${port}`,
    start: () => run('start'),
    kill9: () => run('kill9'),
    clean: () => run('clean'),
  };
}

export interface HeliosChild {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM and wait; resolves the exit code. */
  stop(): Promise<number | null>;
}

/** `node cli/dist/bin/helios.js <args>` with a config file; resolves once it logged its ready line. */
export async function spawnHelios(args: string[], config: unknown, dir: string): Promise<HeliosChild> {
  const configPath = join(dir, `helios-${randomBytes(3).toString('hex')}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(process.execPath, [heliosBin, ...args, '--config', configPath], {
    // The config file alone decides (the test's own HELIOS_KAFKA_BROKERS may name another broker).
    env: { ...process.env, HELIOS_PORT: '', HELIOS_CONFIG: '', HELIOS_DATA_DIR: '', HELIOS_KAFKA_BROKERS: '' }, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir,
  });
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const port = await new Promise<number>((resolveReady, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const line of stderr.split('\n')) if (line.includes('ready')) {
        try {
          resolveReady((JSON.parse(line) as { port: number }).port);
        } catch {
          // not a JSON log line
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`helios ${args.join(' ')} exited early (${code}): ${stderr}`)));
  });
  return {
    child, port,
    stderr: () => stderr,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
