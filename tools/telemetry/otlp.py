"""Send a Traffic live over OTLP with the OpenTelemetry SDK, as the real sources would.

Claude Code's counters and events go out under service.name=claude-code; each app sends its GenAI
and HTTP histograms and a SERVER span with a CLIENT GenAI child per request. Recordings happen when
their time comes (the SDK stamps points with the current time), so a Traffic is replayed in real
time; histogram boundaries are the catalog's, set with views.
"""

import socket
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from tools.telemetry import catalog, genai_generations
from tools.telemetry.events import (
    AppProcess,
    AppRequest,
    ClaudeCodeEvent,
    ClaudeCodeProcess,
    ClaudeCodeSpan,
    Measurement,
    team_attributes,
)
from tools.telemetry.logs import claude_code_event_attributes
from tools.telemetry.storage import CLAUDE_CODE_VERSION

CLAUDE_CODE_INSTRUMENTS = {
    metric.otel_name: metric
    for metric in catalog.CLAUDE_CODE.metrics
    if isinstance(metric, catalog.Instrument)
}


class EndpointUnreachable(RuntimeError):
    """The collector's OTLP port does not accept connections."""


class WrongTransport(EndpointUnreachable):
    """The port accepts connections but speaks the other OTLP transport."""


@dataclass(frozen=True)
class OtlpTarget:
    endpoint: str  # e.g. http://127.0.0.1:4317 (grpc) or http://127.0.0.1:4318 (http)
    protocol: str = "grpc"  # grpc | http
    temporality: str = "cumulative"  # cumulative | delta (Claude Code's default)
    export_interval: float = 15.0
    timeout: float = 5.0

    @property
    def host_port(self) -> tuple[str, int]:
        parsed = urllib.parse.urlsplit(
            self.endpoint if "://" in self.endpoint else f"http://{self.endpoint}"
        )
        default = 4317 if self.protocol == "grpc" else 4318
        return parsed.hostname or "127.0.0.1", parsed.port or default


def _first_answer(connection: socket.socket, host: str) -> bytes:
    """What the port answers to a plain HTTP/1.1 request (b"" when it says nothing in time)."""
    try:
        connection.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        return connection.recv(16)
    except OSError:
        return b""


def check_reachable(target: OtlpTarget, timeout: float = 3.0) -> None:
    """Fail fast, before any SDK retries with backoff for minutes; also when the port speaks
    the other OTLP transport (gRPC needs HTTP/2, OTLP/HTTP answers HTTP/1.1)."""
    host, port = target.host_port
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            plain = urllib.parse.urlsplit(target.endpoint).scheme != "https"
            answer = _first_answer(connection, host) if plain else b""
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise EndpointUnreachable(
            f"cannot reach the OTLP endpoint {host}:{port}: {reason}"
        ) from None
    speaks_http1 = answer.startswith(b"HTTP/1.")
    if target.protocol == "grpc" and speaks_http1:
        raise WrongTransport(
            f"{host}:{port} answers HTTP/1.1, so it is an OTLP/HTTP port, not gRPC: use "
            "--protocol http, or the collector's gRPC port (4317)"
        )
    if target.protocol == "http" and answer and not speaks_http1:
        raise WrongTransport(
            f"{host}:{port} does not answer HTTP/1.1 (a gRPC port?): use --protocol grpc, or "
            "the collector's OTLP/HTTP port (4318)"
        )


def _exporters(target: OtlpTarget) -> tuple[Any, Any, Any]:
    temporality = AggregationTemporality.DELTA if target.temporality == "delta" else None
    preferred = {Counter: temporality, Histogram: temporality} if temporality else None
    if target.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        options = {"endpoint": target.endpoint, "insecure": True, "timeout": target.timeout}
        return (
            OTLPMetricExporter(preferred_temporality=preferred, **options),
            OTLPSpanExporter(**options),
            OTLPLogExporter(**options),
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base = target.endpoint.rstrip("/")
    return (
        OTLPMetricExporter(
            endpoint=f"{base}/v1/metrics", preferred_temporality=preferred, timeout=target.timeout
        ),
        OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=target.timeout),
        OTLPLogExporter(endpoint=f"{base}/v1/logs", timeout=target.timeout),
    )


@dataclass
class ExportStats:
    failures: int = 0
    exports: int = 0

    def watch(self, exporter: Any) -> Any:
        """Count failed exports: the SDK only logs them."""
        export = exporter.export

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = export(*args, **kwargs)
            self.exports += 1
            if getattr(result, "name", "SUCCESS") != "SUCCESS":
                self.failures += 1
            return result

        exporter.export = counted
        return exporter


class _PresetIds(IdGenerator):
    """Gives the ids the generator chose for the next span, so parents and children keep theirs;
    random ones when none is set (the apps' spans)."""

    def __init__(self) -> None:
        self.span_id = 0
        self.trace_id = 0
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        chosen, self.span_id = self.span_id, 0
        return chosen or self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        chosen, self.trace_id = self.trace_id, 0
        return chosen or self._random.generate_trace_id()


def _views() -> list[View]:
    histograms = [
        m
        for m in (*catalog.GENAI_APPS.metrics, *catalog.GENAI_GENERATIONS.metrics)
        if isinstance(m, catalog.Instrument) and m.metric_type is catalog.MetricType.HISTOGRAM
    ]
    return [
        View(
            instrument_name=metric.otel_name,
            aggregation=ExplicitBucketHistogramAggregation(boundaries=list(metric.buckets)),
        )
        for metric in histograms
    ]


def _source_resource(attributes: dict[str, str]) -> Resource:
    """The SDK's resource minus the random service.instance.id the SDK (1.45) adds when the source
    sets none: Claude Code sends none, so its series have no `instance` label."""
    resource = Resource.create(attributes)
    if SERVICE_INSTANCE_ID in attributes:
        return resource
    kept = {k: v for k, v in resource.attributes.items() if k != SERVICE_INSTANCE_ID}
    return Resource(kept, resource.schema_url)


@dataclass
class _Pipeline:
    meters: MeterProvider
    tracers: TracerProvider | None
    logs: LoggerProvider | None
    instruments: dict[str, Any] = field(default_factory=dict)
    ids: _PresetIds | None = None


class OtlpSender:
    """Sends Claude Code and app telemetry to one OTLP endpoint."""

    def __init__(self, target: OtlpTarget) -> None:
        self.target = target
        self.stats = ExportStats()
        self._pipelines: dict[str, _Pipeline] = {}

    def _pipeline(
        self, key: str, resource: dict[str, str], with_traces: bool, with_logs: bool
    ) -> _Pipeline:
        if key in self._pipelines:
            return self._pipelines[key]
        metric_exporter, span_exporter, log_exporter = _exporters(self.target)
        reader = PeriodicExportingMetricReader(
            self.stats.watch(metric_exporter),
            export_interval_millis=self.target.export_interval * 1000,
            export_timeout_millis=self.target.timeout * 1000,
        )
        attributes = _source_resource(resource)
        meters = MeterProvider(resource=attributes, metric_readers=[reader], views=_views())
        tracers = logs = ids = None
        if with_traces:
            ids = _PresetIds()
            tracers = TracerProvider(resource=attributes, id_generator=ids)
            tracers.add_span_processor(BatchSpanProcessor(self.stats.watch(span_exporter)))
        if with_logs:
            logs = LoggerProvider(resource=attributes)
            logs.add_log_record_processor(BatchLogRecordProcessor(self.stats.watch(log_exporter)))
        pipeline = _Pipeline(meters, tracers, logs, ids=ids)
        self._pipelines[key] = pipeline
        return pipeline

    def _claude_code(self, process: ClaudeCodeProcess) -> _Pipeline:
        """One pipeline per service (the CLI or Claude Code Desktop) and team: the team is a
        resource attribute, set per laptop through OTEL_RESOURCE_ATTRIBUTES."""
        team = team_attributes(process.user)
        resource = {
            "service.name": process.service,
            "service.version": CLAUDE_CODE_VERSION,
            **dict(team),
        }
        key = "/".join([process.service, *(value for _, value in team)])
        return self._pipeline(key, resource, with_traces=True, with_logs=True)

    def _app(self, process: AppProcess) -> _Pipeline:
        resource = {
            "service.name": process.service,
            "service.version": process.version,
            "service.instance.id": process.instance,
            "deployment.environment.name": "production",
        }
        resource.update(team_attributes(process))
        return self._pipeline(process.instance, resource, with_traces=True, with_logs=False)

    @staticmethod
    def _instrument(pipeline: _Pipeline, metric: catalog.Instrument) -> Any:
        if metric.otel_name not in pipeline.instruments:
            meter = pipeline.meters.get_meter("llm-o11y.loadgen")
            create: Callable[..., Any] = (
                meter.create_counter
                if metric.metric_type is catalog.MetricType.COUNTER
                else meter.create_histogram
            )
            pipeline.instruments[metric.otel_name] = create(
                metric.otel_name, unit=metric.unit, description=metric.description
            )
        return pipeline.instruments[metric.otel_name]

    def record_measurement(self, measurement: Measurement) -> None:
        pipeline = self._claude_code(measurement.process)
        metric = CLAUDE_CODE_INSTRUMENTS[measurement.instrument]
        process, user = measurement.process, measurement.process.user
        attributes = {
            **dict(measurement.attributes),
            "session.id": process.session_id,
            "user.account_uuid": user.account_uuid,
            "user.email": user.email,
            "organization.id": user.organization_id,
            "terminal.type": user.terminal_type,
        }
        self._instrument(pipeline, metric).add(measurement.value, attributes)

    def emit_event(self, event: ClaudeCodeEvent) -> None:
        pipeline = self._claude_code(event.process)
        assert pipeline.logs is not None
        logger = pipeline.logs.get_logger("com.anthropic.claude_code.events")
        logger.emit(
            timestamp=int(event.time * 1e9),
            severity_number=SeverityNumber.INFO,
            body=f"claude_code.{event.name}",
            attributes=claude_code_event_attributes(event),
        )

    def record_span(self, span: ClaudeCodeSpan) -> None:
        """One of Claude Code's beta-trace spans, with the ids and parent the generator gave it."""
        pipeline = self._claude_code(span.process)
        assert pipeline.tracers is not None and pipeline.ids is not None
        context = None
        if span.parent_id is not None:
            parent = SpanContext(
                span.trace_id,
                span.parent_id,
                is_remote=False,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            context = trace.set_span_in_context(trace.NonRecordingSpan(parent))
        pipeline.ids.trace_id, pipeline.ids.span_id = span.trace_id, span.span_id
        tracer = pipeline.tracers.get_tracer("com.anthropic.claude_code.tracing")
        started = tracer.start_span(
            span.name,
            context=context,
            start_time=int(span.start * 1e9),
            attributes={**dict(span.attributes), "session.id": span.process.session_id},
        )
        if span.failed:
            started.set_status(Status(StatusCode.ERROR))
        started.end(end_time=int(span.end * 1e9))

    def _record_generation(self, pipeline: _Pipeline, request: AppRequest) -> None:
        for instrument, attributes, value in genai_generations.recordings(request):
            recorder = self._instrument(pipeline, instrument)
            if instrument.metric_type is catalog.MetricType.COUNTER:
                recorder.add(value, attributes)
            else:
                recorder.record(value, attributes)

    def record_request(self, request: AppRequest) -> None:
        pipeline = self._app(request.process)
        if request.process.conventions in genai_generations.GENERATIONS:
            self._record_generation(pipeline, request)
            genai = genai_generations.genai_attributes(request)
            http = genai_generations.http_attributes(request)
            self._spans(pipeline, request, genai, http)
            return
        llm = request.llm
        genai = {
            "gen_ai.operation.name": llm.operation,
            "gen_ai.provider.name": llm.provider,
            "gen_ai.request.model": llm.model,
            "gen_ai.response.model": llm.model,
        }
        if not llm.error_type:
            tokens = self._instrument(pipeline, catalog.GENAI_TOKEN_USAGE)
            tokens.record(llm.input_tokens, {**genai, "gen_ai.token.type": "input"})
            tokens.record(llm.output_tokens, {**genai, "gen_ai.token.type": "output"})
            self._instrument(pipeline, catalog.GENAI_USAGE_COST).record(llm.cost_usd, genai)
        error = {"error.type": llm.error_type} if llm.error_type else {}
        self._instrument(pipeline, catalog.GENAI_OPERATION_DURATION).record(
            llm.duration, {**genai, **error}
        )
        http = {
            "http.request.method": request.method,
            "http.route": request.route,
            "http.response.status_code": request.status_code,
            "url.scheme": "http",
        }
        if request.status_code >= 500:
            http["error.type"] = str(request.status_code)
        self._instrument(pipeline, catalog.HTTP_SERVER_DURATION).record(request.duration, http)
        self._spans(pipeline, request, genai, http)

    @staticmethod
    def _spans(pipeline: _Pipeline, request: AppRequest, genai: dict, http: dict) -> None:
        assert pipeline.tracers is not None
        tracer = pipeline.tracers.get_tracer("llm-o11y.loadgen")
        llm = request.llm
        server = tracer.start_span(
            f"{request.method} {request.route}",
            kind=SpanKind.SERVER,
            start_time=int(request.time * 1e9),
            attributes={**http, "user.id": request.user},
        )
        client = tracer.start_span(
            f"{llm.operation} {llm.model}",
            context=trace.set_span_in_context(server),
            kind=SpanKind.CLIENT,
            start_time=int(llm.start * 1e9),
            attributes={
                **genai,
                "gen_ai.usage.input_tokens": llm.input_tokens,
                "gen_ai.usage.output_tokens": llm.output_tokens,
                "gen_ai.usage.cost": llm.cost_usd,
                "peer.service": llm.provider,
                **({"error.type": llm.error_type} if llm.error_type else {}),
            },
        )
        if llm.error_type:
            client.set_status(Status(StatusCode.ERROR, llm.error_type))
        client.end(end_time=int((llm.start + llm.duration) * 1e9))
        if request.status_code >= 500:
            server.set_status(Status(StatusCode.ERROR))
        server.end(end_time=int((request.time + request.duration) * 1e9))

    def flush(self, deadline_seconds: float = 10.0) -> None:
        """Export everything recorded so far now: one metrics export per pipeline (with delta
        temporality, one batch of deltas), plus buffered spans and logs. Bounded by the deadline."""
        until = time.monotonic() + deadline_seconds
        for pipeline in self._pipelines.values():
            remaining = max(int((until - time.monotonic()) * 1000), 1)
            pipeline.meters.force_flush(timeout_millis=remaining)
            if pipeline.tracers:
                pipeline.tracers.force_flush(timeout_millis=remaining)
            if pipeline.logs:
                pipeline.logs.force_flush(timeout_millis=remaining)

    def shutdown(self, deadline_seconds: float = 10.0) -> None:
        """Flush what is buffered and stop; bounded so Ctrl-C never hangs."""
        self.flush(deadline_seconds)
        for pipeline in self._pipelines.values():
            pipeline.meters.shutdown(timeout_millis=1000)
            if pipeline.tracers:
                pipeline.tracers.shutdown()
            if pipeline.logs:
                pipeline.logs.shutdown()
