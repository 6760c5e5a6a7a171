"""`BRIDGE_TRACING__*` set up the SDK in a process of its own: the spans leave over OTLP/HTTP to
a collector (here a real HTTP server that decodes them), named after the service and instance."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

# A span made as the pipeline makes them, in a process whose tracing is set up from settings.
PROGRAM = """
from bridge.observability.tracing import install_tracing
from bridge.pipeline.factory import event_tracing
from bridge.pipeline.records import RawRecord
from bridge.settings import Settings

settings = Settings(_env_file=None)
provider = install_tracing(settings)
assert provider is not None
traced = event_tracing(settings).batch([RawRecord("csm.events", 0, 7, None, b"{}")])
traced.end_record(traced.start_record(0), "applied", [])
traced.end({"applied": 1})
provider.shutdown()
"""


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/traces", _Collector.received
    server.shutdown()
    server.server_close()


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-c", PROGRAM], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_spans_are_exported_over_otlp_http_with_the_service_and_instance(
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    endpoint, received = collector
    done = _run(
        {"BRIDGE_TRACING__ENABLED": "true", "BRIDGE_TRACING__OTLP_ENDPOINT": endpoint, "BRIDGE_INSTANCE_ID": "bridge-7"}
    )
    assert done.returncode == 0, done.stderr
    [(path, content_type, body)] = received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "csm-fsm-bridge" and resource["service.instance.id"] == "bridge-7"
    names = sorted(span.name for scope in resource_spans.scope_spans for span in scope.spans)
    assert names == ["process", "process csm.events"]


def test_a_sample_ratio_of_zero_exports_no_new_trace(collector: tuple[str, list[tuple[str, str, bytes]]]) -> None:
    endpoint, received = collector
    done = _run(
        {
            "BRIDGE_TRACING__ENABLED": "true",
            "BRIDGE_TRACING__OTLP_ENDPOINT": endpoint,
            "BRIDGE_TRACING__SAMPLE_RATIO": "0",
        }
    )
    assert done.returncode == 0, done.stderr
    assert received == []


def test_the_console_exporter_prints_the_spans() -> None:
    done = _run({"BRIDGE_TRACING__ENABLED": "true", "BRIDGE_TRACING__EXPORTER": "console"})
    assert done.returncode == 0, done.stderr
    assert '"name": "process csm.events"' in done.stdout
