import { SERIES_STATUS_PLUGIN, SERIES_STATUS_VERSION, type ServiceDetectionStatus } from '@helios/core';
import { bytesOf, storedKey } from './detector-state.js';
import type { SqlQueryable } from './sql-client.js';

export interface SeriesStatusQuery {
  /** Only this tenant's services (undefined: every tenant's). */
  tenant?: string;
  /** Only this service. */
  service?: string;
}

/** Most rows one read returns: a services page shows far fewer services than this. */
const MAX_ROWS = 10_000;

/**
 * The detection state per service that detect workers saved (detection/src/series-status.ts) in
 * helios_detector_state under SERIES_STATUS_PLUGIN, one row per (tenant, service) keyed by the service name.
 * Rows of an unknown version or unreadable JSON are skipped: a newer writer's format is not misread.
 */
export async function detectorSeriesStates(client: SqlQueryable, q: SeriesStatusQuery): Promise<ServiceDetectionStatus[]> {
  const params: unknown[] = [SERIES_STATUS_PLUGIN, SERIES_STATUS_VERSION];
  const where = ['plugin = $1', 'version = $2'];
  if (q.tenant !== undefined) where.push(`tenant = $${params.push(q.tenant)}`);
  if (q.service !== undefined) where.push(`series_key = $${params.push(storedKey(q.service))}`);
  const { rows } = await client.query<{ state: unknown }>(
    `SELECT state FROM helios_detector_state WHERE ${where.join(' AND ')} ORDER BY tenant, series_key LIMIT ${MAX_ROWS}`, params);
  const out: ServiceDetectionStatus[] = [];
  for (const r of rows) {
    try {
      out.push(JSON.parse(Buffer.from(bytesOf(r.state)).toString('utf8')) as ServiceDetectionStatus);
    } catch {
      // Unreadable: skipped (the writer rewrites it within seconds).
    }
  }
  return out;
}
