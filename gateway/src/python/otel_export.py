"""Test-only: export spans and logs with the OpenTelemetry Python SDK's OTLP exporters, over either protocol.

Usage: python3 otel_export.py <http|grpc> <endpoint> <api-key or -> <service-name>
  http: endpoint is the base URL (http://host:port), the protobuf exporters post to /v1/traces and /v1/logs;
  grpc: endpoint is host:port (insecure).
The span batch is exported twice (gzip), as an exporter retrying after a lost response would: the
receiver must give both copies the same ids. Prints one JSON line: the export result of the spans.
"""
import json
import logging
import sys

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

protocol, endpoint, key, service = sys.argv[1:5]
if protocol == "http":
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    headers = None if key == "-" else {"authorization": f"Bearer {key}"}
    span_exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", headers=headers, compression=Compression.Gzip)
    log_exporter = OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", headers=headers)
elif protocol == "grpc":
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    headers = None if key == "-" else (("authorization", f"Bearer {key}"),)
    span_exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, headers=headers, compression=Compression.Gzip)
    log_exporter = OTLPLogExporter(endpoint=endpoint, insecure=True, headers=headers)
else:
    sys.exit(f"protocol must be http or grpc, not {protocol!r}")

resource = Resource.create({"service.name": service})
memory = InMemorySpanExporter()
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = tracer_provider.get_tracer("py-test")
with tracer.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER, attributes={"http.route": "/orders/{id}", "http.response.status_code": 200}):
    with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as child:
        child.set_status(Status(StatusCode.ERROR, "statement timeout"))
        child.set_attribute("error.type", "DB_TIMEOUT")
tracer_provider.shutdown()

spans = memory.get_finished_spans()
first = span_exporter.export(spans)
retried = span_exporter.export(spans)
span_exporter.shutdown()

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
log = logging.getLogger("py-test")
log.propagate = False
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.setLevel(logging.INFO)
log.error("payment declined", extra={"http.route": "/pay"})
logger_provider.shutdown()

print(json.dumps({"traces": first.name, "traces_ok": first == SpanExportResult.SUCCESS and retried == SpanExportResult.SUCCESS}))
