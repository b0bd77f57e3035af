import { NodeSDK, logs, metrics, resources } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { ResolvedConfig } from './config.js';
import { HeliosSdkError, type DiagnosticHandler } from './errors.js';

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>['compression']>;

export interface OtelHandle {
  shutdown(): Promise<void>;
}

/**
 * Starts `@opentelemetry/sdk-node` with the OTLP/HTTP exporters pointed at the gateway (which serves
 * `/v1/traces`, `/v1/logs`, `/v1/metrics` next to the Helios JSON endpoint). Resource detection and the
 * OTEL_* variables the NodeSDK reads itself (sampler, propagators, resource attributes) keep working.
 */
export function startOtel(config: ResolvedConfig, report: DiagnosticHandler): OtelHandle | undefined {
  const otel = config.otel;
  if (otel === undefined) return undefined;
  const headers: Record<string, string> = config.apiKey === undefined ? {} : { authorization: `Bearer ${config.apiKey}` };
  const common = { headers, compression: 'gzip' as Compression, timeoutMillis: config.requestTimeoutMs };
  const base = config.otlpEndpoint;
  try {
    const sdk = new NodeSDK({
      serviceName: config.service,
      // Helios resource attributes (environment, resourceAttributes) on top of the SDK's default resource;
      // telemetry.sdk.* stay the OTel SDK's own.
      resource: resources.defaultResource().merge(resources.resourceFromAttributes(otelResourceAttributes(config))),
      instrumentations: otel.instrumentations ?? [],
      ...(otel.traces ? { traceExporter: new OTLPTraceExporter({ ...common, url: `${base}/v1/traces` }) } : {}),
      ...(otel.logs ? { logRecordProcessors: [new logs.BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ ...common, url: `${base}/v1/logs` }) })] } : {}),
      ...(otel.metrics
        ? {
            metricReaders: [
              new metrics.PeriodicExportingMetricReader({
                exporter: new OTLPMetricExporter({ ...common, url: `${base}/v1/metrics` }),
                exportIntervalMillis: otel.metricExportIntervalMs,
              }),
            ],
          }
        : {}),
    });
    sdk.start();
    return {
      async shutdown() {
        try {
          await sdk.shutdown();
        } catch (error) {
          report(new HeliosSdkError('HLS_ERR_SDK_OTEL', `OpenTelemetry SDK shutdown failed: ${(error as Error).message}`, { cause: error }));
        }
      },
    };
  } catch (error) {
    report(new HeliosSdkError('HLS_ERR_SDK_OTEL', `OpenTelemetry SDK failed to start: ${(error as Error).message}`, { cause: error }));
    return undefined;
  }
}

function otelResourceAttributes(config: ResolvedConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(config.resource)) {
    if (!key.startsWith('telemetry.sdk.') && value !== null) out[key] = value;
  }
  return out;
}
