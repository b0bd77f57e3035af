import type { SqlClient } from '@helios/store';

const DAY = 86_400_000;

export interface FillOptions {
  rows: number;
  /** The 7 days of events end here (epoch ms). */
  now: number;
  /** Services svc-0 .. svc-(services-1), tenants tenant-0 .. tenant-9. */
  services: number;
  /** SQL expression of the message of the 1-in-50 error events, over the series value `g`. */
  errorMessageSql?: string;
  /** Rows per INSERT statement. */
  chunk?: number;
  log?: (line: string) => void;
}

/**
 * Fill helios_events with synthetic events over 7 days, generated inside the database
 * (generate_series), so millions of rows take seconds, not minutes. Every 50th event is an error.
 */
export async function fillEvents(client: SqlClient, options: FillOptions): Promise<void> {
  const { rows, now, services } = options;
  const chunk = options.chunk ?? 1_000_000;
  const start = now - 7 * DAY;
  const errorMessage = options.errorMessageSql ?? `'upstream timeout ' || (g % 7)`;
  for (let from = 0; from < rows; from += chunk) {
    const to = Math.min(rows, from + chunk);
    await client.query(
      `INSERT INTO helios_events (id, ts, tenant, service, level, kind, message, endpoint, latency_ms, status_code, error_code, trace_id, span_id, attributes, resource)
       SELECT gen_random_uuid(), to_timestamp(($1::bigint + g::bigint * $2::bigint / $3::bigint) / 1000.0),
              'tenant-' || (g % 10), 'svc-' || (g % ${services}),
              CASE WHEN g % 50 = 0 THEN 'ERROR' ELSE 'INFO' END, 'log',
              CASE WHEN g % 50 = 0 THEN ${errorMessage} ELSE 'ok' END,
              '/api/e' || (g % 30), ((g * 7919) % 1000)::double precision,
              CASE WHEN g % 50 = 0 THEN 503 ELSE 200 END,
              CASE WHEN g % 50 = 0 THEN 'E' || (g % 7) END,
              md5(g::text), NULL, '{"http.method":"GET"}'::jsonb, '{"service.version":"1.4.2"}'::jsonb
         FROM generate_series($4::bigint, $5::bigint - 1) AS g`,
      [start, 7 * DAY, rows, from, to],
    );
    options.log?.(`filled ${to.toLocaleString('en')} / ${rows.toLocaleString('en')} rows`);
  }
  await client.exec('ANALYZE helios_events');
}
