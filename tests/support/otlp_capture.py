"""Stand-ins for Loki and Tempo that keep the OTLP the collector sends them.

`OtlpHttpCapture` is what the `otlp_http/loki` exporter posts to (`<endpoint>/v1/logs`);
`OtlpGrpcTraceCapture` is what the `otlp_grpc/tempo` exporter calls. Both decode every request with
the opentelemetry-proto classes. With `reject=True` they refuse everything with a permanent error
(HTTP 400, gRPC INVALID_ARGUMENT), which the exporters count as failed sends without retrying.
`go_down()` and `come_back()` stop and restart one on the same port, keeping what it received:
a backend outage for the resilience test.
"""

import gzip
import threading
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

LOGS_PATH = "/v1/logs"


def any_value(value: AnyValue) -> Any:
    """The Python value of an OTLP AnyValue (lists and maps recursively)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: any_value(pair.value) for pair in pairs}


@dataclass(frozen=True)
class CapturedLog:
    resource: dict[str, Any]
    record: LogRecord

    @property
    def attributes(self) -> dict[str, Any]:
        return attributes(self.record.attributes)

    @property
    def body(self) -> Any:
        return any_value(self.record.body)


@dataclass(frozen=True)
class CapturedSpan:
    resource: dict[str, Any]
    span: Span

    @property
    def attributes(self) -> dict[str, Any]:
        return attributes(self.span.attributes)


class OtlpHttpCapture:
    """An OTLP/HTTP logs receiver on a free 127.0.0.1 port; use as a context manager."""

    def __init__(self, *, reject: bool = False) -> None:
        self.reject = reject
        self._lock = threading.Lock()
        self._requests: list[ExportLogsServiceRequest] = []
        self._paths: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._port = self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        """The base URL an otlp_http exporter is given (it appends /v1/<signal>)."""
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> "OtlpHttpCapture":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.go_down()

    def go_down(self) -> None:
        """Stop listening (connections are refused, as with a stopped Loki); keep what arrived."""
        self._server.shutdown()
        self._server.server_close()

    def come_back(self) -> None:
        """Listen again on the same port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def paths(self) -> list[str]:
        """Every path posted to, in order (accepted or not)."""
        with self._lock:
            return list(self._paths)

    def logs(self) -> list[CapturedLog]:
        with self._lock:
            requests = list(self._requests)
        return [
            CapturedLog(attributes(resource_logs.resource.attributes), record)
            for request in requests
            for resource_logs in request.resource_logs
            for scope_logs in resource_logs.scope_logs
            for record in scope_logs.log_records
        ]

    def _accept(self, path: str, body: bytes) -> bool:
        with self._lock:
            self._paths.append(path)
        if self.reject or path != LOGS_PATH:
            return False
        request = ExportLogsServiceRequest.FromString(body)
        with self._lock:
            self._requests.append(request)
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if not capture._accept(self.path, body):
                    # 400 is permanent for otlp_http: counted as a failed send, never retried.
                    self.send_error(400, "rejected by the test capture")
                    return
                response = ExportLogsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(response)))
                self.end_headers()
                self.wfile.write(response)

            def log_message(self, *_: object) -> None:
                pass

        return Handler


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, reject: bool) -> None:
        self.reject = reject
        self.lock = threading.Lock()
        self.requests: list[ExportTraceServiceRequest] = []

    def Export(
        self, request: ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> ExportTraceServiceResponse:
        if self.reject:
            # INVALID_ARGUMENT is permanent for otlp_grpc: counted as failed, never retried.
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "rejected by the test capture")
        with self.lock:
            self.requests.append(request)
        return ExportTraceServiceResponse()


class OtlpGrpcTraceCapture:
    """An OTLP/gRPC trace receiver on a free 127.0.0.1 port; use as a context manager."""

    def __init__(self, *, reject: bool = False) -> None:
        self._service = _TraceService(reject)
        self._server, self._port = self._new_server(0)

    def _new_server(self, port: int) -> tuple[grpc.Server, int]:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self._service, server)
        return server, server.add_insecure_port(f"127.0.0.1:{port}")

    @property
    def endpoint(self) -> str:
        """host:port, as an otlp_grpc exporter is given it."""
        return f"127.0.0.1:{self._port}"

    def __enter__(self) -> "OtlpGrpcTraceCapture":
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.go_down()

    def go_down(self) -> None:
        """Stop serving (calls fail UNAVAILABLE, as with a stopped Tempo); keep what arrived."""
        self._server.stop(grace=None).wait()

    def come_back(self) -> None:
        """Serve again on the same port (a gRPC server cannot be restarted: a new one)."""
        self._server, _ = self._new_server(self._port)
        self._server.start()

    def spans(self) -> list[CapturedSpan]:
        with self._service.lock:
            requests = list(self._service.requests)
        return [
            CapturedSpan(attributes(resource_spans.resource.attributes), span)
            for request in requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
