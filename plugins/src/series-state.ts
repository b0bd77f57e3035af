import type { DetectorStateStore } from '@helios/store';

/** One series' saved state as a plugin reads it back. */
export interface SeriesState<T = unknown> {
  /** The plugin's format version it was written with. */
  version: number;
  /** When it was written (epoch ms, the writer's clock). */
  updatedAt: number;
  /** What was put: a JSON value, or the bytes when a Uint8Array was put. */
  value: T;
}

export interface SeriesStatePut {
  tenant: string;
  /** `seriesKey(window)` (or any key of the plugin's own); one state per (plugin, tenant, key). */
  seriesKey: string;
  /** The plugin's format version: a reader that does not know it starts the series over. */
  version: number;
  /** Any JSON value, or a Uint8Array kept as bytes. */
  value: unknown;
}

/**
 * Versioned state per series, shared by every detect worker (plugin API 1.4): what a worker saved, the
 * worker that takes the series over (a partition reassigned, a restart on an empty disk) reads. Backed
 * by the store's helios_detector_state table, so it holds on PGlite and PostgreSQL alike; the newest
 * snapshot of a series wins (an older one put later is not written).
 */
export interface PluginStateStore {
  get<T = unknown>(tenant: string, seriesKey: string): Promise<SeriesState<T> | undefined>;
  /** Write snapshots taken at the host's `now()`. Returns how many were written (older ones are not). */
  put(states: readonly SeriesStatePut[]): Promise<number>;
}

// A one-byte tag in front of the bytes: JSON text or the plugin's own binary.
const JSON_TAG = 0x6a; // 'j'
const BYTES_TAG = 0x62; // 'b'

function encode(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    const out = new Uint8Array(value.byteLength + 1);
    out[0] = BYTES_TAG;
    out.set(value, 1);
    return out;
  }
  const text = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  const out = new Uint8Array(text.byteLength + 1);
  out[0] = JSON_TAG;
  out.set(text, 1);
  return out;
}

function decode(bytes: Uint8Array): unknown {
  const body = bytes.subarray(1);
  if (bytes[0] === BYTES_TAG) return new Uint8Array(body);
  if (bytes[0] === JSON_TAG) return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  throw new Error(`saved state has an unknown encoding tag ${String(bytes[0])}`);
}

/** A plugin's state store over the store's table, rows under the plugin's name. */
export function createPluginStateStore(backend: DetectorStateStore, plugin: string, now: () => number): PluginStateStore {
  return {
    async get<T>(tenant: string, seriesKey: string) {
      const saved = await backend.getDetectorState(plugin, tenant, seriesKey);
      return saved === undefined ? undefined : { version: saved.version, updatedAt: saved.updatedAt, value: decode(saved.state) as T };
    },
    put(states) {
      const at = now();
      return backend.putDetectorStates(plugin, states.map((s) => ({ tenant: s.tenant, seriesKey: s.seriesKey, version: s.version, updatedAt: at, state: encode(s.value) })));
    },
  };
}

/**
 * State kept in this process only: for hosts without a shared store (`helios train`, plugin unit tests).
 * Same semantics as the store's table, so a plugin cannot tell them apart.
 */
export function createMemoryDetectorState(): DetectorStateStore {
  const rows = new Map<string, { version: number; updatedAt: number; state: Uint8Array }>();
  return {
    async getDetectorState(plugin, tenant, seriesKey) {
      const row = rows.get(JSON.stringify([plugin, tenant, seriesKey]));
      return row === undefined ? undefined : { ...row, state: row.state.slice() };
    },
    async putDetectorStates(plugin, states) {
      let written = 0;
      for (const s of states) {
        const id = JSON.stringify([plugin, s.tenant, s.seriesKey]);
        if ((rows.get(id)?.updatedAt ?? -Infinity) > s.updatedAt) continue;
        rows.set(id, { version: s.version, updatedAt: s.updatedAt, state: s.state.slice() });
        written++;
      }
      return written;
    },
  };
}
