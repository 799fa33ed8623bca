"""Steady OTLP/HTTP load whose every accepted item is known: the truth of the resilience test.

Each tick posts one metrics request (delta and cumulative counter streams), one logs request and
one traces request straight to the collector as protobuf, the way an SDK does. A request counts
as accepted only when the collector answers 200; until then it is resent unchanged (an SDK's
retry), so a collector that is restarting delays the load but never changes what was accepted.
"""

from __future__ import annotations

import itertools
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

SERVICE = "steady-load"
# Prometheus names after OTLP translation (monotonic sums get `_total`).
DELTA_METRIC = "steady_load.delta"
CUMULATIVE_METRIC = "steady_load.cumulative"
PROMETHEUS_NAMES = {
    DELTA_METRIC: "steady_load_delta_total",
    CUMULATIVE_METRIC: "steady_load_cumulative_total",
}
STREAMS = ("a", "b", "c")
LOGS_PER_TICK = 5
SPANS_PER_TICK = 5
RESEND_EVERY_SECONDS = 0.2


def _attribute(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


RESOURCE = Resource(attributes=[_attribute("service.name", SERVICE)])


@dataclass
class Accepted:
    """What the collector answered 200 to: the test's expectation."""

    counter_totals: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    log_bodies: list[str] = field(default_factory=list)
    span_ids: list[bytes] = field(default_factory=list)
    requests: int = 0
    resends: int = 0  # attempts the collector did not accept (down, restarting)


class SteadyLoad:
    """Sends a tick every `interval` seconds from a thread until stopped."""

    def __init__(self, endpoint: str, interval: float = 0.5) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.interval = interval
        self.accepted = Accepted()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._sequence = itertools.count()
        self._start_ns = time.time_ns()
        self._last_ns = {stream: self._start_ns for stream in STREAMS}
        self._cumulative = dict.fromkeys(STREAMS, 0)
        self.error: BaseException | None = None

    def __enter__(self) -> SteadyLoad:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                self._tick(next(self._sequence))
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        except BaseException as error:  # surfaced by stop()
            self.error = error

    def _tick(self, sequence: int) -> None:
        now = time.time_ns()
        deltas = {stream: 1 + (sequence + i) % 7 for i, stream in enumerate(STREAMS)}
        if self._post("/v1/metrics", self._metrics(deltas, now)):
            for stream, value in deltas.items():
                self._last_ns[stream] = now
                self._cumulative[stream] += value
                self.accepted.counter_totals[(DELTA_METRIC, stream)] += value
                self.accepted.counter_totals[(CUMULATIVE_METRIC, stream)] += value
        bodies = [f"steady-load {sequence}-{i}" for i in range(LOGS_PER_TICK)]
        if self._post("/v1/logs", self._logs(bodies, now)):
            self.accepted.log_bodies += bodies
        span_ids = [
            (sequence * SPANS_PER_TICK + i + 1).to_bytes(8, "big") for i in range(SPANS_PER_TICK)
        ]
        if self._post("/v1/traces", self._traces(span_ids, now)):
            self.accepted.span_ids += span_ids

    def _post(self, path: str, message: Message) -> bool:
        """Resend until the collector accepts (True) or the load is stopped (False)."""
        body = message.SerializeToString()
        while True:
            request = urllib.request.Request(
                self.endpoint + path,
                data=body,
                headers={"Content-Type": "application/x-protobuf"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        self.accepted.requests += 1
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            self.accepted.resends += 1
            if self._stop.wait(RESEND_EVERY_SECONDS):
                return False

    def _metrics(self, deltas: dict[str, int], now: int) -> ExportMetricsServiceRequest:
        def counter(name: str, temporality: int, points: list[NumberDataPoint]) -> Metric:
            return Metric(
                name=name,
                sum=Sum(data_points=points, aggregation_temporality=temporality, is_monotonic=True),
            )

        delta_points = [
            NumberDataPoint(
                attributes=[_attribute("stream", stream)],
                start_time_unix_nano=self._last_ns[stream],
                time_unix_nano=now,
                as_int=value,
            )
            for stream, value in deltas.items()
        ]
        cumulative_points = [
            NumberDataPoint(
                attributes=[_attribute("stream", stream)],
                start_time_unix_nano=self._start_ns,
                time_unix_nano=now,
                as_int=self._cumulative[stream] + value,
            )
            for stream, value in deltas.items()
        ]
        metrics = [
            counter(
                DELTA_METRIC, AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA, delta_points
            ),
            counter(
                CUMULATIVE_METRIC,
                AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
                cumulative_points,
            ),
        ]
        return ExportMetricsServiceRequest(
            resource_metrics=[
                ResourceMetrics(resource=RESOURCE, scope_metrics=[ScopeMetrics(metrics=metrics)])
            ]
        )

    @staticmethod
    def _logs(bodies: list[str], now: int) -> ExportLogsServiceRequest:
        records = [
            LogRecord(time_unix_nano=now, body=AnyValue(string_value=body)) for body in bodies
        ]
        return ExportLogsServiceRequest(
            resource_logs=[
                ResourceLogs(resource=RESOURCE, scope_logs=[ScopeLogs(log_records=records)])
            ]
        )

    @staticmethod
    def _traces(span_ids: list[bytes], now: int) -> ExportTraceServiceRequest:
        spans = [
            Span(
                trace_id=span_id * 2,
                span_id=span_id,
                name="steady-load",
                kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=now - 1_000_000,
                end_time_unix_nano=now,
            )
            for span_id in span_ids
        ]
        return ExportTraceServiceRequest(
            resource_spans=[ResourceSpans(resource=RESOURCE, scope_spans=[ScopeSpans(spans=spans)])]
        )


def reset_aware_total(values: list[float]) -> float:
    """What a counter counted across resets, from its raw samples in time order (from zero)."""
    total, previous = 0.0, 0.0
    for value in values:
        total += value - previous if value >= previous else value
        previous = value
    return total
