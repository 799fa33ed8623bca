"""The `userIdentity` setting and team attribution, end to end through the real collector.

For each setting the collector runs the files the local stack gives it (components/local_stack.py
`collector_service`), in front of a real Prometheus 3.x (its OTLP receiver, with our
prometheus.yml) and stand-ins for Loki and Tempo. Three people use Claude Code and an app; their
addresses go out as Claude Code sends them (`user.email` on every point and event), as apps do
(`user.id`, `enduser.id` on spans) and in JSONL cost lines (`user`). With `hash` or `drop` no
address may reach any store; with `hash` each person keeps one distinct value everywhere, the one
the collector's statements promise (SHA-256 of salt and value, 16 hex digits); with `keep` the
addresses arrive, which shows the test can see them. The resource attributes of a team's
managed-settings.json arrive as `team` and `cost_center` labels.
"""

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

from components.local_stack import USER_IDENTITY_SALT_FILE, collector_config_files
from components.settings import LocalSettings, TeamAttribution
from components.target import claude_code_env, team_resource_attributes
from tests.support.external import REPO_ROOT, find_tool
from tests.support.otlp_capture import OtlpGrpcTraceCapture, OtlpHttpCapture
from tests.support.pipeline import (
    CollectorPorts,
    collector_port_override,
    poll_until,
    require_prometheus_version,
    start_collector,
    start_prometheus,
)
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.ports import free_port
from tools.querylab.prometheus import PrometheusServer, Series

COLLECTOR_CONFIGS = REPO_ROOT / "configs" / "otel-collector"
SALT = "test-salt_0123456789abcdef"
USERS = ("ada@example.com", "grace@example.com", "linus@example.org")
ADDRESS = re.compile(r"[A-Za-z0-9._-]+@example\.(?:com|org)")
TEAM, COST_CENTER = "payments", "cc-4711"
COST_PER_USER = {user: 0.25 * (index + 1) for index, user in enumerate(USERS)}
ACCOUNTS = {user: f"account-{index}" for index, user in enumerate(USERS)}
RESOURCE_USER = USERS[0]
WAIT_SECONDS = 30.0


def pseudonym(value: str) -> str:
    """What user-identity-hash.yaml makes of a value."""
    return hashlib.sha256((SALT + value).encode()).hexdigest()[:16]


@dataclass(repr=False)
class Arrived:
    series: list[Series]  # every series the OTLP sources left in Prometheus
    per_user_cost: list[Series]  # `sum by (user_email)` of the cost counter, as per-user panels
    logs: list[Any]
    spans: list[Any]

    def texts(self) -> Iterator[str]:
        """Every label, attribute and body as text."""
        for s in self.series:
            yield json.dumps(s["metric"])
        for captured in (*self.logs, *self.spans):
            yield json.dumps(captured.resource, default=str)
            yield json.dumps(captured.attributes, default=str)
        for log in self.logs:
            yield str(log.body)


def collector_files(mode: str, workdir: Path) -> tuple[Path, ...]:
    """The stack's collector files for `mode`, from the repository, with the salt file's
    container path moved into `workdir`, where the salt is written as the stack uploads it."""
    salt_file = workdir / "user-identity-salt"
    salt_file.write_text(SALT, encoding="utf-8")
    files = []
    for name in collector_config_files(LocalSettings(jsonl_log_dir=str(workdir)), mode):
        text = (COLLECTOR_CONFIGS / name).read_text(encoding="utf-8")
        path = workdir / name
        path.write_text(text.replace(USER_IDENTITY_SALT_FILE, str(salt_file)), encoding="utf-8")
        files.append(path)
    return tuple(files)


def team_resource() -> Resource:
    """What Claude Code makes of a team's managed settings (OTEL_RESOURCE_ATTRIBUTES)."""
    env = claude_code_env(
        "http://unused",
        "http/protobuf",
        None,
        team_resource_attributes(TEAM, TeamAttribution(cost_center=COST_CENTER)),
    )
    saved = os.environ.get("OTEL_RESOURCE_ATTRIBUTES")
    os.environ["OTEL_RESOURCE_ATTRIBUTES"] = env["OTEL_RESOURCE_ATTRIBUTES"]
    try:
        detected = OTELResourceDetector().detect()
    finally:
        if saved is None:
            del os.environ["OTEL_RESOURCE_ATTRIBUTES"]
        else:
            os.environ["OTEL_RESOURCE_ATTRIBUTES"] = saved
    # A resource may name its user too (a desktop app's enduser.id): rewritten once per resource.
    return detected.merge(Resource({"service.name": "claude-code", "enduser.id": RESOURCE_USER}))


def send(otlp_http: str) -> None:
    """Claude Code (delta, as it defaults) and an app, each person once."""
    delta = {Counter: AggregationTemporality.DELTA}
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{otlp_http}/v1/metrics", preferred_temporality=delta),
        export_interval_millis=3_600_000,
    )
    resource = team_resource()
    meters = MeterProvider(resource=resource, metric_readers=[reader])
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{otlp_http}/v1/logs"))
    )
    app = Resource(
        {
            "service.name": "support-bot",
            "service.instance.id": "support-bot-1",
            "enduser.id": RESOURCE_USER,
        }
    )
    tracers = TracerProvider(resource=app)
    tracers.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_http}/v1/traces"))
    )
    cost = meters.get_meter("test").create_counter("claude_code.cost.usage", unit="USD")
    events = logs.get_logger("com.anthropic.claude_code.events")
    tracer = tracers.get_tracer("test")
    for index, user in enumerate(USERS):
        identity = {"user.email": user, "user.account_uuid": ACCOUNTS[user]}
        cost.add(COST_PER_USER[user], {**identity, "session.id": f"session-{index}"})
        events.emit(
            severity_number=SeverityNumber.INFO,
            body="claude_code.api_request",
            attributes={**identity, "event.name": "api_request", "cost_usd": 0.1},
        )
        span = tracer.start_span(
            "POST /v1/chat", kind=SpanKind.SERVER, attributes={"user.id": user, "enduser.id": user}
        )
        span.end()
    for provider in (meters, logs, tracers):
        provider.shutdown()


def jsonl_lines() -> list[str]:
    fields = '"model":"gpt-6-luna","prompt_tokens":10,"completion_tokens":2,"cost_usd":0.001'
    return [
        # `user` first, last and in the middle, so both sides of the field are exercised.
        f'{{"user":"{USERS[0]}",{fields}}}',
        f'{{{fields},"user":"{USERS[1]}"}}',
        f'{{"model":"gpt-6-luna","user": "{USERS[2]}",{fields.split(",", 1)[1]}}}',
    ]


def run_pipeline(otelcol: Path, mode: str) -> Arrived:
    binary = find_tool("prometheus", PROMETHEUS_HINT)
    require_prometheus_version(binary)
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="llm-o11y-")))
        loki = stack.enter_context(OtlpHttpCapture())
        tempo = stack.enter_context(OtlpGrpcTraceCapture())
        ports, prometheus_port = CollectorPorts.free(), free_port()
        prometheus, prometheus_process = start_prometheus(binary, workdir, prometheus_port, {})
        stack.callback(prometheus_process.stop)
        jsonl = workdir / "jsonl"
        jsonl.mkdir()
        (jsonl / "llm-cost.jsonl").write_text("\n".join(jsonl_lines()) + "\n")
        override = collector_port_override(ports)
        override["receivers"]["file_log/llm_cost"] = {"include": [f"{jsonl}/*.jsonl"]}
        env = {
            "PROMETHEUS_OTLP_ENDPOINT": f"{prometheus.url}/api/v1/otlp",
            "LOKI_OTLP_ENDPOINT": loki.endpoint,
            "TEMPO_OTLP_ENDPOINT": tempo.endpoint,
            "OTELCOL_FILE_STORAGE_DIR": str(workdir / "file_storage"),
        }
        collector = start_collector(
            otelcol,
            collector_files(mode, workdir),
            override,
            env,
            workdir / "collector",
            f"http://127.0.0.1:{ports.health}/-/healthy",
        )
        stack.callback(collector.stop)
        send(f"http://127.0.0.1:{ports.otlp_http}")
        expected_logs = len(USERS) + len(jsonl_lines())
        poll_until(
            lambda: len(loki.logs()) >= expected_logs and len(tempo.spans()) >= len(USERS),
            WAIT_SECONDS,
        )
        poll_until(lambda: len(cost_series(prometheus)) > 0, WAIT_SECONDS)
        collector.check_running()
        return Arrived(
            series=prometheus.query('{job=~"claude-code|support-bot"}', time.time()),
            per_user_cost=prometheus.query(
                "sum by (user_email) (claude_code_cost_usage_USD_total)", time.time()
            ),
            logs=loki.logs(),
            spans=tempo.spans(),
        )


def cost_series(prometheus: PrometheusServer) -> list[Series]:
    return prometheus.query("claude_code_cost_usage_USD_total", time.time())


@pytest.fixture(scope="module", params=["keep", "hash", "drop"])
def arrived(request: pytest.FixtureRequest, otelcol: Path) -> tuple[str, Arrived]:
    return request.param, run_pipeline(otelcol, request.param)


def label_values(series: list[Series], label: str) -> set[str]:
    return {s["metric"][label] for s in series if label in s["metric"]}


@pytest.mark.collector
@pytest.mark.query
def test_everything_sent_arrives(arrived: tuple[str, Arrived]) -> None:
    _, run = arrived
    assert len(run.logs) == len(USERS) + len(jsonl_lines())
    assert len(run.spans) == len(USERS)
    total = sum(float(s["value"][1]) for s in run.per_user_cost)
    assert total == pytest.approx(sum(COST_PER_USER.values()), rel=1e-9)


@pytest.mark.collector
@pytest.mark.query
def test_no_address_is_stored_unless_kept(arrived: tuple[str, Arrived]) -> None:
    mode, run = arrived
    found = {address for text in run.texts() for address in ADDRESS.findall(text)}

    # `keep` shows the test sees every address wherever it travels.
    assert found == (set(USERS) if mode == "keep" else set())


@pytest.mark.collector
@pytest.mark.query
def test_per_user_panels_split_users_by_pseudonym_or_show_none(
    arrived: tuple[str, Arrived],
) -> None:
    mode, run = arrived
    by_user = {s["metric"].get("user_email", ""): float(s["value"][1]) for s in run.per_user_cost}
    expected = {
        "keep": COST_PER_USER,
        "hash": {pseudonym(user): cost for user, cost in COST_PER_USER.items()},
        "drop": {"": sum(COST_PER_USER.values())},
    }[mode]

    assert by_user == pytest.approx(expected, rel=1e-9)


@pytest.mark.collector
@pytest.mark.query
def test_one_person_has_one_value_in_every_store(arrived: tuple[str, Arrived]) -> None:
    mode, run = arrived
    stored = {
        "user_email label": label_values(run.series, "user_email"),
        "user_account_uuid label": label_values(run.series, "user_account_uuid"),
        "user.email on events": {
            log.attributes["user.email"] for log in run.logs if "user.email" in log.attributes
        },
        "user.id on spans": {span.attributes.get("user.id") for span in run.spans} - {None},
        "enduser.id on spans": {span.attributes.get("enduser.id") for span in run.spans} - {None},
        "JSONL user": {
            json.loads(log.body)["user"]
            for log in run.logs
            if isinstance(log.body, str) and log.body.startswith("{") and '"user"' in log.body
        },
    }
    identity = {"keep": lambda v: v, "hash": pseudonym, "drop": None}[mode]
    if identity is None:
        assert stored == {key: set() for key in stored}
        return
    people = {identity(user) for user in USERS}
    accounts = {identity(ACCOUNTS[user]) for user in USERS}
    assert stored == {
        **dict.fromkeys(stored, people),
        "user_account_uuid label": accounts,
    }


@pytest.mark.collector
@pytest.mark.query
def test_jsonl_lines_stay_valid_json_with_every_other_field(arrived: tuple[str, Arrived]) -> None:
    _, run = arrived
    lines = [json.loads(log.body) for log in run.logs if str(log.body).startswith("{")]

    assert len(lines) == len(jsonl_lines())
    for line in lines:
        assert {k: line[k] for k in ("model", "prompt_tokens", "cost_usd")} == {
            "model": "gpt-6-luna",
            "prompt_tokens": 10,
            "cost_usd": 0.001,
        }


@pytest.mark.collector
@pytest.mark.query
def test_team_resource_attributes_arrive_as_labels(arrived: tuple[str, Arrived]) -> None:
    _, run = arrived
    claude_code = [s for s in run.series if s["metric"].get("job") == "claude-code"]

    assert claude_code
    assert {(s["metric"].get("team"), s["metric"].get("cost_center")) for s in claude_code} == {
        (TEAM, COST_CENTER)
    }


@pytest.mark.collector
@pytest.mark.query
def test_a_resource_naming_its_user_is_rewritten_once(arrived: tuple[str, Arrived]) -> None:
    mode, run = arrived
    stored = {
        "target_info label": label_values(
            [s for s in run.series if s["metric"]["__name__"] == "target_info"], "enduser_id"
        ),
        "log resource": {log.resource.get("enduser.id") for log in run.logs} - {None},
        "span resource": {span.resource.get("enduser.id") for span in run.spans} - {None},
    }
    expected = {"keep": {RESOURCE_USER}, "hash": {pseudonym(RESOURCE_USER)}, "drop": set()}[mode]

    assert stored == dict.fromkeys(stored, frozenset(expected))
