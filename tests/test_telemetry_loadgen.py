"""`python -m tools.loadgen`: documented options, fast failure on a closed port, a clean Ctrl-C,
and OTLP that carries the contract's names."""

import gzip
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.external import REPO_ROOT
from tools.loadgen import build_parser
from tools.querylab.ports import free_port
from tools.telemetry import catalog
from tools.telemetry.naming import prometheus_metric_name
from tools.telemetry.otlp import CLAUDE_CODE_INSTRUMENTS, OtlpSender, OtlpTarget
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate_window


def _run_loadgen(*args: str, **options: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tools.loadgen", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,  # type: ignore[call-overload]
    )


def test_help_documents_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.loadgen", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    options = [action for action in build_parser()._actions if action.option_strings]
    assert len(options) >= 10
    for action in options:
        assert action.help, f"{action.option_strings} has no help"
        for flag in action.option_strings:
            assert flag in result.stdout


def test_a_closed_port_fails_within_seconds_with_a_clear_message() -> None:
    port = free_port()
    began = time.monotonic()
    process = _run_loadgen("--endpoint", f"http://127.0.0.1:{port}", "--minutes", "5")
    stdout, stderr = process.communicate(timeout=30)
    elapsed = time.monotonic() - began
    assert process.returncode == 2
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert f"cannot reach the OTLP endpoint 127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr + stdout


class _Receiver(BaseHTTPRequestHandler):
    """A minimal OTLP/HTTP receiver that keeps what it is sent."""

    requests: dict[str, list[bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.requests.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, dict[str, list[bytes]]]]:
    received: dict[str, list[bytes]] = {}
    handler = type("Handler", (_Receiver,), {"requests": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_sent_otlp_carries_the_contract(otlp_receiver: tuple[str, dict[str, list[bytes]]]) -> None:
    endpoint, received = otlp_receiver
    traffic = simulate_window(
        Scenario(users=2, apps=2, app_requests_per_hour=600), time.time() - 120, 2
    )
    sender = OtlpSender(OtlpTarget(endpoint, protocol="http", export_interval=60))
    for measurement in traffic.claude_code_measurements:
        sender.record_measurement(measurement)
    for event in traffic.claude_code_events:
        sender.emit_event(event)
    for request in traffic.app_requests:
        sender.record_request(request)
    sender.shutdown()
    assert sender.stats.failures == 0

    names, session_ids = set(), set()
    for body in received["/v1/metrics"]:
        for resource in ExportMetricsServiceRequest.FromString(body).resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    kind = (
                        catalog.MetricType.HISTOGRAM
                        if metric.HasField("histogram")
                        else catalog.MetricType.COUNTER
                    )
                    names.add(prometheus_metric_name(metric.name, metric.unit, kind))
                    for point in metric.sum.data_points:
                        session_ids |= {
                            a.value.string_value for a in point.attributes if a.key == "session.id"
                        }
    recorded = {measurement.instrument for measurement in traffic.claude_code_measurements}
    expected = {CLAUDE_CODE_INSTRUMENTS[name].prometheus_name for name in recorded}
    expected |= {metric.prometheus_name for metric in catalog.GENAI_APPS.metrics}
    assert names == expected
    assert session_ids == {p.session_id for p in traffic.claude_code_processes}

    spans = [
        span
        for body in received["/v1/traces"]
        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert len(spans) == 2 * len(traffic.app_requests)
    logs = [
        record
        for body in received["/v1/logs"]
        for resource in ExportLogsServiceRequest.FromString(body).resource_logs
        for scope in resource.scope_logs
        for record in scope.log_records
    ]
    assert len(logs) == len(traffic.claude_code_events)
    assert {r.body.string_value for r in logs} >= {
        "claude_code.api_request",
        "claude_code.user_prompt",
    }


def test_ctrl_c_flushes_and_exits_cleanly(
    otlp_receiver: tuple[str, dict[str, list[bytes]]],
) -> None:
    endpoint, received = otlp_receiver
    process = _run_loadgen(
        "--endpoint", endpoint, "--protocol", "http", "--minutes", "5",
        "--requests-per-minute", "240", "--progress-every", "1",
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:  # wait until something was recorded, then press Ctrl-C
        if re.search(r"sent [1-9]\d* Claude Code|[1-9]\d* app requests", line):
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    assert "interrupted: flushing" in stdout
    assert "Traceback" not in stderr
    assert received.get("/v1/metrics"), "the flush on Ctrl-C should have sent the metrics"


class _FakeClock:
    """time.time and time.sleep for replay(), without waiting."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class _CountingSender:
    def __init__(self, clock: _FakeClock) -> None:
        self.clock, self.sent_at = clock, []
        self.stats = type("Stats", (), {"failures": 0})()

    def _record(self, *_: object) -> None:
        self.sent_at.append(self.clock.now)

    record_measurement = emit_event = record_span = record_request = _record


@pytest.mark.parametrize("minutes", [0.25, 1, 10])
def test_the_replay_keeps_to_its_minutes(minutes: float, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools import loadgen

    start = 1_800_000_000.0
    end = start + minutes * 60
    queue = loadgen.actions(
        simulate_window(Scenario(users=3, apps=2, app_requests_per_hour=1200), start, minutes)
    )
    assert queue and all(start <= action.at <= end for action in queue)
    clock = _FakeClock(start)
    monkeypatch.setattr(loadgen, "time", clock)
    sender = _CountingSender(clock)
    lines = list(loadgen.replay(sender, queue, (start, end), 5.0, None))  # type: ignore[arg-type]
    assert clock.now == pytest.approx(end)
    assert len(sender.sent_at) == len(queue) and max(sender.sent_at) <= end
    assert lines[-1].startswith(f"[{minutes * 60:6.0f}s/{minutes * 60:.0f}s]")


def test_a_quarter_minute_run_ends_on_time(
    otlp_receiver: tuple[str, dict[str, list[bytes]]],
) -> None:
    endpoint, received = otlp_receiver
    export_interval = 5.0
    began = time.monotonic()
    process = _run_loadgen(
        "--endpoint", endpoint, "--protocol", "http", "--minutes", "0.25",
        "--export-interval", str(export_interval), "--progress-every", "5",
    )  # fmt: skip
    stdout, stderr = process.communicate(timeout=60)
    elapsed = time.monotonic() - began
    assert process.returncode == 0, stderr
    assert elapsed <= 15 * 1.05 + export_interval, f"took {elapsed:.1f}s"
    assert stdout.rstrip().endswith("done")
    assert received.get("/v1/metrics")


def test_a_stop_ends_the_replay_between_two_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C only sets the flag; the replay stops before the next send, never inside one."""
    from tools import loadgen

    start = 1_800_000_000.0
    end = start + 600
    queue = loadgen.actions(
        simulate_window(Scenario(users=3, apps=2, app_requests_per_hour=1200), start, 10)
    )
    clock = _FakeClock(start)
    monkeypatch.setattr(loadgen, "time", clock)
    sender, stop = _CountingSender(clock), threading.Event()

    def record_then_stop(*_: object) -> None:
        sender.sent_at.append(clock.now)
        if len(sender.sent_at) == 3:
            stop.set()

    sender.record_measurement = sender.emit_event = record_then_stop  # type: ignore[method-assign]
    sender.record_span = sender.record_request = record_then_stop  # type: ignore[method-assign]
    list(loadgen.replay(sender, queue, (start, end), 5.0, None, stop))  # type: ignore[arg-type]
    assert len(sender.sent_at) == 3 < len(queue)
    assert clock.now < end
