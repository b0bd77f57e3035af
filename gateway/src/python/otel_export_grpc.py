"""Test-only: export spans and logs with the OpenTelemetry Python SDK's OTLP/gRPC exporters.

Usage: python3 otel_export_grpc.py <host:port> <api-key or ->
The span batch is exported twice, as an exporter retrying after a lost response would: the receiver
must store it once. Prints one JSON line: the export result of each call.
"""
import json
import logging
import sys

from grpc import Compression
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

endpoint, key = sys.argv[1], sys.argv[2]
headers = None if key == "-" else (("authorization", f"Bearer {key}"),)
resource = Resource.create({"service.name": "py-grpc"})

memory = InMemorySpanExporter()
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = tracer_provider.get_tracer("py-grpc-test")
with tracer.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER, attributes={"http.route": "/orders/{id}", "http.response.status_code": 200}):
    with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as child:
        child.set_status(Status(StatusCode.ERROR, "statement timeout"))
        child.set_attribute("error.type", "DB_TIMEOUT")
tracer_provider.shutdown()

span_exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, headers=headers, compression=Compression.Gzip)
spans = memory.get_finished_spans()
first = span_exporter.export(spans)
retried = span_exporter.export(spans)
span_exporter.shutdown()

log_exporter = OTLPLogExporter(endpoint=endpoint, insecure=True, headers=headers)
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
log = logging.getLogger("py-grpc-test")
log.propagate = False
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.setLevel(logging.INFO)
log.error("payment declined", extra={"http.route": "/pay"})
logger_provider.shutdown()

print(json.dumps({"traces": first.name, "traces_ok": first == SpanExportResult.SUCCESS and retried == SpanExportResult.SUCCESS}))
