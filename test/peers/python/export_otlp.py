"""Exports spans, a counter and log records with the real OpenTelemetry Python SDK, for tests that
need a non-JavaScript OTLP client (test/helpers/python-otel.ts runs it in the project venv).

Usage: python export_otlp.py '<json options>'
  {"endpoint": "http://127.0.0.1:P", "protocol": "http/protobuf" | "grpc",
   "spans": N, "logs": N, "metrics": true, "service": "name", "timeout_s": 10}
For http/protobuf the endpoint is the base URL (/v1/<signal> is appended), for grpc host:port.
Prints one JSON line: {"traceId", "spanIds", "logBodies", "exported": {"traces", "logs", "metrics"}}.
Exits 1 if any export did not succeed, so a test cannot mistake a failed export for a slow one.
"""

import json
import sys

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def exporters(protocol, endpoint, timeout):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        kw = {"endpoint": endpoint, "insecure": True, "timeout": timeout}
        return OTLPSpanExporter(**kw), OTLPLogExporter(**kw), OTLPMetricExporter(**kw)
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = endpoint.rstrip("/")
        return (
            OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=timeout),
            OTLPLogExporter(endpoint=f"{base}/v1/logs", timeout=timeout),
            OTLPMetricExporter(endpoint=f"{base}/v1/metrics", timeout=timeout),
        )
    raise SystemExit(f"export_otlp.py: unknown protocol {protocol!r}; use http/protobuf or grpc")


class Counting:
    """Wraps an exporter to count results, since the SDK's processors swallow export failures."""

    def __init__(self, inner):
        self.inner = inner
        self.ok = 0
        self.failed = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def export(self, batch, *args, **kwargs):
        result = self.inner.export(batch, *args, **kwargs)
        if getattr(result, "name", "") == "SUCCESS":
            self.ok += 1
        else:
            self.failed += 1
        return result


def main():
    opts = json.loads(sys.argv[1])
    endpoint = opts["endpoint"]
    protocol = opts.get("protocol", "http/protobuf")
    timeout = opts.get("timeout_s", 10)
    resource = Resource.create({"service.name": opts.get("service", "python-client")})
    span_exp, log_exp, metric_exp = (Counting(e) for e in exporters(protocol, endpoint, timeout))
    out = {"traceId": None, "spanIds": [], "logBodies": []}

    if opts.get("spans", 0) > 0:
        tp = TracerProvider(resource=resource)
        tp.add_span_processor(SimpleSpanProcessor(span_exp))
        tracer = tp.get_tracer("python-client")
        with tracer.start_as_current_span("python-root") as root:
            out["traceId"] = format(root.get_span_context().trace_id, "032x")
            out["spanIds"].append(format(root.get_span_context().span_id, "016x"))
            for i in range(opts["spans"] - 1):
                with tracer.start_as_current_span(f"python-child-{i}", attributes={"i": i}) as child:
                    out["spanIds"].append(format(child.get_span_context().span_id, "016x"))
        tp.shutdown()

    if opts.get("logs", 0) > 0:
        lp = LoggerProvider(resource=resource)
        lp.add_log_record_processor(SimpleLogRecordProcessor(log_exp))
        logger = lp.get_logger("python-client")
        for i in range(opts["logs"]):
            body = f"python log {i}"
            logger.emit(LogRecord(body=body, severity_text="INFO", severity_number=SeverityNumber.INFO))
            out["logBodies"].append(body)
        lp.shutdown()

    if opts.get("metrics"):
        reader = PeriodicExportingMetricReader(metric_exp, export_interval_millis=3_600_000)
        mp = MeterProvider(resource=resource, metric_readers=[reader])
        mp.get_meter("python-client").create_counter("python.count").add(3, {"client": "python"})
        mp.shutdown()

    out["exported"] = {
        "traces": {"ok": span_exp.ok, "failed": span_exp.failed},
        "logs": {"ok": log_exp.ok, "failed": log_exp.failed},
        "metrics": {"ok": metric_exp.ok, "failed": metric_exp.failed},
    }
    print(json.dumps(out), flush=True)
    failed = span_exp.failed + log_exp.failed + metric_exp.failed
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
