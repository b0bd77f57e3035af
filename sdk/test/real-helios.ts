import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, silentLogger } from '@helios/core';
import { createPgliteClient, createSqlStore, type SqlClient, type Store } from '@helios/store';
import { startHelios, type HeliosApp } from '@helios/cli';

export interface StoredEvent {
  id: string;
  service: string;
  level: string;
  kind: string;
  message: string;
  endpoint: string | null;
  latency_ms: number | null;
  status_code: number | null;
  error_code: string | null;
  trace_id: string | null;
  span_id: string | null;
}

/**
 * A real Helios (gateway, in-process bus, storage writer) on loopback with an in-memory PGlite store the
 * test reads with SQL. `stop()` takes the gateway down and `start()` brings it back on the same port with
 * the same store, to play an outage.
 */
export class RealHelios {
  app: HeliosApp | undefined;
  port = 0;
  private readonly dir = mkdtempSync(join(tmpdir(), 'helios-sdk-real-'));
  private constructor(private readonly sql: SqlClient, private readonly store: Store, private readonly gateway: Record<string, unknown>) {}

  static async create(gateway: Record<string, unknown> = {}): Promise<RealHelios> {
    const sql = await createPgliteClient();
    const store = createSqlStore(sql);
    await store.migrate();
    return new RealHelios(sql, store, gateway).start();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    // No detectors or reporters: these tests are about ingestion and storage.
    const config = resolveConfig({
      dataDir: this.dir,
      gateway: { host: '127.0.0.1', port: this.port, otlpPort: -1, otlpGrpcPort: -1, ...this.gateway },
      plugins: { detectors: [], reporters: [] },
    });
    this.app = await startHelios({ config, baseDir: this.dir, logger: silentLogger(), store: this.store });
    this.port = this.app.port;
    return this;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.stop();
  }

  /** Every stored event, oldest first, after what the gateway accepted has reached the store. */
  async events(): Promise<StoredEvent[]> {
    await this.app?.settle(10_000);
    const { rows } = await this.sql.query<StoredEvent>(
      'SELECT id::text AS id, service, level, kind, message, endpoint, latency_ms, status_code, error_code, trace_id, span_id FROM helios_events ORDER BY ts, id',
    );
    return rows;
  }

  /** The store as the report composer reads it: request and error counts of a service over [from, to). */
  async context(service: string, from: number, to: number): Promise<Awaited<ReturnType<Store['incidentContext']>>> {
    await this.app?.settle(10_000);
    return this.store.incidentContext({ tenant: 'default', service, from, to });
  }

  /** Every stored event of a service as HeliosEvents (sample_rate included), for feeding detection's windows. */
  async heliosEvents(service: string, from: number, to: number): Promise<import('@helios/core').HeliosEvent[]> {
    await this.app?.settle(10_000);
    const out: import('@helios/core').HeliosEvent[] = [];
    for await (const page of this.store.scanEvents({ service, from, to })) out.push(...page);
    return out;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
