import type { SqlClient } from './sql-client.js';

/**
 * One series' saved detector state: what a detect worker needs to go on judging a series another worker
 * (or its own previous life) judged before. `version` is the writer's format version: a reader that does
 * not know it starts the series over instead of misreading it.
 */
export interface SavedDetectorState {
  version: number;
  /** When the writer took the snapshot (epoch ms, the writer's clock). */
  updatedAt: number;
  /** JSON text or any binary the writer chose; the store keeps the bytes. */
  state: Uint8Array;
}

export interface DetectorStateWrite {
  tenant: string;
  seriesKey: string;
  version: number;
  updatedAt: number;
  state: Uint8Array;
}

/**
 * Detector state per (plugin, tenant, series key) in helios_detector_state (migration 9): the source of
 * truth for models, baselines and open incidents, so a worker taking over a partition, or a restarted
 * one on an empty disk, goes on where the last owner left off.
 */
export interface DetectorStateStore {
  getDetectorState(plugin: string, tenant: string, seriesKey: string): Promise<SavedDetectorState | undefined>;
  /**
   * Upsert snapshots. A snapshot older (`updatedAt`) than the stored one is not written: a worker that lost
   * its partitions but has not noticed yet cannot overwrite its successor's newer state. Returns how many
   * rows were written.
   */
  putDetectorStates(plugin: string, states: readonly DetectorStateWrite[]): Promise<number>;
}

export function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  // node-postgres returns Buffer (a Uint8Array); anything else is a hex string '\x...'.
  const text = String(value);
  return Buffer.from(text.startsWith('\\x') ? text.slice(2) : text, 'hex');
}

/**
 * Series keys join tenant, service and metric with NUL (core's seriesKey), which a text column cannot
 * hold: backslash and NUL are escaped, one to one, so distinct keys stay distinct.
 */
export function storedKey(seriesKey: string): string {
  return seriesKey.replace(/\\/g, '\\\\').replace(/\u0000/g, '\\0');
}

export function createDetectorStateStore(client: SqlClient): DetectorStateStore {
  return {
    async getDetectorState(plugin, tenant, seriesKey) {
      const { rows } = await client.query<{ version: number; updated_at: Date | string; state: unknown }>(
        'SELECT version, updated_at, state FROM helios_detector_state WHERE plugin = $1 AND tenant = $2 AND series_key = $3', [plugin, tenant, storedKey(seriesKey)]);
      const r = rows[0];
      if (r === undefined) return undefined;
      return { version: Number(r.version), updatedAt: new Date(r.updated_at).getTime(), state: bytesOf(r.state) };
    },
    async putDetectorStates(plugin, states) {
      let written = 0;
      // One statement per row: a model can be megabytes, and parameters keep bytes as bytes on both clients.
      for (const s of states) {
        const { rows } = await client.query<{ n: number }>(
          `INSERT INTO helios_detector_state (plugin, tenant, series_key, version, updated_at, state)
           VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), $6)
           ON CONFLICT (plugin, tenant, series_key) DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, state = EXCLUDED.state
            WHERE helios_detector_state.updated_at <= EXCLUDED.updated_at
           RETURNING 1 AS n`,
          [plugin, s.tenant, storedKey(s.seriesKey), s.version, s.updatedAt, Buffer.from(s.state.buffer, s.state.byteOffset, s.state.byteLength)]);
        written += rows.length;
      }
      return written;
    },
  };
}
