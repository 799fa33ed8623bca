"""Nothing the collector accepted is lost to a backend outage or a collector restart.

Our collector configs run unchanged (only listening ports and backend endpoints moved) against a
real Prometheus 3.x (OTLP receiver, the stack's flags) and OTLP capture servers for Loki and Tempo,
under steady OTLP load (tests/support/steady_load.py) for the whole run. Three scenarios run at
the same time, each with its own processes:

- outage: every backend down for 60 s;
- restart: every backend down for 30 s, the collector restarted (SIGTERM, as `docker stop` and a
  `pulumi up` replacement do) in the middle of it;
- outage-and-restart: every backend down for 60 s, the collector restarted in the middle.

Afterwards every log record and span the collector answered 200 to has arrived, and every counter
in Prometheus adds up (across the reset a restart makes in converted delta streams) to exactly
what was sent. README's "What survives what" table states these rows.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alerts.pipeline import EXPORTER_DROP_COUNTERS, RECEIVER_REFUSAL_COUNTERS
from tests.support.external import REPO_ROOT, find_tool
from tests.support.otlp_capture import OtlpGrpcTraceCapture, OtlpHttpCapture
from tests.support.pipeline import (
    CollectorPorts,
    Process,
    collector_port_override,
    http_text,
    poll_until,
    require_prometheus_version,
    start_collector,
    start_prometheus,
)
from tests.support.steady_load import (
    CUMULATIVE_METRIC,
    DELTA_METRIC,
    PROMETHEUS_NAMES,
    SERVICE,
    STREAMS,
    Accepted,
    SteadyLoad,
    reset_aware_total,
)
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.ports import free_port
from tools.querylab.prometheus import PrometheusServer

COLLECTOR_CONFIGS = (
    REPO_ROOT / "configs" / "otel-collector" / "config.yaml",
    REPO_ROOT / "configs" / "otel-collector" / "jsonl-logs.yaml",
)
WARM_UP_SECONDS = 5.0
LOAD_AFTER_RECOVERY_SECONDS = 5.0
# Retries back off up to 30 s (+50 % jitter) while a backend is down: the first retry after it
# comes back can take that long, and the restarted queue drains after it.
ARRIVAL_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Scenario:
    name: str
    outage_seconds: float
    restart_collector: bool


SCENARIOS = (
    Scenario("outage", 60.0, restart_collector=False),
    Scenario("restart", 30.0, restart_collector=True),
    Scenario("outage-and-restart", 60.0, restart_collector=True),
)


@dataclass
class Outcome:
    scenario: Scenario
    accepted: Accepted
    log_bodies: list[str]
    span_ids: list[bytes]
    counter_samples: dict[tuple[str, str], list[float]]  # (metric, stream) -> raw samples
    collector_restarts: int


class Backends:
    """Prometheus, a Loki stand-in and a Tempo stand-in that go down and come back together."""

    def __init__(self, binary: str, workdir: Path, stack: contextlib.ExitStack) -> None:
        self.binary, self.workdir = binary, workdir
        workdir.mkdir(parents=True)
        self.port = free_port()
        self.loki = stack.enter_context(OtlpHttpCapture())
        self.tempo = stack.enter_context(OtlpGrpcTraceCapture())
        self.prometheus, self._process = self._start_prometheus()
        stack.callback(lambda: self._process.stop())

    def _start_prometheus(self) -> tuple[PrometheusServer, Process]:
        return start_prometheus(self.binary, self.workdir, self.port, {})

    def env(self) -> dict[str, str]:
        return {
            "PROMETHEUS_OTLP_ENDPOINT": f"{self.prometheus.url}/api/v1/otlp",
            "LOKI_OTLP_ENDPOINT": self.loki.endpoint,
            "TEMPO_OTLP_ENDPOINT": self.tempo.endpoint,
        }

    def go_down(self) -> None:
        self._process.stop()
        self.loki.go_down()
        self.tempo.go_down()

    def come_back(self) -> None:
        # Same port and storage: Prometheus replays its WAL, as after a container restart.
        self.prometheus, self._process = self._start_prometheus()
        self.loki.come_back()
        self.tempo.come_back()


class Collector:
    """Our collector with its queues in one folder that survives its restarts."""

    def __init__(self, otelcol: Path, backends: Backends, workdir: Path) -> None:
        self.otelcol, self.workdir = otelcol, workdir
        self.ports = CollectorPorts.free()
        (workdir / "jsonl").mkdir(parents=True)
        self.override = collector_port_override(self.ports)
        self.override["receivers"]["file_log/llm_cost"] = {"include": [f"{workdir}/jsonl/*.jsonl"]}
        self.env = {**backends.env(), "OTELCOL_FILE_STORAGE_DIR": str(workdir / "file_storage")}
        self.starts = 0
        self.process = self._start()

    def _start(self) -> Process:
        self.starts += 1
        return start_collector(
            self.otelcol,
            COLLECTOR_CONFIGS,
            self.override,
            self.env,
            self.workdir / f"run-{self.starts}",
            f"http://127.0.0.1:{self.ports.health}/-/healthy",
        )

    def restart(self) -> None:
        self.process.stop()
        self.process = self._start()

    @property
    def otlp_http(self) -> str:
        return f"http://127.0.0.1:{self.ports.otlp_http}"


def counter_samples(prometheus: PrometheusServer) -> dict[tuple[str, str], list[float]]:
    samples = {}
    for otel_name, prometheus_name in PROMETHEUS_NAMES.items():
        result = prometheus.query(f'{prometheus_name}{{job="{SERVICE}"}}[30m]', time.time())
        for series in result:
            key = (otel_name, series["metric"]["stream"])
            samples[key] = [float(value) for _, value in series["values"]]
    return samples


def all_arrived(backends: Backends, accepted: Accepted) -> bool:
    logs = {log.body for log in backends.loki.logs()}
    spans = {span.span.span_id for span in backends.tempo.spans()}
    counted = counter_samples(backends.prometheus)
    totals = {key: reset_aware_total(values) for key, values in counted.items()}
    return (
        set(accepted.log_bodies) <= logs
        and set(accepted.span_ids) <= spans
        and totals == {key: float(value) for key, value in accepted.counter_totals.items()}
    )


def run_scenario(scenario: Scenario, otelcol: Path, prometheus_binary: str) -> Outcome:
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="llm-o11y-")))
        backends = Backends(prometheus_binary, workdir / "prometheus", stack)
        collector = Collector(otelcol, backends, workdir / "collector")
        stack.callback(lambda: collector.process.stop())

        with SteadyLoad(collector.otlp_http) as load:
            time.sleep(WARM_UP_SECONDS)
            backends.go_down()
            if scenario.restart_collector:
                time.sleep(scenario.outage_seconds / 2)
                collector.restart()
                time.sleep(scenario.outage_seconds / 2)
            else:
                time.sleep(scenario.outage_seconds)
            backends.come_back()
            time.sleep(LOAD_AFTER_RECOVERY_SECONDS)
        accepted = load.accepted

        poll_until(lambda: all_arrived(backends, accepted), ARRIVAL_TIMEOUT_SECONDS, every=2.0)
        collector.process.check_running()
        return Outcome(
            scenario=scenario,
            accepted=accepted,
            log_bodies=[log.body for log in backends.loki.logs()],
            span_ids=[span.span.span_id for span in backends.tempo.spans()],
            counter_samples=counter_samples(backends.prometheus),
            collector_restarts=collector.starts - 1,
        )


@pytest.fixture(scope="module")
def outcomes(otelcol: Path) -> Iterator[dict[str, Outcome]]:
    """Every scenario, run side by side (each takes its outage plus the drain)."""
    binary = find_tool("prometheus", PROMETHEUS_HINT)
    require_prometheus_version(binary)
    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {s.name: pool.submit(run_scenario, s, otelcol, binary) for s in SCENARIOS}
        yield {name: future.result() for name, future in futures.items()}


SCENARIO_NAMES = [s.name for s in SCENARIOS]


@pytest.mark.collector
@pytest.mark.query
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_the_load_was_steady_and_the_scenario_happened(
    outcomes: dict[str, Outcome], name: str
) -> None:
    outcome = outcomes[name]
    # About two ticks a second for the whole run: the outage did not stop the load.
    minimum_ticks = (WARM_UP_SECONDS + outcome.scenario.outage_seconds) * 1.5
    assert len(outcome.accepted.log_bodies) / 5 >= minimum_ticks
    assert outcome.collector_restarts == int(outcome.scenario.restart_collector)


def accepted_and_arrived(outcome: Outcome, signal: str) -> tuple[list, list]:
    if signal == "log records":
        return outcome.accepted.log_bodies, outcome.log_bodies
    return outcome.accepted.span_ids, outcome.span_ids


@pytest.mark.collector
@pytest.mark.query
@pytest.mark.parametrize("signal", ["log records", "spans"])
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_every_accepted_item_arrives_once(
    outcomes: dict[str, Outcome], name: str, signal: str
) -> None:
    accepted, arrived = accepted_and_arrived(outcomes[name], signal)
    missing = set(accepted) - set(arrived)
    repeated = {item: n for item, n in Counter(arrived).items() if n > 1}

    assert not missing, f"{len(missing)} of {len(accepted)} {signal} lost"
    # The persistent queue is at-least-once: a restart may resend what was in flight, which Loki
    # (same stream, timestamp and line), Tempo (same span id) and Prometheus (same sample) drop.
    if not outcomes[name].scenario.restart_collector:
        assert not repeated, f"{len(repeated)} {signal} arrived more than once"


@pytest.mark.collector
@pytest.mark.query
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_counter_totals_in_prometheus_equal_what_was_sent(
    outcomes: dict[str, Outcome], name: str
) -> None:
    outcome = outcomes[name]
    totals = {key: reset_aware_total(values) for key, values in outcome.counter_samples.items()}
    sent = {key: float(value) for key, value in outcome.accepted.counter_totals.items()}

    assert set(sent) == {(m, s) for m in (DELTA_METRIC, CUMULATIVE_METRIC) for s in STREAMS}
    assert totals == sent
    # The app's own cumulative counter never resets; the collector's conversion of the delta
    # stream restarts from zero with each collector start (its state is in memory).
    for stream in STREAMS:
        cumulative = outcome.counter_samples[(CUMULATIVE_METRIC, stream)]
        assert cumulative[-1] == sent[(CUMULATIVE_METRIC, stream)]
        delta = outcome.counter_samples[(DELTA_METRIC, stream)]
        resets = sum(1 for before, after in itertools.pairwise(delta) if after < before)
        assert resets == outcome.collector_restarts, stream


# --- where data is dropped or refused, the alerts' counters count it ---------------------------

SAMPLE_LINE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?P<labels>\{[^}]*\})? (?P<value>\S+)$")
OVERLOAD_LOAD_SECONDS = 4.0
OVERLOAD_SETTLE_SECONDS = 15.0  # the batch processor holds data up to 5 s


def scraped_totals(telemetry_port: int) -> dict[str, float]:
    """The collector's own metrics, summed per name (and per `error` for delta points)."""
    text = http_text(f"http://127.0.0.1:{telemetry_port}/metrics")
    totals: dict[str, float] = {}
    for line in text.splitlines():
        found = SAMPLE_LINE.match(line)
        if not found:
            continue
        name = found["name"]
        error = re.search(r'error="([^"]+)"', found["labels"] or "")
        key = f"{name}{{error={error.group(1)}}}" if error else name
        totals[key] = totals.get(key, 0.0) + float(found["value"])
    return totals


def overloaded(
    otelcol: Path, workdir: Path, changes: dict[str, Any], counted: list[str]
) -> tuple[dict, Accepted]:
    """Our config with `changes` merged over it, its backends unreachable, under load a while;
    then its own metrics once every name in `counted` is above zero (or the batch timeout and
    a few scrapes later)."""
    ports = CollectorPorts.free()
    nowhere = f"127.0.0.1:{free_port()}"
    env = {
        "PROMETHEUS_OTLP_ENDPOINT": f"http://{nowhere}/api/v1/otlp",
        "LOKI_OTLP_ENDPOINT": f"http://{nowhere}",
        "TEMPO_OTLP_ENDPOINT": nowhere,
        "OTELCOL_FILE_STORAGE_DIR": str(workdir / "file_storage"),
    }
    override = {**collector_port_override(ports), **changes}
    health = f"http://127.0.0.1:{ports.health}/-/healthy"
    process = start_collector(otelcol, COLLECTOR_CONFIGS[:1], override, env, workdir, health)
    try:
        with SteadyLoad(f"http://127.0.0.1:{ports.otlp_http}", interval=0.2) as load:
            time.sleep(OVERLOAD_LOAD_SECONDS)
        poll_until(
            lambda: all(scraped_totals(ports.telemetry).get(n, 0) > 0 for n in counted),
            OVERLOAD_SETTLE_SECONDS,
        )
        process.check_running()
        return scraped_totals(ports.telemetry), load.accepted
    finally:
        process.stop()


@pytest.mark.collector
def test_a_full_queue_and_too_many_delta_streams_are_dropped_and_counted(
    otelcol: Path, tmp_path: Path
) -> None:
    exporters = ("otlp_http/prometheus", "otlp_http/loki", "otlp_grpc/tempo")
    tiny_queues = {name: {"sending_queue": {"queue_size": 2000}} for name in exporters}
    one_stream = {"delta_to_cumulative": {"max_streams": 1}}
    enqueue_failed = [n for t, n in EXPORTER_DROP_COUNTERS.items() if t.startswith("enqueue_")]
    dropped_points = "otelcol_deltatocumulative_datapoints_total{error=limit}"
    counted = [*enqueue_failed, dropped_points]
    changes = {"exporters": tiny_queues, "processors": one_stream}
    totals, accepted = overloaded(otelcol, tmp_path, changes, counted)

    assert {name: totals.get(name, 0) > 0 for name in counted} == dict.fromkeys(counted, True)
    # The batch processor had already answered the sender: a full queue drops silently but for
    # these counters (README, "What survives what").
    assert accepted.resends == 0


@pytest.mark.collector
def test_memory_pressure_is_refused_to_the_sender_and_counted(
    otelcol: Path, tmp_path: Path
) -> None:
    # A heap always over the soft limit: memory_limiter refuses everything.
    tiny_limit = {"memory_limiter": {"limit_mib": 2, "spike_limit_mib": 1}}
    refused = list(RECEIVER_REFUSAL_COUNTERS.values())
    by_limiter = [
        name.replace("otelcol_receiver_", "otelcol_processor_memory_limiter_") for name in refused
    ]
    counted = [*refused, *by_limiter]
    totals, accepted = overloaded(otelcol, tmp_path, {"processors": tiny_limit}, counted)

    assert {name: totals.get(name, 0) > 0 for name in counted} == dict.fromkeys(counted, True)
    assert accepted.resends > 0
