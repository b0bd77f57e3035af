import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { HeliosError } from './errors.js';
import { compileValidator } from './event/validate.js';
import { compileRedactionPatterns } from './redaction.js';

/**
 * The one Helios configuration object. Every key has a documented default here; the reference in the
 * README is generated from these descriptions (`helios config --reference`), so they cannot drift.
 * Layers, strongest first: command-line flag, environment variable, config file, default.
 */
const PluginSpecSchema = Type.Object(
  {
    use: Type.String({ minLength: 1, description: 'npm package name, or a path (relative to the config file) to a module exporting a plugin.' }),
    options: Type.Optional(Type.Unknown({ description: "The plugin's own options, validated against its config schema." })),
  },
  { additionalProperties: false },
);
export type PluginSpec = Static<typeof PluginSpecSchema>;

export const HeliosConfigSchema = Type.Object(
  {
    dataDir: Type.String({ default: './.helios', description: 'Where embedded state lives (PGlite database, reports). Env HELIOS_DATA_DIR, flag --data-dir.' }),
    log: Type.Object(
      {
        level: Type.Union(['trace', 'debug', 'info', 'warn', 'error', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'Log level of the logs on stderr.' }),
        format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], { default: 'auto', description: 'Log lines on stderr: json (one JSON object a line), pretty (human-readable), or auto (pretty when stderr is a terminal, JSON otherwise). Env HELIOS_LOG_FORMAT.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    gateway: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0', description: 'Interface the HTTP gateway binds.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port (0 picks a free one). Env HELIOS_PORT, flag --port.' }),
        maxBodyBytes: Type.Integer({ minimum: 1024, default: 5 * 1024 * 1024, description: 'Largest accepted request body, bytes (413 beyond).' }),
        maxEventsPerRequest: Type.Integer({ minimum: 1, default: 1_000_000, description: 'Most events (OTLP records) in one request (413 beyond). Requests are bounded by bytes first (maxBodyBytes, maxInflatedBytes); this count is set far above what exporters batch (the Collector batch processor does not split its 8192-record default batches, and larger sends are common), so it only stops a body packed with empty records.' }),
        transport: Type.Union([Type.Literal('auto'), Type.Literal('uws'), Type.Literal('node')], { default: 'auto', description: 'HTTP server: uWebSockets.js, node:http, or auto (uWS when its binary loads).' }),
        threads: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: 'Gateway threads taking HTTP on the ports (0: one per core) with the in-process bus (`bus.kind: memory`). They parse, validate and answer; the bus, storage writer, detection and reporting run on the main thread, which the threads hand the request bytes to (embedded PGlite runs on a thread of its own). With Kafka (`bus.kind: kafka`) and more than one thread each thread produces on a Kafka connection of its own behind a spool folder of its own (`thread-<n>` inside the spool folder; a 2xx is still the broker\'s ack or the spool\'s fsync), and the main thread keeps the consumers; with one, the gateway runs on the main thread. Several threads share the port among themselves only: a port another process listens on is still refused, and a second Helios cannot join. With a custom clock (tests) or the node:http transport the gateway runs on the main thread.' }),
        reusePort: Type.Boolean({ default: false, description: 'Let several processes listen on the same port (SO_REUSEPORT; the kernel splits connections between them). Off: a port already in use is refused with HLS_ERR_PORT_IN_USE, so a second Helios cannot silently take half the traffic into its own store.' }),
        otlpPort: Type.Integer({ minimum: -1, maximum: 65535, default: 4318, description: 'Second port serving the same API, so OTLP/HTTP exporters work with their default endpoint (-1: off, 0: any free port). Env HELIOS_OTLP_PORT, flag --otlp-port.' }),
        otlpGrpcPort: Type.Integer({ minimum: -1, maximum: 65535, default: 4317, description: 'OTLP/gRPC port (traces, logs, metrics; the default of most OTLP exporters, the Collector and telemetrygen). Same auth, limits (maxBodyBytes on the wire, maxInflatedBytes inflated, maxInFlightBodyBytes), compression (gzip, deflate, zstd, snappy) and translation as OTLP/HTTP (-1: off, 0: any free port). Env HELIOS_OTLP_GRPC_PORT, flag --otlp-grpc-port.' }),
        maxInflatedBytes: Type.Integer({ minimum: 1024, default: 50 * 1024 * 1024, description: 'Largest body after gzip/deflate decoding (decompression-bomb guard; 413 beyond).' }),
        maxInFlightBodyBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024, description: 'Memory budget for the bodies of all requests in flight together: raw bytes counted as they arrive (before a body is complete) plus decoded bytes of gzip/deflate bodies, whatever the encoding. A request that would pass it gets 503 with Retry-After. The old name `maxInflatingBytes` is accepted as an alias.' }),
        retryAfterSeconds: Type.Integer({ minimum: 1, default: 1, description: 'Retry-After sent with 429/503 when the bus is full or unavailable.' }),
        readApi: Type.Object(
          {
            maxRangeHours: Type.Integer({ minimum: 1, maximum: 24 * 366, default: 168, description: 'Widest time range of an event search or a service series (GET /api/v1/events, /api/v1/services/{service}/series), hours; wider is a 400 naming `from`.' }),
            maxTails: Type.Integer({ minimum: 0, default: 64, description: 'Most live tails (GET /api/v1/events/tail) open at once; one more gets 503 with Retry-After. Each polls the store once per tailPollMs.' }),
            tailPollMs: Type.Integer({ minimum: 100, default: 1000, description: 'How often a live tail reads the store for new events, ms.' }),
            tailDelayMs: Type.Integer({ minimum: 0, default: 2000, description: 'A live tail shows events once their timestamp is this old, ms, so writes still committing are not skipped; an event stored later than that after its own timestamp is found by search, not the tail.' }),
            tailStallMs: Type.Integer({ minimum: 1000, default: 10_000, description: 'A live tail whose client takes no data for this long is ended with a final `dropped` event (its queue is bounded to one page).' }),
          },
          { default: {}, additionalProperties: false },
        ),
        auth: Type.Object(
          {
            enabled: Type.Boolean({ default: false, description: 'Require an API key (Authorization: Bearer <key> or x-api-key) on ingestion and API routes.' }),
            keys: Type.Array(Type.Object({
              key: Type.String({ minLength: 8 }), tenant: Type.String({ minLength: 1 }),
              // Who acknowledged or resolved an incident through the API; unnamed keys are named by a fingerprint.
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            }, { additionalProperties: false }), {
              default: [], description: 'API keys and the tenant each one stamps on its events; an optional `name` per key is recorded as who acknowledged, resolved, rated or silenced through the incident API (unnamed: api-key:<fingerprint>).',
            }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    metrics: Type.Object(
      {
        auth: Type.Union([Type.Literal('auto'), Type.Literal('key'), Type.Literal('none')], {
          default: 'auto',
          description: '/metrics (gateway and worker processes) lists every tenant\'s service names: `key` requires one of metrics.keys as "Authorization: Bearer <key>" (tenant API keys are not accepted), `none` serves it to anyone, `auto` means `key` when gateway.auth.enabled and `none` otherwise.',
        }),
        keys: Type.Array(Type.String({ minLength: 8 }), { default: [], description: 'Bearer keys allowed to read /metrics when it requires a key (give one to your Prometheus scraper).' }),
        maxServicesPerTenant: Type.Integer({ minimum: 1, default: 1000, description: 'Most distinct service labels per tenant in metrics labelled by service; events of further services count under service="__overflow__" and in helios_metrics_series_overflow_total{tenant}, so made-up service names cannot grow /metrics without bound.' }),
        seriesIdleMs: Type.Integer({ minimum: 0, default: 15 * 60_000, description: 'A service label unused this long has its series removed from /metrics and frees its place under maxServicesPerTenant (0: never).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    bus: Type.Object(
      {
        kind: Type.Union([Type.Literal('memory'), Type.Literal('kafka')], {
          default: 'memory',
          description: 'Event bus: `memory` (in-process, bounded; a crash loses what was accepted but not yet stored) or `kafka` (Apache Kafka; gateway and workers may run as separate processes).',
        }),
        capacity: Type.Integer({ minimum: 1, default: 100_000, description: 'In-process bus: most unconsumed records per topic before publishers get HLS_ERR_BUS_FULL (429).' }),
        kafka: Type.Object(
          {
            brokers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['127.0.0.1:9092'], description: 'Bootstrap servers, host:port. Env HELIOS_KAFKA_BROKERS (comma-separated).' }),
            clientId: Type.String({ minLength: 1, default: 'helios', description: 'Kafka client id (broker logs and quotas). Consumer groups are always helios-storage, helios-detect and helios-report.' }),
            namespace: Type.String({ default: '', description: 'Prefix of every topic and consumer group name on the brokers (e.g. `staging.`), so several Helios deployments share one cluster.' }),
            topics: Type.Record(
              Type.String({ minLength: 1 }),
              Type.Object(
                {
                  partitions: Type.Integer({ minimum: 1 }),
                  replicationFactor: Type.Optional(Type.Integer({ minimum: 1 })),
                  config: Type.Optional(Type.Record(Type.String(), Type.String())),
                },
                { additionalProperties: false },
              ),
              {
                default: { 'helios.events': { partitions: 10 }, 'helios.anomalies': { partitions: 3 }, 'helios.reports': { partitions: 3 }, 'helios.dead-letter': { partitions: 1 } },
                description: 'Topics created at start when missing, with their partition count (more partitions: more storage/detect workers can share the load). Existing topics are used as they are.',
              },
            ),
            compression: Type.Union([Type.Literal('none'), Type.Literal('gzip'), Type.Literal('snappy'), Type.Literal('lz4')], {
              default: 'lz4',
              description: 'Compression of produced batches. `lz4` measured the least gateway CPU per event and the most events/s against `gzip` and `none` (bench/RESULTS.md, Kafka).',
            }),
            lingerMs: Type.Integer({ minimum: 0, default: 5, description: 'How long a publish waits for others to share its produce request (many gateway requests, one Kafka acknowledgement).' }),
            sessionTimeoutMs: Type.Integer({ minimum: 6000, default: 30_000, description: 'Consumer group session timeout: how long a crashed worker keeps its partitions before another member takes them over (redelivering its uncommitted batch).' }),
            deadLetterTopic: Type.String({ default: 'helios.dead-letter', description: 'Records consumers cannot decode go here with the reason in a header, so they never block a partition (empty: log and skip).' }),
            ssl: Type.Object(
              {
                enabled: Type.Boolean({ default: false, description: 'Connect to the brokers over TLS.' }),
                caFile: Type.String({ default: '', description: 'PEM file of the CA that signed the brokers\' certificates (empty: the system CAs).' }),
                certFile: Type.String({ default: '', description: 'PEM client certificate for mutual TLS.' }),
                keyFile: Type.String({ default: '', description: 'PEM private key of the client certificate.' }),
                rejectUnauthorized: Type.Boolean({ default: true, description: 'Refuse brokers whose certificate does not verify.' }),
              },
              { default: {}, additionalProperties: false },
            ),
            sasl: Type.Object(
              {
                mechanism: Type.Union([Type.Literal('none'), Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], { default: 'none', description: 'SASL authentication mechanism.' }),
                username: Type.String({ default: '', description: 'SASL user name.' }),
                password: Type.String({ default: '', description: 'SASL password. Env HELIOS_KAFKA_SASL_PASSWORD (keeps it out of the file).' }),
              },
              { default: {}, additionalProperties: false },
            ),
          },
          { default: {}, additionalProperties: false },
        ),
        spool: Type.Object(
          {
            enabled: Type.Boolean({
              default: true,
              description:
                'Kafka bus, gateway role: while Kafka is unreachable or failing, accept events into an on-disk spool (fsync\'d before the 2xx) and replay them in order when Kafka is back, also after a crash. Trade-off: a 2xx then rests on this machine\'s disk rather than on the brokers\' replicas until the replay, and per-service order holds only for events that went through the spool. Off: the gateway answers 503 with Retry-After while Kafka is down.',
            }),
            dir: Type.String({ default: '', description: 'Spool folder (empty: <dataDir>/spool). One gateway process per folder.' }),
            maxBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024 * 1024, description: 'Most bytes the spool holds; beyond it publishes fail with HLS_ERR_BUS_FULL (429 with Retry-After).' }),
            fsyncIntervalMs: Type.Integer({ minimum: 0, default: 2, description: 'Group commit: spool appends arriving within this many ms share one fsync (each still waits for it before its 2xx).' }),
            handoffTimeoutMs: Type.Integer({ minimum: 100, default: 5000, description: 'A publish Kafka has not acknowledged within this time is written to the spool instead (it may then be delivered twice; the store dedupes by event id).' }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    store: Type.Object(
      {
        kind: Type.Union([Type.Literal('pglite'), Type.Literal('postgres')], {
          default: 'pglite',
          description: 'Store: `pglite` (embedded PostgreSQL in <dataDir>/pglite, or in memory when dataDir is `:memory:`) or `postgres` (a PostgreSQL server at `url`; TimescaleDB used when installed).',
        }),
        url: Type.String({ default: '', description: 'PostgreSQL connection URL for kind `postgres` (env HELIOS_STORE_URL, which also selects kind `postgres`), e.g. postgres://helios:secret@db:5432/helios (libpq parameters such as sslmode allowed).' }),
        poolSize: Type.Integer({ minimum: 1, default: 10, description: 'Most connections to PostgreSQL (kind `postgres`).' }),
        batchSize: Type.Integer({ minimum: 1, default: 5000, description: 'The writer flushes when this many events are buffered (and most events in one statement).' }),
        flushIntervalMs: Type.Integer({ minimum: 1, default: 200, description: 'The writer flushes buffered events at least this often.' }),
        retentionDays: Type.Integer({ minimum: 1, default: 7, description: 'Raw events older than this are dropped a whole day partition at a time (rollups are kept).' }),
        partitionsAhead: Type.Integer({ minimum: 1, default: 3, description: 'Daily event partitions created ahead of today (a default partition catches anything else).' }),
        maintenanceIntervalMs: Type.Integer({ minimum: 1000, default: 60_000, description: 'How often partitions are created and dropped and the per-minute rollups are brought up to date.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    detection: Type.Object(
      {
        windowMs: Type.Integer({ minimum: 1000, default: 300_000, description: 'Length of a feature window (default 5 min).' }),
        hopMs: Type.Integer({ minimum: 1000, default: 60_000, description: 'How often a window closes (default 1 min); windows overlap when hop < window.' }),
        allowedLatenessMs: Type.Integer({ minimum: 0, default: 10_000, description: 'How long after its end a window waits for late events (event time).' }),
        idleFlushMs: Type.Integer({ minimum: 0, default: 5_000, description: 'Wall-clock time without events after which open windows are closed anyway (0: never).' }),
        vote: Type.Union([Type.Literal('any'), Type.Literal('majority'), Type.Literal('all')], { default: 'any', description: 'With several detectors: how many must call a window anomalous.' }),
        confirmWindows: Type.Integer({ minimum: 1, default: 2, description: 'Consecutive anomalous windows that open an incident (with 1-minute hops, 2 means flagged within about 2 minutes and single-window blips ignored).' }),
        immediateRatio: Type.Number({ minimum: 0, default: 2, description: 'A window whose strongest anomalous verdict scores at least this multiple of its threshold opens an incident at once, without waiting for confirmWindows: confirmation guards against blips just past the threshold, not against a window twice past it (0: always confirm). Isolation Forest scores stay below 1 and rarely reach twice their threshold; robust z-score verdicts do.' }),
        resolveAfterWindows: Type.Integer({ minimum: 1, default: 3, description: 'Consecutive normal windows that resolve an open incident; until then no new anomaly is raised for the series.' }),
        gapAfterMs: Type.Integer({ minimum: 0, default: 180_000, description: 'An event-time jump of the watermark longer than this (no events from any series) is taken as lost telemetry: windows overlapping it are not judged, so a pipeline gap never looks like a traffic drop (0: only explicit gaps).' }),
        warmStartMs: Type.Integer({ minimum: 0, default: 14_400_000, description: 'A series no worker has saved detector state for is warmed from this much of its stored per-minute rollups before its first live window, so it is judged at once instead of after a cold start of an hour (default 4 h; 0: never). Needs whole-minute windowMs and hopMs.' }),
        stateSaveIntervalMs: Type.Integer({ minimum: 1000, default: 60_000, description: 'How often the detect runtime saves each series\u2019 incident state (open incident, streaks) to the store; openings and resolutions are saved at once, and everything at shutdown.' }),
        maxMetricSeries: Type.Integer({ minimum: 0, default: 200, description: 'Most metric series (metric name + point attributes) windowed per tenant+service; data points of further series are counted (helios_detection_metric_points_overflow_total) but not windowed, so a high-cardinality attribute cannot exhaust memory. 0: metric points are not windowed at all.' }),
        maxDependencySeries: Type.Integer({ minimum: 1, default: 50, description: 'Most dependency series (peers called through client/producer spans) windowed per tenant+service; calls to further peers are not windowed, so a peer name carrying an id cannot exhaust memory.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    plugins: Type.Object(
      {
        timeoutMs: Type.Integer({ minimum: 1, default: 5000, description: 'Time limit for one plugin hook call; slower calls count as errors.' }),
        detectors: Type.Array(PluginSpecSchema, { default: [{ use: '@helios/detector-isolation-forest' }], description: 'Detector plugins, in order.' }),
        reporters: Type.Array(PluginSpecSchema, {
          default: [{ use: '@helios/reporter-template' }, { use: '@helios/reporter-file' }],
          description: 'Reporter plugins: composers (template) write the report, deliverers (file) send it.',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    redaction: Type.Object(
      {
        pii: Type.Boolean({ default: true, description: 'Also remove personal data (emails, phone numbers, IP addresses) from reports. Secrets (keys, tokens, passwords, URL credentials, private keys, card numbers) are always removed.' }),
        patterns: Type.Array(
          Type.Object(
            {
              pattern: Type.String({ minLength: 1 }),
              flags: Type.Optional(Type.String({ pattern: '^[gimsuy]*$' })),
              label: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })),
            },
            { additionalProperties: false },
          ),
          { default: [], description: 'Extra regular expressions removed as `[REDACTED:<label>]` (label default `custom`), on top of the built-in rules.' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type HeliosConfig = Static<typeof HeliosConfigSchema>;

export interface ConfigSources {
  /** Path of a helios.config.(yaml|json); HELIOS_CONFIG otherwise; ./helios.config.{yaml,yml,json} when present. */
  configPath?: string;
  /** Explicit overrides (from flags), applied last. */
  overrides?: { port?: number; otlpPort?: number; otlpGrpcPort?: number; dataDir?: string };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LoadedConfig {
  config: HeliosConfig;
  /** File the config came from, if any; plugin paths resolve relative to its folder. */
  path: string | undefined;
  baseDir: string;
}

function readConfigFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${path}: ${(err as Error).message}`, { cause: err });
  }
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${name}: expected an integer, got ${JSON.stringify(raw)}`);
  return n;
}

const configValidator = compileValidator<HeliosConfig>(HeliosConfigSchema);

/** Apply defaults and validate; errors name the key and list the allowed keys for unknown ones. */
export function resolveConfig(raw: unknown, source = 'config'): HeliosConfig {
  const candidate = Value.Default(HeliosConfigSchema, withRenamedKeys(structuredClone(raw ?? {})));
  if (configValidator.check(candidate)) {
    compileRedactionPatterns(candidate.redaction.patterns); // a bad pattern fails at start, naming its key
    return candidate;
  }
  const details = configValidator.errors(candidate).map((line) => withAllowedKeys(line, HeliosConfigSchema));
  throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${source}: ${details[0]}`, { details });
}

/** Old key names still accepted: gateway.maxInflatingBytes became gateway.maxInFlightBodyBytes when the budget grew to cover raw bodies too. */
function withRenamedKeys(raw: unknown): unknown {
  const gateway = (raw as { gateway?: unknown } | null)?.gateway as Record<string, unknown> | undefined;
  if (gateway !== null && typeof gateway === 'object' && 'maxInflatingBytes' in gateway) {
    gateway['maxInFlightBodyBytes'] ??= gateway['maxInflatingBytes'];
    delete gateway['maxInflatingBytes'];
  }
  return raw;
}

function withAllowedKeys(line: string, root: TSchema): string {
  if (!line.endsWith(': unknown field')) return line;
  const path = line.slice(0, -': unknown field'.length).split('.');
  let schema: TSchema | undefined = root;
  for (const key of path.slice(0, -1)) schema = (schema?.['properties'] as Record<string, TSchema> | undefined)?.[key.replace(/\[\d+\]$/, '')];
  const items = schema?.['type'] === 'array' ? (schema['items'] as TSchema) : schema;
  const allowed = Object.keys((items?.['properties'] as object | undefined) ?? {});
  return allowed.length > 0 ? `${line} (allowed: ${allowed.join(', ')})` : line;
}

export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  let path = sources.configPath ?? (env['HELIOS_CONFIG'] || undefined);
  if (path !== undefined) {
    path = resolve(cwd, path);
    if (!existsSync(path)) throw new HeliosError('HLS_ERR_CONFIG_NOT_FOUND', `config file not found: ${path}`);
  } else {
    path = ['helios.config.yaml', 'helios.config.yml', 'helios.config.json'].map((f) => resolve(cwd, f)).find((f) => existsSync(f));
  }
  const raw = (path === undefined ? {} : readConfigFile(path)) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new HeliosError('HLS_ERR_CONFIG_INVALID', `${path}: expected a mapping at the top level`);
  const layered = structuredClone(raw) as Record<string, any>;
  const port = sources.overrides?.port ?? intFromEnv(env, 'HELIOS_PORT');
  if (port !== undefined) layered['gateway'] = { ...(layered['gateway'] ?? {}), port };
  const otlpPort = sources.overrides?.otlpPort ?? intFromEnv(env, 'HELIOS_OTLP_PORT');
  if (otlpPort !== undefined) layered['gateway'] = { ...(layered['gateway'] ?? {}), otlpPort };
  const otlpGrpcPort = sources.overrides?.otlpGrpcPort ?? intFromEnv(env, 'HELIOS_OTLP_GRPC_PORT');
  if (otlpGrpcPort !== undefined) layered['gateway'] = { ...(layered['gateway'] ?? {}), otlpGrpcPort };
  const storeUrl = env['HELIOS_STORE_URL'] || undefined;
  // A database URL in the environment (the usual way to pass a secret to a container) means PostgreSQL.
  if (storeUrl !== undefined) layered['store'] = { ...(layered['store'] ?? {}), kind: 'postgres', url: storeUrl };
  const logFormat = env['HELIOS_LOG_FORMAT'] || undefined;
  if (logFormat !== undefined) layered['log'] = { ...(layered['log'] ?? {}), format: logFormat };
  const dataDir = sources.overrides?.dataDir ?? (env['HELIOS_DATA_DIR'] || undefined);
  if (dataDir !== undefined) layered['dataDir'] = dataDir;
  const kafkaBrokers = env['HELIOS_KAFKA_BROKERS']?.split(',').map((b) => b.trim()).filter((b) => b.length > 0) ?? [];
  const kafkaPassword = env['HELIOS_KAFKA_SASL_PASSWORD'];
  if (kafkaBrokers.length > 0 || kafkaPassword) {
    const bus = (layered['bus'] ??= {});
    const kafka = (bus['kafka'] ??= {});
    if (kafkaBrokers.length > 0) kafka['brokers'] = kafkaBrokers;
    if (kafkaPassword) kafka['sasl'] = { ...(kafka['sasl'] ?? {}), password: kafkaPassword };
  }
  const config = resolveConfig(layered, path ?? 'config');
  const baseDir = path === undefined ? cwd : dirname(path);
  // A data dir from the file is relative to the file; one from a flag or env to where the command runs.
  if (config.dataDir !== ':memory:') config.dataDir = resolve(dataDir === undefined ? baseDir : cwd, config.dataDir);
  return { config, path, baseDir };
}

/** The defaults alone, e.g. for tests and `helios config --defaults`. */
export function defaultConfig(): HeliosConfig {
  return resolveConfig({});
}
