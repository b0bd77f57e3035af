"""Test-only: export spans and logs with the OpenTelemetry Python SDK's OTLP/HTTP (protobuf) exporters.

Usage: python3 otel_export.py <base-url> <api-key>
Prints one JSON line: the export result of each signal.
"""
import json
import logging
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

base, key = sys.argv[1], sys.argv[2]
headers = {"authorization": f"Bearer {key}"}
resource = Resource.create({"service.name": "py-orders"})

memory = InMemorySpanExporter()
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = tracer_provider.get_tracer("py-test")
with tracer.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER, attributes={"http.route": "/orders/{id}", "http.response.status_code": 200}):
    with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as child:
        child.set_status(Status(StatusCode.ERROR, "statement timeout"))
        child.set_attribute("error.type", "DB_TIMEOUT")
tracer_provider.shutdown()

span_exporter = OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers=headers, compression=Compression.Gzip)
traces = span_exporter.export(memory.get_finished_spans())
span_exporter.shutdown()

log_exporter = OTLPLogExporter(endpoint=f"{base}/v1/logs", headers=headers)
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
log = logging.getLogger("py-test")
log.propagate = False
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.setLevel(logging.INFO)
log.error("payment declined", extra={"http.route": "/pay"})
logger_provider.shutdown()

print(json.dumps({"traces": traces.name, "traces_ok": traces == SpanExportResult.SUCCESS}))
