"""A real Loki (the image's version, built by `make tools`) running our configs/loki/loki.yaml.

Loki starts from the shipped config with only its paths and ports moved (flags override the
file), so a key Loki 3.7 rejects fails here. JSONL cost lines go in through the OTLP endpoint
the way the collector's filelog pipeline delivers them; then the app-user request alert's LogQL
and the dashboards' JSONL panels run on them.
"""

import contextlib
import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

import dashboards
from alerts import alert_rules
from components.settings import AlertThresholds
from tests.support.external import REPO_ROOT, find_tool
from tests.support.ports import free_port
from tests.support.prometheus import interpolate
from tests.support.walker import Query, dashboard_queries, query_context
from tools.telemetry.catalog import JSONL_SERVICE
from tools.telemetry.logs import rfc3339

pytestmark = pytest.mark.query

LOKI_CONFIG = REPO_ROOT / "configs" / "loki" / "loki.yaml"
LOKI_HINT = "run `make tools` (builds Loki from build/loki into .cache/bin)"
USER_REQUESTS_RULE = "llm-o11y-user-requests"
JSONL_SELECTOR = f'service_name="{JSONL_SERVICE}"'
READY_TIMEOUT = 90.0


@dataclass
class LokiServer:
    """A Loki single binary on free 127.0.0.1 ports, data under `workdir`."""

    binary: str
    workdir: Path
    http_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log(self) -> Path:
        return self.workdir / "loki.log"

    def command(self) -> list[str]:
        data = self.workdir / "data"
        self.http_port = free_port()
        return [
            self.binary,
            f"-config.file={LOKI_CONFIG}",
            "-config.expand-env=true",
            f"-common.path-prefix={data}",
            f"-common.storage.filesystem.chunk-directory={data / 'chunks'}",
            f"-common.storage.filesystem.rules-directory={data / 'rules'}",
            f"-compactor.working-directory={data / 'compactor'}",
            "-server.http-listen-address=127.0.0.1",
            f"-server.http-listen-port={self.http_port}",
            "-server.grpc-listen-address=127.0.0.1",
            f"-server.grpc-listen-port={free_port()}",
        ]

    def start(self) -> None:
        command = self.command()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"loki exited: {self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"loki not ready after {READY_TIMEOUT:.0f}s: {self.log_tail()}")

    def ready(self) -> bool:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{self.url}/ready", timeout=2) as response,
        ):
            return response.status == 200
        return False

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def push_otlp(self, payload: Mapping[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.url}/otlp/v1/logs",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"Loki refused the push: {error.read()!r}") from None

    def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            raise AssertionError(f"Loki refused {params['query']!r}: {error.read()!r}") from None
        assert body.get("status") == "success", body
        return body["data"]

    def instant(self, expr: str, at: float) -> list[dict[str, Any]]:
        return self._get("/loki/api/v1/query", {"query": expr, "time": f"{at:.3f}"})["result"]

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}"}
        return self._get("/loki/api/v1/query_range", params)["result"]


# --- the JSONL lines ---------------------------------------------------------------------------


def jsonl_line(at: float, user: str | None) -> str:
    """One cost record as the app writes it (docs/telemetry.md, JSONL cost logs)."""
    record: dict[str, Any] = {
        "timestamp": rfc3339(at),
        "model": "gpt-4o-mini",
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "cost_usd": 0.00036,
    }
    if user is not None:
        record["user"] = user
    return json.dumps(record)


def calls_between(start: float, end: float, users: Mapping[str, int]) -> list[tuple[float, str]]:
    """(time, line) for `count` calls per user spread evenly inside [start, end]."""
    lines = []
    for user, count in users.items():
        step = (end - start) / count
        lines.extend((start + i * step, jsonl_line(start + i * step, user)) for i in range(count))
    return lines


def otlp_payload(lines: Sequence[tuple[float, str]]) -> dict[str, Any]:
    """The OTLP/JSON export the collector's file_log/llm_cost pipeline sends: resource
    service.name, the raw line as body, the parsed timestamp as record time."""
    records = [
        {
            "timeUnixNano": str(int(at * 1e9)),
            "observedTimeUnixNano": str(int(at * 1e9)),
            "body": {"stringValue": line},
            "attributes": [{"key": "log.file.name", "value": {"stringValue": "calls.jsonl"}}],
        }
        for at, line in lines
    ]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": JSONL_SERVICE}}]}
    return {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": records}]}]}


@dataclass(frozen=True)
class LoadedLoki:
    server: LokiServer
    now: float
    limit: int

    @property
    def quiet_hour_end(self) -> float:
        return self.now - 3600


def _user_requests_limit() -> tuple[str, int]:
    rule = next(r for r in alert_rules(AlertThresholds()) if r.uid == USER_REQUESTS_RULE)
    assert rule.datasource == "loki" and rule.threshold.kind == "gt"
    return rule.query, int(rule.threshold.params[0])


@pytest.fixture(scope="module")
def loki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedLoki]:
    """Loki with two hours of JSONL calls: in the last hour alice is one call above the limit;
    in the hour before, alice is exactly at it. Bob stays low; a line without a user and a line
    that is not JSON must not be counted."""
    binary = find_tool("loki", LOKI_HINT)
    server = LokiServer(binary, tmp_path_factory.mktemp("loki"))
    try:
        server.start()
        now = float(int(time.time()))
        _, limit = _user_requests_limit()
        busy = calls_between(now - 55 * 60, now - 5 * 60, {"alice": limit + 1, "bob": 3})
        quiet = calls_between(now - 115 * 60, now - 65 * 60, {"alice": limit, "bob": 2})
        noise = [(now - 30 * 60, jsonl_line(now - 30 * 60, None)), (now - 20 * 60, "not json")]
        # In time order, as the filelog receiver reads a file: Loki rejects an entry more than
        # max_chunk_age / 2 (1 h) older than the newest one of its stream.
        server.push_otlp(otlp_payload(sorted([*busy, *quiet, *noise])))
        yield LoadedLoki(server, now, limit)
    finally:
        server.stop()


def per_user(result: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {entry["metric"].get("user", ""): float(entry["value"][1]) for entry in result}


def test_shipped_config_starts_and_becomes_ready(loki: LoadedLoki) -> None:
    assert loki.server.ready()


def test_user_above_the_limit_is_the_only_one_over_threshold(loki: LoadedLoki) -> None:
    query, limit = _user_requests_limit()
    counts = per_user(loki.server.instant(query, loki.now))
    assert counts == {"alice": limit + 1, "bob": 3}
    assert [user for user, count in counts.items() if count > limit] == ["alice"]


def test_nobody_over_threshold_when_the_busiest_user_is_at_the_limit(loki: LoadedLoki) -> None:
    query, limit = _user_requests_limit()
    counts = per_user(loki.server.instant(query, loki.quiet_hour_end))
    assert counts == {"alice": limit, "bob": 2}
    assert not [user for user, count in counts.items() if count > limit]


def _panels(panels: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def loki_instant_targets(models: Mapping[str, Mapping[str, Any]]) -> dict[str, bool]:
    """The walker's `where` of every target -> whether Grafana's Loki datasource runs it as an
    instant query (Loki targets say so with queryType, not the Prometheus `instant` flag)."""
    return {
        f"dashboard {uid} / panel {panel.get('title')!r} / target {target.get('refId', '?')}": (
            target.get("queryType") == "instant" or bool(target.get("instant"))
        )
        for uid, model in models.items()
        for panel in _panels(model.get("panels", []))
        for target in panel.get("targets", [])
    }


def jsonl_panel_queries() -> list[Query]:
    models = dashboards.render_all()
    instant = loki_instant_targets(models)
    return [
        replace(query, instant=instant[query.where])
        for query in dashboard_queries(models)
        if query.kind == "loki" and JSONL_SELECTOR in query.expr
    ]


@pytest.mark.parametrize("query", jsonl_panel_queries(), ids=lambda q: q.where)
def test_jsonl_panel_returns_data(loki: LoadedLoki, query: Query) -> None:
    context = query_context(query, loki.now, scrape_interval="15s")
    expr = interpolate(query.expr, context)
    if query.instant:
        result = loki.server.instant(expr, context.end)
    else:
        step = context.step
        result = loki.server.range(expr, context.start, context.end, step)
    assert result, f"{query.where}: no data for {expr!r}"
