"""End to end through the real collector: the load generator's OTLP sender, our collector config,
a real Prometheus 3.x (its OTLP receiver, the production path) and stand-ins for Loki and Tempo.

What arrives must be what docs/telemetry.md promises: every metric name and label of the OTLP
sources; delta counters (Claude Code's default) and delta histograms as correct cumulative totals;
the log and span attributes the dashboards filter on; the JSONL cost lines; and the collector's
own otelcol_* metrics as Prometheus scrapes them. One run of the processes serves every test.
Names that never pass through the collector are listed in NOT_THROUGH_THE_COLLECTOR, with why.
"""

import contextlib
import dataclasses
import itertools
import json
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.support.external import REPO_ROOT, find_tool
from tests.support.otlp_capture import (
    CapturedLog,
    CapturedSpan,
    OtlpGrpcTraceCapture,
    OtlpHttpCapture,
)
from tests.support.pipeline import (
    CollectorPorts,
    Process,
    collector_port_override,
    poll_until,
    require_prometheus_version,
    start_collector,
    start_prometheus,
)
from tests.support.telemetry_doc import (
    DocumentedMetric,
    documented_event_metadata,
    documented_metrics,
    documented_spans,
)
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.ports import free_port
from tools.querylab.prometheus import PrometheusServer, Series
from tools.telemetry import catalog, genai_generations
from tools.telemetry.events import (
    AppProcess,
    AppRequest,
    ClaudeCodeEvent,
    ClaudeCodeProcess,
    ClaudeCodeSpan,
    ClaudeCodeUser,
    LlmCall,
    Measurement,
    Traffic,
)
from tools.telemetry.logs import jsonl_records
from tools.telemetry.naming import prometheus_label_name
from tools.telemetry.otlp import OtlpSender, OtlpTarget
from tools.telemetry.storage import CLAUDE_CODE_VERSION

COLLECTOR_CONFIGS = REPO_ROOT / "configs" / "otel-collector"
TEMPO_CONFIG = REPO_ROOT / "configs" / "tempo" / "tempo.yaml"

# --- the contract, read from docs/telemetry.md ------------------------------------------------


def source_series(*sources: catalog.Source) -> dict[str, catalog.Source]:
    return {
        name: source
        for source in sources
        for metric in source.metrics
        for name in catalog.series_names(metric)
    }


# OTLP from apps: through the collector's metrics pipeline into Prometheus's OTLP receiver.
THROUGH_THE_COLLECTOR = source_series(
    catalog.CLAUDE_CODE, catalog.GENAI_APPS, catalog.GENAI_GENERATIONS
)
# Scraped by the test's Prometheus from the collector and from itself (jobs of prometheus.yml).
COLLECTOR_SELF_METRICS = frozenset(
    metric.name for metric in catalog.STACK_HEALTH.metrics if metric.name.startswith("otelcol_")
)
NOT_THROUGH_THE_COLLECTOR: dict[str, str] = {
    **dict.fromkeys(
        source_series(catalog.TEMPO_METRICS),
        "Tempo's metrics-generator remote-writes it to Prometheus; no Tempo binary here",
    ),
    catalog.LOKI_LINES_RECEIVED.name: "Loki's own metric, scraped from Loki; no Loki binary here",
    catalog.TEMPO_SPANS_RECEIVED.name: "Tempo's own metric, scraped from Tempo; no Tempo binary",
}
# `up` and Prometheus's own metrics (process_* too: every Go service exposes them).
PROMETHEUS_SELF_METRICS = (
    frozenset(metric.name for metric in catalog.STACK_HEALTH.metrics)
    - COLLECTOR_SELF_METRICS
    - set(NOT_THROUGH_THE_COLLECTOR)
)
# Prometheus's OTLP receiver adds one per resource; not a metric the dashboards read.
RESOURCE_INFO_SERIES = "target_info"


def test_every_documented_metric_is_checked_here_or_said_why_not() -> None:
    groups = (
        set(THROUGH_THE_COLLECTOR),
        COLLECTOR_SELF_METRICS,
        PROMETHEUS_SELF_METRICS,
        set(NOT_THROUGH_THE_COLLECTOR),
    )

    assert set(documented_metrics()) == set().union(*groups)
    assert sum(map(len, groups)) == len(set().union(*groups)), "a name is in two groups"


def test_documented_otlp_labels_are_the_catalog_attributes() -> None:
    documented = documented_metrics()

    for source in (catalog.CLAUDE_CODE, catalog.GENAI_APPS, catalog.GENAI_GENERATIONS):
        for metric in source.metrics:
            for name in catalog.series_names(metric):
                assert documented[name].labels == set(metric.labels), name


# --- what the test sends ----------------------------------------------------------------------

BATCHES = 10
MODEL = "claude-sonnet-4-5-20250929"
# Values for attributes whose values the doc does not list.
ATTRIBUTE_VALUES = {
    "model": MODEL,
    "tool_name": "Edit",
    "language": "Python",
    "agent.name": "Explore",
    "skill.name": "frontend-design",
    "plugin.name": "frontend-design",
    "marketplace.name": "claude-plugins-official",
    "mcp_server.name": "github",
    "mcp_tool.name": "create_pull_request",
    "app.version": CLAUDE_CODE_VERSION,
    "app.entrypoint": "cli",
}
EVENT_ATTRIBUTE_VALUES: dict[str, str | int | float | bool] = {
    "prompt_length": 42,
    "response_length": 420,
    "tool_name": "Bash",
    "tool_use_id": "toolu_01",
    "success": True,
    "duration_ms": 1234,
    "decision_type": "accept",
    "decision_source": "config",
    "model": MODEL,
    "query_source": "repl_main_thread",
    "speed": "normal",
    "cost_usd": 0.0123,
    "input_tokens": 1000,
    "output_tokens": 200,
    "cache_read_tokens": 5000,
    "cache_creation_tokens": 300,
    "error": "Overloaded",
    "status_code": 529,
    "attempt": 2,
    "server_fallback_hop": False,
    "total_attempts": 11,
    "total_retry_duration_ms": 60000,
    "decision": "accept",
    "source": "config",
    "from_mode": "default",
    "to_mode": "acceptEdits",
    "trigger": "shift_tab",
    "action": "login",
    "auth_method": "oauth",
    "status": "connected",
    "transport_type": "stdio",
    "server_scope": "user",
    "is_plugin": False,
    "error_name": "TypeError",
    "error_code": "ENOENT",
    "marketplace.is_official": True,
    "install.trigger": "cli",
    "plugin.name": "frontend-design",
    "marketplace.name": "claude-plugins-official",
    "plugin.scope": "official",
    "enabled_via": "user-install",
    "plugin_id_hash": "9f2c41d07a5b3e68",
    "has_hooks": False,
    "has_mcp": False,
    "skill.name": "pdf",
    "invocation_trigger": "user-slash",
    "skill.source": "bundled",
    "mention_type": "file",
    "hook_event": "PreToolUse",
    "hook_type": "command",
    "hook_source": "userSettings",
    "hook_name": "PreToolUse:Bash",
    "num_hooks": 1,
    "num_success": 1,
    "num_blocking": 0,
    "num_non_blocking_error": 0,
    "num_cancelled": 0,
    "total_duration_ms": 150,
    "pre_tokens": 180000,
    "post_tokens": 27000,
    "agent.name": "Explore",
}
SPAN_ATTRIBUTE_VALUES: dict[str, str | int | float | bool] = {
    **EVENT_ATTRIBUTE_VALUES,
    "user_prompt": "<REDACTED>",
    "user_prompt_length": 42,
    "interaction.duration_ms": 5000,
    "gen_ai.system": "anthropic",
    "gen_ai.request.model": MODEL,
    "ttft_ms": 640,
    "attempt": 1,
}
TEMPORALITIES = ("delta", "cumulative")
# Each temporality carries apps on each generation of the GenAI conventions.
APP_SERVICES = {
    "delta": (("support-bot", "v1.37"), ("research-agent", "2026"), ("legacy-bot", "v1.36")),
    "cumulative": (("pr-review-bot", "v1.37"), ("assistant-core", "agento11y")),
}
# Claude Code Desktop writes the cumulative session, the CLI the delta one.
CLAUDE_CODE_SERVICES = {
    "delta": catalog.CLAUDE_CODE_SERVICE,
    "cumulative": catalog.CLAUDE_CODE_DESKTOP_SERVICE,
}
APP_VERSION = "1.4.2"
OTLP_JOBS = (
    *catalog.CLAUDE_CODE_SERVICES,
    *(service for apps in APP_SERVICES.values() for service, _ in apps),
)
MINIMAL_JSONL_LINE = (
    '{"model":"gpt-4o-mini","prompt_tokens":12,"completion_tokens":3,"cost_usd":0.0001}'
)
WAIT_SECONDS = 30.0  # the collector's batch processor alone holds data for up to 5 s


@dataclass
class Plan:
    """Everything the senders record, and what Prometheus should hold afterwards."""

    measurements: dict[str, list[list[Measurement]]]  # temporality -> batch -> recordings
    requests: dict[str, list[list[AppRequest]]]  # temporality -> batch -> requests
    events: list[ClaudeCodeEvent]
    spans: list[ClaudeCodeSpan]
    jsonl_lines: list[str]
    sessions: dict[str, str]  # temporality -> session.id

    def all_requests(self) -> list[AppRequest]:
        return [r for batches in self.requests.values() for batch in batches for r in batch]

    def claude_code_totals(self) -> dict[tuple[str, str, frozenset], float]:
        """(Prometheus name, session_id, extra labels) -> the sum of what was recorded."""
        totals: dict[tuple[str, str, frozenset], float] = defaultdict(float)
        for batches in self.measurements.values():
            for measurement in itertools.chain.from_iterable(batches):
                metric = instrument(measurement.instrument)
                labels = frozenset(
                    (prometheus_label_name(key), value) for key, value in measurement.attributes
                )
                key = (metric.prometheus_name, measurement.process.session_id, labels)
                totals[key] += measurement.value
        return dict(totals)

    def cost_series(self, temporality: str) -> tuple[tuple[str, str], ...]:
        """The attributes of the first cost series of a session (it has one per combination)."""
        first = self.measurements[temporality][0]
        return next(m.attributes for m in first if m.instrument == "claude_code.cost.usage")

    def running_cost(self, temporality: str) -> list[float]:
        """The first cost series' cumulative value after each batch."""
        attributes = self.cost_series(temporality)
        sums, total = [], 0.0
        for batch in self.measurements[temporality]:
            total += sum(
                m.value
                for m in batch
                if m.instrument == "claude_code.cost.usage" and m.attributes == attributes
            )
            sums.append(total)
        return sums


def instrument(otel_name: str) -> catalog.Instrument:
    for metric in catalog.CLAUDE_CODE.metrics:
        if isinstance(metric, catalog.Instrument) and metric.otel_name == otel_name:
            return metric
    raise KeyError(otel_name)


def claude_code_attribute_sets(
    metric: catalog.Instrument, documented: DocumentedMetric
) -> list[tuple[tuple[str, str], ...]]:
    """One attribute set per combination of the values the doc lists for the metric's labels."""
    own = [a for a in metric.attributes if a not in catalog.CLAUDE_CODE_COMMON_ATTRIBUTES]
    choices = [
        sorted(documented.values.get(prometheus_label_name(a)) or [ATTRIBUTE_VALUES[a]])
        for a in own
    ]
    return [
        tuple(zip(own, combination, strict=True)) for combination in itertools.product(*choices)
    ]


def claude_code_value(metric: catalog.Instrument, batch: int) -> float:
    per_unit = {"USD": 0.0137, "s": 1.5}
    return round((batch + 1) * per_unit.get(metric.unit, 3), 4)


def with_agent_usage(llm: LlmCall, batch: int) -> LlmCall:
    """Cached, reasoning and tool use of an app on another generation of the conventions."""
    if llm.error_type:
        return llm
    return dataclasses.replace(
        llm,
        cache_read_tokens=500 * (batch + 1),
        cache_write_tokens=50 * (batch + 1) + 1,
        reasoning_tokens=10 * (batch + 1),
        time_to_first_token=0.1 + 0.01 * batch,
        tool_durations=(0.2, 0.3 + 0.01 * batch),
        agent="researcher",
    )


def app_requests(process: AppProcess, batch: int, now: float) -> list[AppRequest]:
    """A successful call and a failed one (provider error, 502 to the user) per batch."""
    requests = []
    for failed in (False, True):
        start = now + batch + (0.5 if failed else 0.0)
        llm = LlmCall(
            model=MODEL,
            provider="anthropic",
            operation="chat",
            input_tokens=0 if failed else 100 * (batch + 1) + 7,
            output_tokens=0 if failed else 40 * (batch + 1) + 3,
            cost_usd=0.0 if failed else 0.0021 * (batch + 1),
            start=start + 0.01,
            duration=0.25 + 0.05 * batch,
            error_type="overloaded_error" if failed else None,
        )
        if process.conventions != "v1.37":
            llm = with_agent_usage(llm, batch)
        requests.append(
            AppRequest(
                process=process,
                time=start,
                method="POST",
                route="/v1/chat",
                status_code=502 if failed else 200,
                duration=llm.duration + 0.02,
                llm=llm,
                trace_id=0,
                user=f"user-{batch}",
                writes_jsonl=not failed,
            )
        )
    return requests


def make_plan(now: float) -> Plan:
    documented = documented_metrics()
    user = ClaudeCodeUser("dev@example.com", "account-uuid-1", "org-1", "vscode")
    measurements: dict[str, list[list[Measurement]]] = {}
    requests: dict[str, list[list[AppRequest]]] = {}
    sessions = {}
    events: list[ClaudeCodeEvent] = []
    spans: list[ClaudeCodeSpan] = []
    for temporality in TEMPORALITIES:
        service = CLAUDE_CODE_SERVICES[temporality]
        session = ClaudeCodeProcess(f"{temporality}-session", user, now, now + 60, service)
        sessions[temporality] = session.session_id
        apps = [
            AppProcess(name, f"{name}-1", APP_VERSION, now, now, conventions)
            for name, conventions in APP_SERVICES[temporality]
        ]
        measurements[temporality] = [
            [
                Measurement(
                    now, session, metric.otel_name, attributes, claude_code_value(metric, b)
                )
                for metric in catalog.CLAUDE_CODE.metrics
                if isinstance(metric, catalog.Instrument)
                for attributes in claude_code_attribute_sets(
                    metric, documented[metric.prometheus_name]
                )
            ]
            for b in range(BATCHES)
        ]
        requests[temporality] = [
            [request for app in apps for request in app_requests(app, b, now)]
            for b in range(BATCHES)
        ]
        spans += claude_code_trace(session, now, len(spans) + 1)
        events += [
            ClaudeCodeEvent(now, session, name, tuple((k, EVENT_ATTRIBUTE_VALUES[k]) for k in keys))
            for name, keys in catalog.CLAUDE_CODE_EVENTS.items()
        ]
    successful = [r for r in requests["delta"][0] + requests["delta"][1] if not r.llm.error_type]
    records = jsonl_records(Traffic((), (), (), (), tuple(successful), ()))
    lines = [json.dumps(record, separators=(",", ":")) for record in records]
    return Plan(measurements, requests, events, spans, [*lines, MINIMAL_JSONL_LINE], sessions)


def claude_code_trace(
    session: ClaudeCodeProcess, now: float, first_id: int
) -> list[ClaudeCodeSpan]:
    """One beta trace with a span of every kind: interaction -> llm_request, hook, tool ->
    blocked_on_user, execution."""
    ids = {name: first_id + index for index, name in enumerate(catalog.CLAUDE_CODE_SPANS)}
    parents = {
        "claude_code.interaction": None,
        "claude_code.llm_request": ids["claude_code.interaction"],
        "claude_code.hook": ids["claude_code.interaction"],
        "claude_code.tool": ids["claude_code.interaction"],
        "claude_code.tool.blocked_on_user": ids["claude_code.tool"],
        "claude_code.tool.execution": ids["claude_code.tool"],
    }
    return [
        ClaudeCodeSpan(
            session,
            name,
            now,
            now + 1.0,
            trace_id=0xC1A0DE000 + first_id,
            span_id=ids[name],
            parent_id=parents[name],
            attributes=tuple(
                ("span.type", name.removeprefix("claude_code."))
                if key == "span.type"
                else (key, SPAN_ATTRIBUTE_VALUES[key])
                for key in keys
            ),
        )
        for name, keys in catalog.CLAUDE_CODE_SPANS.items()
    ]


def send(plan: Plan, senders: Mapping[str, OtlpSender]) -> None:
    """Each batch is recorded, then exported at once: with delta temporality one batch of deltas."""
    for batch in range(BATCHES):
        for temporality, sender in senders.items():
            for measurement in plan.measurements[temporality][batch]:
                sender.record_measurement(measurement)
            for request in plan.requests[temporality][batch]:
                sender.record_request(request)
        if batch == 0:
            for event in plan.events:
                senders["delta"].emit_event(event)
            for span in plan.spans:
                senders["delta"].record_span(span)
        # Prometheus keeps one sample per millisecond: a stream's start-time zero and its first
        # value in the same millisecond collide (the zero wins), as real 60 s exports never do.
        time.sleep(0.002)
        for sender in senders.values():
            sender.flush()
    for sender in senders.values():
        sender.shutdown()
        assert sender.stats.failures == 0, "the collector refused an export"


# --- one run of the whole pipeline -------------------------------------------------------------


@dataclass(repr=False)  # failure messages stay short
class PipelineRun:
    plan: Plan
    otlp_series: list[Series]  # every series of the OTLP jobs, at the end
    cost_samples: dict[str, list[float]]  # session id -> raw samples of the cost counter
    self_series: list[Series]  # jobs otel-collector and prometheus
    logs: list[CapturedLog]
    spans: list[CapturedSpan]
    healthy_collector: str  # `instance` of the collector under test
    rejecting_collector: str  # `instance` of the collector whose backends refuse everything
    prometheus_port: int


def prometheus_binary() -> str:
    binary = find_tool("prometheus", PROMETHEUS_HINT)
    require_prometheus_version(binary)
    return binary


def cost_samples(
    prometheus: PrometheusServer, session: str, attributes: tuple[tuple[str, str], ...]
) -> list[float]:
    matchers = "".join(f', {prometheus_label_name(k)}="{v}"' for k, v in attributes)
    expr = f'claude_code_cost_usage_USD_total{{session_id="{session}"{matchers}}}[10m]'
    result = prometheus.query(expr, time.time())
    assert len(result) <= 1, "the cost series' labels do not tell one series"
    return [float(value) for _, value in result[0]["values"]] if result else []


def arrived_in_prometheus(prometheus: PrometheusServer, plan: Plan) -> bool:
    series = prometheus.query(f'{{job=~"{"|".join(OTLP_JOBS)}"}}', time.time())
    return not claude_code_mismatches(series, plan) and not histogram_mismatches(series, plan)


def self_metrics_settled(prometheus: PrometheusServer, run: PipelineRun) -> bool:
    """Prometheus has scraped itself (its first scrape comes about 5 s after start), and the
    collectors' own counters account for everything sent (either name form, so that a naming
    mismatch fails in the test that checks names rather than here)."""
    healthy = prometheus.query(
        f'{{instance="{run.healthy_collector}", '
        '__name__=~"otelcol_exporter_sent_(spans|log_records|metric_points)(_total)?"}',
        time.time(),
    )
    sent = {s["metric"]["exporter"]: float(s["value"][1]) for s in healthy}
    accepted = prometheus.query(
        f'sum({{instance="{run.healthy_collector}", '
        '__name__=~"otelcol_receiver_accepted_metric_points(_total)?"})',
        time.time(),
    )
    failed = prometheus.query(
        f'{{instance="{run.rejecting_collector}", __name__=~"otelcol_exporter_send_failed_.+"}}',
        time.time(),
    )
    own = prometheus.query(
        f'{{job="prometheus", __name__=~"{"|".join(sorted(PROMETHEUS_SELF_METRICS))}"}}',
        time.time(),
    )
    return (
        {s["metric"]["__name__"] for s in own} == PROMETHEUS_SELF_METRICS
        and sent.get("otlp_grpc/tempo") == len(run.spans)
        and sent.get("otlp_http/loki") == len(run.logs)
        and bool(accepted)
        and sent.get("otlp_http/prometheus") == float(accepted[0]["value"][1])
        and len({s["metric"]["exporter"] for s in failed}) == 3
    )


def send_to_rejecting_collector(otlp_grpc: int, plan: Plan) -> None:
    sender = OtlpSender(OtlpTarget(f"http://127.0.0.1:{otlp_grpc}", "grpc", "cumulative", 3600))
    sender.record_measurement(plan.measurements["cumulative"][0][0])
    sender.record_request(plan.requests["cumulative"][0][0])
    sender.emit_event(plan.events[0])
    sender.shutdown()


@dataclass(frozen=True)
class Backends:
    """Where a collector's three exporters point (the env variables config.yaml reads)."""

    prometheus_otlp: str
    loki_otlp: str
    tempo_otlp: str

    def env(self) -> dict[str, str]:
        return {
            "PROMETHEUS_OTLP_ENDPOINT": self.prometheus_otlp,
            "LOKI_OTLP_ENDPOINT": self.loki_otlp,
            "TEMPO_OTLP_ENDPOINT": self.tempo_otlp,
        }


def start_our_collector(
    otelcol: Path, ports: CollectorPorts, backends: Backends, plan: Plan, workdir: Path
) -> Process:
    """config.yaml and jsonl-logs.yaml, as the local stack runs them with a JSONL folder."""
    jsonl_dir = workdir / "jsonl"
    jsonl_dir.mkdir(parents=True)
    (jsonl_dir / "llm-cost.jsonl").write_text("\n".join(plan.jsonl_lines) + "\n")
    override = collector_port_override(ports)
    # The folder the stack mounts at /var/log/llm-cost.
    override["receivers"]["file_log/llm_cost"] = {"include": [f"{jsonl_dir}/*.jsonl"]}
    env = {**backends.env(), "OTELCOL_FILE_STORAGE_DIR": str(workdir / "file_storage")}
    configs = (COLLECTOR_CONFIGS / "config.yaml", COLLECTOR_CONFIGS / "jsonl-logs.yaml")
    return start_collector(
        otelcol, configs, override, env, workdir, f"http://127.0.0.1:{ports.health}/-/healthy"
    )


def start_rejecting_collector(
    otelcol: Path, ports: CollectorPorts, backends: Backends, workdir: Path
) -> Process:
    return start_collector(
        otelcol,
        (COLLECTOR_CONFIGS / "config.yaml",),
        collector_port_override(ports),
        backends.env(),
        workdir,
        f"http://127.0.0.1:{ports.health}/-/healthy",
    )


def otlp_senders(ports: CollectorPorts) -> dict[str, OtlpSender]:
    """Claude Code's default (delta, here over OTLP/HTTP) and the SDKs' (cumulative, gRPC);
    exports happen only when `send` flushes."""
    return {
        "delta": OtlpSender(
            OtlpTarget(f"http://127.0.0.1:{ports.otlp_http}", "http", "delta", 3600)
        ),
        "cumulative": OtlpSender(
            OtlpTarget(f"http://127.0.0.1:{ports.otlp_grpc}", "grpc", "cumulative", 3600)
        ),
    }


@pytest.fixture(scope="module")
def pipeline(otelcol: Path) -> PipelineRun:
    """Prometheus, our collector, a collector whose backends refuse everything, and the captures;
    the traffic sent and waited for; what arrived kept; every process stopped again."""
    binary = prometheus_binary()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="llm-o11y-")))
        loki = stack.enter_context(OtlpHttpCapture())
        tempo = stack.enter_context(OtlpGrpcTraceCapture())
        refusing_http = stack.enter_context(OtlpHttpCapture(reject=True))
        refusing_grpc = stack.enter_context(OtlpGrpcTraceCapture(reject=True))
        ours, rejecting = CollectorPorts.free(), CollectorPorts.free()
        prometheus_port = free_port()
        targets = {
            "prometheus": [f"127.0.0.1:{prometheus_port}"],
            "otel-collector": [f"127.0.0.1:{ours.telemetry}", f"127.0.0.1:{rejecting.telemetry}"],
        }
        prometheus, prometheus_process = start_prometheus(binary, workdir, prometheus_port, targets)
        stack.callback(prometheus_process.stop)
        plan = make_plan(time.time())
        backends = Backends(f"{prometheus.url}/api/v1/otlp", loki.endpoint, tempo.endpoint)
        collector = start_our_collector(otelcol, ours, backends, plan, workdir / "ours")
        stack.callback(collector.stop)
        refused = Backends(refusing_http.endpoint, refusing_http.endpoint, refusing_grpc.endpoint)
        refusing = start_rejecting_collector(otelcol, rejecting, refused, workdir / "rejecting")
        stack.callback(refusing.stop)

        send(plan, otlp_senders(ours))
        send_to_rejecting_collector(rejecting.otlp_grpc, plan)

        expected_logs = len(plan.events) + len(plan.jsonl_lines)
        expected_spans = 2 * len(plan.all_requests()) + len(plan.spans)
        poll_until(
            lambda: len(loki.logs()) >= expected_logs and len(tempo.spans()) >= expected_spans,
            WAIT_SECONDS,
        )
        poll_until(lambda: arrived_in_prometheus(prometheus, plan), WAIT_SECONDS)
        run = PipelineRun(
            plan=plan,
            otlp_series=prometheus.query(f'{{job=~"{"|".join(OTLP_JOBS)}"}}', time.time()),
            cost_samples={
                session: cost_samples(prometheus, session, plan.cost_series(temporality))
                for temporality, session in plan.sessions.items()
            },
            self_series=[],
            logs=loki.logs(),
            spans=tempo.spans(),
            healthy_collector=f"127.0.0.1:{ours.telemetry}",
            rejecting_collector=f"127.0.0.1:{rejecting.telemetry}",
            prometheus_port=prometheus_port,
        )
        poll_until(lambda: self_metrics_settled(prometheus, run), WAIT_SECONDS)
        run.self_series = prometheus.query('{job=~"otel-collector|prometheus"}', time.time())
        for process in (prometheus_process, collector, refusing):
            process.check_running()
    return run


# --- metrics in Prometheus --------------------------------------------------------------------


def claude_code_mismatches(series: list[Series], plan: Plan) -> list[str]:
    found = {}
    for s in series:
        labels = s["metric"]
        if labels.get("job") in catalog.CLAUDE_CODE_SERVICES:
            key = (labels["__name__"], labels.get("session_id", ""), own_labels(labels))
            found[key] = float(s["value"][1])
    problems = []
    for key, total in plan.claude_code_totals().items():
        if key not in found:
            problems.append(f"missing {key}")
        elif found[key] != pytest.approx(total, rel=1e-9):
            problems.append(f"{key}: Prometheus has {found[key]}, sent {total}")
    return problems


def own_labels(labels: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    """A Claude Code series' labels from its instrument's own attributes (type, model, ...)."""
    common = {prometheus_label_name(a) for a in catalog.CLAUDE_CODE_COMMON_ATTRIBUTES}
    shared = {"__name__", *common, *catalog.CLAUDE_CODE.resource_labels}
    return frozenset((key, value) for key, value in labels.items() if key not in shared)


def expected_histogram_totals(plan: Plan) -> dict[tuple[str, str], float]:
    """(series name, instance) -> the sum over all series of that name, from what was sent."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for request in plan.all_requests():
        llm, instance = request.llm, request.process.instance
        if request.process.conventions in genai_generations.GENERATIONS:
            for metric, _attributes, value in genai_generations.recordings(request):
                if metric.metric_type is catalog.MetricType.COUNTER:
                    totals[(metric.prometheus_name, instance)] += value
                else:
                    totals[(f"{metric.prometheus_name}_count", instance)] += 1
                    totals[(f"{metric.prometheus_name}_sum", instance)] += value
            continue
        ok = not llm.error_type
        for name, value in (
            ("gen_ai_client_token_usage_count", 2 if ok else 0),
            ("gen_ai_client_token_usage_sum", llm.input_tokens + llm.output_tokens),
            ("gen_ai_usage_cost_USD_count", 1 if ok else 0),
            ("gen_ai_usage_cost_USD_sum", llm.cost_usd),
            ("gen_ai_client_operation_duration_seconds_count", 1),
            ("gen_ai_client_operation_duration_seconds_sum", llm.duration),
            ("http_server_request_duration_seconds_count", 1),
            ("http_server_request_duration_seconds_sum", request.duration),
        ):
            totals[(name, instance)] += value
    return dict(totals)


def histogram_mismatches(series: list[Series], plan: Plan) -> list[str]:
    found: dict[tuple[str, str], float] = defaultdict(float)
    for s in series:
        found[(s["metric"]["__name__"], s["metric"].get("instance", ""))] += float(s["value"][1])
    return [
        f"{key}: Prometheus has {found.get(key)}, sent {total}"
        for key, total in expected_histogram_totals(plan).items()
        if found.get(key) != pytest.approx(total, rel=1e-9)
    ]


def labels_by_name(series: list[Series]) -> dict[str, set[str]]:
    labels: dict[str, set[str]] = defaultdict(set)
    for s in series:
        labels[s["metric"]["__name__"]] |= set(s["metric"]) - {"__name__"}
    return labels


@pytest.mark.collector
@pytest.mark.query
def test_otlp_metric_names_arrive_exactly_as_documented(pipeline: PipelineRun) -> None:
    arrived = {s["metric"]["__name__"] for s in pipeline.otlp_series}

    assert arrived - {RESOURCE_INFO_SERIES} == set(THROUGH_THE_COLLECTOR)


@pytest.mark.collector
@pytest.mark.query
def test_otlp_metric_labels_arrive_exactly_as_documented(pipeline: PipelineRun) -> None:
    documented = documented_metrics()
    arrived = labels_by_name(pipeline.otlp_series)
    wrong = {}
    for name, source in THROUGH_THE_COLLECTOR.items():
        expected = documented[name].labels | set(source.resource_labels)
        if name.endswith("_bucket"):
            expected |= {"le"}
        # team and cost_center arrive only from sources that set them
        # (tests/test_collector_privacy.py sends a team through this collector and finds it).
        optional = set(catalog.TEAM_LABELS)
        got = arrived.get(name, set()) - optional
        if got != expected - optional:
            wrong[name] = {
                "missing": sorted(expected - optional - got),
                "extra": sorted(got - expected),
            }

    assert wrong == {}


@pytest.mark.collector
@pytest.mark.query
def test_documented_label_values_arrive_unchanged(pipeline: PipelineRun) -> None:
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in pipeline.otlp_series:
        for label, value in s["metric"].items():
            values[(s["metric"]["__name__"], label)].add(value)

    for name, metric in documented_metrics().items():
        if name in THROUGH_THE_COLLECTOR:
            for label, allowed in metric.values.items():
                assert values[(name, label)] == allowed, (name, label)


RESOURCE_LABELS = ("service_name", "instance", "service_version", "deployment_environment_name")


@pytest.mark.collector
@pytest.mark.query
def test_resource_attributes_become_the_documented_labels(pipeline: PipelineRun) -> None:
    by_job: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for s in pipeline.otlp_series:
        labels = s["metric"]
        if labels["__name__"] != RESOURCE_INFO_SERIES:
            by_job[labels["job"]].add(tuple(labels.get(key, "") for key in RESOURCE_LABELS))

    for service in catalog.CLAUDE_CODE_SERVICES:
        assert by_job[service] == {(service, "", CLAUDE_CODE_VERSION, "")}
    for service in OTLP_JOBS[len(catalog.CLAUDE_CODE_SERVICES) :]:
        assert by_job[service] == {(service, f"{service}-1", APP_VERSION, "production")}


@pytest.mark.collector
@pytest.mark.query
@pytest.mark.parametrize("temporality", TEMPORALITIES)
def test_a_counter_sent_in_ten_batches_is_stored_as_its_running_total(
    pipeline: PipelineRun, temporality: str
) -> None:
    samples = pipeline.cost_samples[pipeline.plan.sessions[temporality]]
    # A cumulative exporter repeats its last value on shutdown; only changes carry information.
    changes = [value for i, value in enumerate(samples) if i == 0 or value != samples[i - 1]]

    # The start-time zero first (created-timestamp-zero-ingestion), then one sample per batch.
    assert changes == pytest.approx([0.0, *pipeline.plan.running_cost(temporality)], rel=1e-9)


@pytest.mark.collector
@pytest.mark.query
def test_every_claude_code_counter_holds_the_sum_of_what_was_sent(pipeline: PipelineRun) -> None:
    assert claude_code_mismatches(pipeline.otlp_series, pipeline.plan) == []


@pytest.mark.collector
@pytest.mark.query
def test_delta_and_cumulative_histograms_hold_the_sum_of_what_was_sent(
    pipeline: PipelineRun,
) -> None:
    assert histogram_mismatches(pipeline.otlp_series, pipeline.plan) == []


# --- logs and spans -----------------------------------------------------------------------------


@pytest.mark.collector
@pytest.mark.query
def test_claude_code_events_carry_the_documented_attributes(pipeline: PipelineRun) -> None:
    events = [
        log for log in pipeline.logs if log.resource["service.name"] in catalog.CLAUDE_CODE_SERVICES
    ]
    documented = documented_event_metadata()

    assert len(events) == len(pipeline.plan.events)
    for log in events:
        name = log.attributes["event.name"]
        assert log.body == f"claude_code.{name}"
        # Loki: service.name is the stream label; attributes and other resource attributes become
        # structured metadata, dots as underscores.
        metadata = {prometheus_label_name(k) for k in (*log.attributes, *log.resource)}
        assert documented[name] <= metadata, name
        assert log.resource["service.version"] == CLAUDE_CODE_VERSION
    assert {log.attributes["event.name"] for log in events} == set(documented)
    sessions = {log.attributes["session.id"] for log in events}
    assert sessions == set(pipeline.plan.sessions.values())


@pytest.mark.collector
@pytest.mark.query
def test_jsonl_cost_lines_arrive_raw_with_their_timestamps(pipeline: PipelineRun) -> None:
    lines = [log for log in pipeline.logs if log.resource["service.name"] == catalog.JSONL_SERVICE]

    assert sorted(log.body for log in lines) == sorted(pipeline.plan.jsonl_lines)
    for log in lines:
        record = json.loads(log.body)
        # Only the file name stays an attribute: parsed fields would shadow what `| json` extracts.
        assert log.attributes == {"log.file.name": "llm-cost.jsonl"}
        if "timestamp" in record:
            stamp = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
            assert log.record.time_unix_nano == round(stamp.timestamp() * 1000) * 1_000_000
        else:
            assert log.record.time_unix_nano == 0 and log.record.observed_time_unix_nano > 0


def span_dimensions() -> list[str]:
    tempo = yaml.safe_load(TEMPO_CONFIG.read_text(encoding="utf-8"))
    return tempo["metrics_generator"]["processor"]["span_metrics"]["dimensions"]


@pytest.mark.collector
@pytest.mark.query
def test_genai_spans_carry_the_attributes_dashboards_and_span_metrics_use(
    pipeline: PipelineRun,
) -> None:
    app_spans = [
        span
        for span in pipeline.spans
        if span.resource["service.name"] not in catalog.CLAUDE_CODE_SERVICES
    ]
    spans = {span.span.span_id: span for span in app_spans}
    requests = pipeline.plan.all_requests()
    clients = [s for s in spans.values() if s.span.kind == s.span.SPAN_KIND_CLIENT]
    by_start = {(s.resource["service.name"], s.span.start_time_unix_nano): s for s in clients}

    assert len(spans) == len(app_spans) == 2 * len(requests)
    for request in requests:
        llm = request.llm
        client = by_start[(request.process.service, int(llm.start * 1e9))]
        server = spans[client.span.parent_span_id]
        assert client.span.name == f"{llm.operation} {llm.model}"
        assert client.span.trace_id == server.span.trace_id
        assert server.span.kind == server.span.SPAN_KIND_SERVER
        assert server.resource["service.name"] == request.process.service
        assert server.resource["service.instance.id"] == request.process.instance
        assert server.attributes["http.route"] == request.route
        assert server.attributes["user.id"] == request.user
        # Apps before v1.37 name the provider gen_ai.system.
        legacy = request.process.conventions == "v1.36"
        renamed = {"gen_ai.provider.name"} if legacy else set()
        expected = {
            **genai_generations.genai_attributes(request),
            "gen_ai.usage.input_tokens": llm.input_tokens,
            "gen_ai.usage.output_tokens": llm.output_tokens,
            "gen_ai.usage.cost": pytest.approx(llm.cost_usd),
            "peer.service": llm.provider,
            **({"error.type": llm.error_type} if llm.error_type else {}),
        }
        assert client.attributes == expected
        assert set(catalog.GENAI_SPAN_ATTRIBUTES) - {"error.type", *renamed} <= set(
            client.attributes
        )
        assert set(span_dimensions()) - renamed <= set(client.attributes)
        error = client.span.status.code == client.span.status.STATUS_CODE_ERROR
        assert error == bool(llm.error_type)


@pytest.mark.collector
@pytest.mark.query
def test_claude_code_beta_spans_arrive_with_their_parents_and_documented_attributes(
    pipeline: PipelineRun,
) -> None:
    arrived = {
        (span.span.trace_id, span.span.span_id): span
        for span in pipeline.spans
        if span.resource["service.name"] in catalog.CLAUDE_CODE_SERVICES
    }
    documented = documented_spans()

    assert len(arrived) == len(pipeline.plan.spans)
    for sent in pipeline.plan.spans:
        key = (sent.trace_id.to_bytes(16, "big"), sent.span_id.to_bytes(8, "big"))
        span = arrived[key]
        assert span.span.name == sent.name
        assert span.resource["service.name"] == sent.process.service
        assert span.resource["service.version"] == CLAUDE_CODE_VERSION
        parent = sent.parent_id.to_bytes(8, "big") if sent.parent_id is not None else b""
        assert span.span.parent_span_id == parent, sent.name
        assert set(span.attributes) == documented[sent.name] | {"session.id"}, sent.name
        assert span.attributes["session.id"] == sent.process.session_id
    assert {span.span.name for span in arrived.values()} == set(documented)


# --- the stack's own metrics ------------------------------------------------------------------


UNIT_AND_TYPE_SUFFIXES = re.compile(r"(_total|_bytes|_seconds)+$")


def similar_names(name: str, names: Iterable[str]) -> list[str]:
    """Names that differ from `name` only in unit or type suffixes."""
    stem = UNIT_AND_TYPE_SUFFIXES.sub("", name)
    return sorted(n for n in names if UNIT_AND_TYPE_SUFFIXES.sub("", n) == stem)


def self_series_of(run: PipelineRun, instance: str) -> list[Series]:
    return [s for s in run.self_series if s["metric"].get("instance") == instance]


@pytest.mark.collector
@pytest.mark.query
def test_collector_self_metrics_have_the_documented_names_and_labels(
    pipeline: PipelineRun,
) -> None:
    documented = documented_metrics()
    series = self_series_of(pipeline, pipeline.healthy_collector) + self_series_of(
        pipeline, pipeline.rejecting_collector
    )
    exposed = labels_by_name(series)

    missing = [
        f"{name} (exposed: {', '.join(similar_names(name, exposed)) or 'nothing similar'})"
        for name in sorted(COLLECTOR_SELF_METRICS - set(exposed))
    ]
    assert not missing, "documented but not exposed by the collector:\n" + "\n".join(missing)
    for name in COLLECTOR_SELF_METRICS:
        assert documented[name].labels <= exposed[name], name


def totals_by(run: PipelineRun, instance: str, name: str, label: str) -> dict[str, float]:
    """{value of `label`: summed value} of one self-metric of one collector."""
    totals: dict[str, float] = defaultdict(float)
    for s in self_series_of(run, instance):
        if s["metric"]["__name__"] == name:
            totals[s["metric"][label]] += float(s["value"][1])
    return dict(totals)


@pytest.mark.collector
@pytest.mark.query
def test_collector_self_metrics_count_what_passed_and_what_failed(pipeline: PipelineRun) -> None:
    healthy, rejecting = pipeline.healthy_collector, pipeline.rejecting_collector
    accepted = totals_by(pipeline, healthy, catalog.COLLECTOR_ACCEPTED_POINTS.name, "transport")
    refused = totals_by(pipeline, healthy, catalog.COLLECTOR_REFUSED_POINTS.name, "transport")
    failures = {
        catalog.COLLECTOR_FAILED_POINTS.name: "otlp_http/prometheus",
        catalog.COLLECTOR_FAILED_SPANS.name: "otlp_grpc/tempo",
        catalog.COLLECTOR_FAILED_LOGS.name: "otlp_http/loki",
    }

    assert totals_by(pipeline, healthy, catalog.COLLECTOR_SENT_SPANS.name, "exporter") == {
        "otlp_grpc/tempo": len(pipeline.spans)
    }
    assert totals_by(pipeline, healthy, catalog.COLLECTOR_SENT_LOGS.name, "exporter") == {
        "otlp_http/loki": len(pipeline.logs)
    }
    assert totals_by(pipeline, healthy, catalog.COLLECTOR_SENT_POINTS.name, "exporter") == {
        "otlp_http/prometheus": sum(accepted.values())
    }
    assert set(accepted) == {"grpc", "http"} and set(refused.values()) == {0.0}
    for name, exporter in failures.items():
        # Failure counters appear with the first failure: absent (not 0) on a healthy collector.
        assert totals_by(pipeline, healthy, name, "exporter") == {}, name
        failed = totals_by(pipeline, rejecting, name, "exporter")
        assert set(failed) == {exporter} and failed[exporter] > 0, name


@pytest.mark.collector
@pytest.mark.query
def test_prometheus_self_metrics_arrive_with_the_documented_labels(pipeline: PipelineRun) -> None:
    documented = documented_metrics()
    own = [s for s in pipeline.self_series if s["metric"]["job"] == "prometheus"]
    exposed = labels_by_name(own)
    up = {
        (s["metric"]["job"], s["metric"]["instance"]): float(s["value"][1])
        for s in pipeline.self_series
        if s["metric"]["__name__"] == catalog.UP.name
    }

    assert sorted(PROMETHEUS_SELF_METRICS - set(exposed)) == []
    for name in PROMETHEUS_SELF_METRICS:
        assert documented[name].labels <= exposed[name], name
        for label, allowed in documented[name].values.items():
            arrived = {s["metric"][label] for s in own if s["metric"]["__name__"] == name}
            assert arrived <= allowed, (name, label)
    assert up == {
        ("prometheus", f"127.0.0.1:{pipeline.prometheus_port}"): 1.0,
        ("otel-collector", pipeline.healthy_collector): 1.0,
        ("otel-collector", pipeline.rejecting_collector): 1.0,
    }
