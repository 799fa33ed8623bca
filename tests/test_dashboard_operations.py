"""Numbers of the operations dashboards (Mission Control, API, Agent Sessions, Traces & Latency,
Stack Health), checked on the backfilled fixture against what the generator really produced.

Each test runs the query function the panel runs, with the panel's window swapped for one the
truth is computed over (the fixture's LLM apps run only on its last day, so their checks cover
that day whole). Truths come from the generated events, never from PromQL. Quantiles must land
in the histogram bucket that holds the true quantile: that is all a histogram can promise.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

import pytest

from dashboards import agent_sessions, api, mission_control, stack_health, traces_latency
from dashboards.panels import render
from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryContext, QueryDataset, Series
from tools.telemetry.catalog import DURATION_BUCKETS, SPANMETRICS_BUCKETS
from tools.telemetry.events import AppRequest, ClaudeCodeProcess, Traffic
from tools.telemetry.simulate import simulate
from vocabulary import measures
from vocabulary.pricing import load_pricing

pytestmark = pytest.mark.query

HOUR = 3600.0
DAY = 86_400.0
RANGE = "[$__range]"
OPERATIONS_DASHBOARDS = (mission_control, api, agent_sessions, traces_latency, stack_health)
# A fixed range; one followed by `offset` is a lookup before the range (a counter's baseline).
FIXED_WINDOW = re.compile(r"\[(\d+[smhdw])\](?! offset)")


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset()


@pytest.fixture(scope="module")
def traffic(dataset: QueryDataset) -> Traffic:
    return simulate(dataset.scenario)


def app_day(dataset: QueryDataset) -> QueryContext:
    """A range holding all the apps' traffic with an hour to spare, so no sample is cut off."""
    return QueryContext(start=dataset.scenario.apps_start - HOUR, end=dataset.end)


def whole_dataset(dataset: QueryDataset) -> QueryContext:
    return QueryContext(start=dataset.scenario.start, end=dataset.end)


def values(result: Sequence[Series], *labels: str) -> dict[tuple[str, ...], float]:
    """{(label values...): instant value} of an instant query's result."""
    return {
        tuple(entry["metric"].get(label, "") for label in labels): float(entry["value"][1])
        for entry in result
    }


def scalar(result: Sequence[Series]) -> float:
    (entry,) = result
    return float(entry["value"][1])


def quantile(samples: Iterable[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def bucket_of(value: float, bounds: Sequence[float]) -> tuple[float, float]:
    """(lower, upper] bounds of the histogram bucket holding `value`."""
    position = bisect.bisect_left(bounds, value)
    lower = bounds[position - 1] if position > 0 else 0.0
    upper = bounds[position] if position < len(bounds) else math.inf
    return lower, upper


def assert_same_bucket(measured: float, truth: float, bounds: Sequence[float], what: str) -> None:
    lower, upper = bucket_of(truth, bounds)
    assert lower <= measured <= upper, f"{what}: {measured:.3f} outside ({lower}, {upper}]"


def group(
    requests: Iterable[AppRequest], key: Callable[[AppRequest], str]
) -> dict[str, list[AppRequest]]:
    grouped: dict[str, list[AppRequest]] = defaultdict(list)
    for request in requests:
        grouped[key(request)].append(request)
    return grouped


# Mission Control -------------------------------------------------------------------------------


def test_requests_errors_and_success_rate_match_the_truth(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    context = app_day(dataset)
    total = len(traffic.app_requests)
    failed = sum(1 for request in traffic.app_requests if request.status_code >= 500)
    assert failed > 0, "the fixture must contain 5xx responses"
    requests = scalar(dataset.instant(mission_control.requests(RANGE), context))
    errors = scalar(dataset.instant(mission_control.server_errors(RANGE), context))
    success = scalar(dataset.instant(mission_control.success_rate(RANGE), context))
    assert requests == pytest.approx(total, rel=0.01)
    assert errors == pytest.approx(failed, abs=1.0)
    assert success == pytest.approx(1 - failed / total, abs=0.002)


def test_average_response_time_is_exact(dataset: QueryDataset, traffic: Traffic) -> None:
    measured = scalar(
        dataset.instant(mission_control.average_response_time(RANGE), app_day(dataset))
    )
    truth = statistics.fmean(request.duration for request in traffic.app_requests)
    assert measured == pytest.approx(truth, rel=0.01)


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_response_time_percentiles_land_in_the_true_bucket(
    dataset: QueryDataset, traffic: Traffic, q: float
) -> None:
    measured = scalar(
        dataset.instant(mission_control.response_time_quantile(q, RANGE), app_day(dataset))
    )
    truth = quantile((request.duration for request in traffic.app_requests), q)
    assert_same_bucket(measured, truth, SPANMETRICS_BUCKETS, f"P{q * 100:g}")


def test_active_users_in_the_last_hour_are_those_who_made_requests(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    """A request up to one export (60 s) before the window or its end may or may not count."""
    requests = [
        (event.time, event.process.user.email)
        for event in traffic.claude_code_events
        if event.name == "api_request"
    ]
    checked = 0
    for hours_before in range(12):
        end = dataset.now - hours_before * HOUR
        context = QueryContext(start=end - HOUR, end=end)
        measured = scalar(dataset.instant(mission_control.active_users("[1h]"), context))
        surely = {user for time, user in requests if end - HOUR + 60 < time <= end - 60}
        maybe = {user for time, user in requests if end - HOUR - 60 < time <= end}
        assert len(surely) <= measured <= len(maybe), end
        checked += len(surely) > 0
    assert checked >= 3, "the hours checked must include some with active users"


def test_llm_calls_by_operation_and_model(dataset: QueryDataset, traffic: Traffic) -> None:
    result = dataset.instant(mission_control.llm_calls_by_operation(RANGE), app_day(dataset))
    measured = values(result, "gen_ai_operation_name", "gen_ai_request_model")
    truth = Counter((r.llm.operation, r.llm.model) for r in traffic.app_requests)
    assert measured.keys() == truth.keys()
    for key, count in truth.items():
        assert measured[key] == pytest.approx(count, rel=0.01), key


def test_llm_errors_by_type(dataset: QueryDataset) -> None:
    result = dataset.instant(mission_control.llm_errors_by_type(RANGE), app_day(dataset))
    measured = values(result, "error_type")
    truth = dataset.totals.app_llm_errors_by_type
    assert {key for (key,) in measured} == truth.keys()
    for error_type, count in truth.items():
        assert measured[(error_type,)] == pytest.approx(count, abs=0.5), error_type


# API --------------------------------------------------------------------------------------------


def test_error_ratio_by_endpoint(dataset: QueryDataset, traffic: Traffic) -> None:
    result = dataset.instant(api.error_ratio_by_endpoint(RANGE), app_day(dataset))
    measured = values(result, "job", "http_route")
    by_endpoint = group(traffic.app_requests, lambda r: f"{r.process.service} {r.route}")
    assert len(measured) == len(by_endpoint)
    for (job, route), ratio in measured.items():
        requests = by_endpoint[f"{job} {route}"]
        truth = sum(r.status_code >= 500 for r in requests) / len(requests)
        assert ratio == pytest.approx(truth, abs=0.002), (job, route)


def test_status_code_breakdown(dataset: QueryDataset, traffic: Traffic) -> None:
    result = dataset.instant(api.responses_by_status("increase", RANGE), app_day(dataset))
    measured = values(result, "http_response_status_code")
    truth = Counter(str(request.status_code) for request in traffic.app_requests)
    assert {key for (key,) in measured} == truth.keys()
    for code, count in truth.items():
        assert measured[(code,)] == pytest.approx(count, rel=0.01, abs=0.5), code


def test_slowest_endpoints_p95_lands_in_the_true_bucket(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    result = dataset.instant(api.slowest_endpoints(RANGE), app_day(dataset))
    measured = values(result, "service", "span_name")
    by_endpoint = group(traffic.app_requests, lambda r: f"{r.method} {r.route}")
    assert len(measured) == len(by_endpoint)
    for (service, span_name), p95 in measured.items():
        truth = quantile((r.duration for r in by_endpoint[span_name]), 0.95)
        assert_same_bucket(p95, truth, SPANMETRICS_BUCKETS, f"{service} {span_name}")


def test_llm_error_percent_and_p95_by_service(dataset: QueryDataset, traffic: Traffic) -> None:
    context = app_day(dataset)
    errors = values(
        dataset.instant(api.llm_error_percent_by_service(RANGE), context), "service_name"
    )
    p95 = values(
        dataset.instant(api.llm_call_quantile_by_service(0.95, RANGE), context), "service_name"
    )
    by_service = group(traffic.app_requests, lambda r: r.process.service)
    assert {key for (key,) in errors} == by_service.keys() == {key for (key,) in p95}
    for service, requests in by_service.items():
        failed = sum(1 for r in requests if r.llm.error_type)
        assert errors[(service,)] == pytest.approx(100 * failed / len(requests), abs=0.2)
        truth = quantile((r.llm.duration for r in requests), 0.95)
        assert_same_bucket(p95[(service,)], truth, DURATION_BUCKETS, service)


# Traces & Latency ------------------------------------------------------------------------------


def spans(traffic: Traffic) -> dict[tuple[str, str], list[tuple[float, bool]]]:
    """(service, span name) -> [(duration, failed)] of the SERVER and LLM CLIENT spans."""
    found: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    for r in traffic.app_requests:
        server = (r.process.service, f"{r.method} {r.route}")
        found[server].append((r.duration, r.status_code >= 500))
        client = (r.process.service, f"{r.llm.operation} {r.llm.model}")
        found[client].append((r.llm.duration, r.llm.error_type is not None))
    return found


def test_average_latency_and_error_share_by_operation(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    context = app_day(dataset)
    average = values(
        dataset.instant(traces_latency.operation_average(RANGE), context), "service", "span_name"
    )
    errors = values(
        dataset.instant(traces_latency.span_error_ratio(RANGE), context), "service", "span_name"
    )
    p95 = values(
        dataset.instant(traces_latency.span_quantile(0.95, RANGE), context),
        "service",
        "span_name",
    )
    truth = spans(traffic)
    assert average.keys() == errors.keys() == p95.keys() == truth.keys()
    for operation, observed in truth.items():
        durations = [duration for duration, _ in observed]
        assert average[operation] == pytest.approx(statistics.fmean(durations), rel=0.01)
        share = sum(failed for _, failed in observed) / len(observed)
        assert errors[operation] == pytest.approx(share, abs=0.002), operation
        assert_same_bucket(
            p95[operation], quantile(durations, 0.95), SPANMETRICS_BUCKETS, str(operation)
        )


def test_token_split_matches_the_truth(dataset: QueryDataset) -> None:
    result = dataset.instant(traces_latency.tokens_by_kind(RANGE), app_day(dataset))
    measured = values(result, "kind")
    truth: Counter[str] = Counter()
    for (token_type, _model), tokens in dataset.totals.app_tokens_by_type_model.items():
        truth[{"input": "prompt", "output": "completion"}[token_type]] += tokens
    assert {key for (key,) in measured} == truth.keys()
    for kind, tokens in truth.items():
        assert measured[(kind,)] == pytest.approx(tokens, rel=0.01), kind


def test_cost_and_cost_per_call_by_model(dataset: QueryDataset, traffic: Traffic) -> None:
    context = app_day(dataset)
    cost = values(
        dataset.instant(traces_latency.cost_by_model(RANGE), context), "gen_ai_response_model"
    )
    per_call = values(
        dataset.instant(traces_latency.cost_per_call_by_model(RANGE), context),
        "gen_ai_response_model",
    )
    truth = dataset.totals.app_cost_by_model
    successful = Counter(r.llm.model for r in traffic.app_requests if not r.llm.error_type)
    assert {key for (key,) in cost} == truth.keys() == {key for (key,) in per_call}
    for model, usd in truth.items():
        assert cost[(model,)] == pytest.approx(usd, rel=0.01), model
        assert per_call[(model,)] == pytest.approx(usd / successful[model], rel=0.01), model


# Agent Sessions --------------------------------------------------------------------------------


def alive(process: ClaudeCodeProcess, at: float) -> bool:
    """Exported within the two minutes before `at` (samples at start, every 60 s, and at end)."""
    return process.start <= at and process.end > at - 120


def test_sessions_started_and_seen_over_the_week(dataset: QueryDataset, traffic: Traffic) -> None:
    context = whole_dataset(dataset)
    started = scalar(dataset.instant(agent_sessions.sessions_started(RANGE), context))
    seen = scalar(dataset.instant(agent_sessions.sessions_seen(RANGE), context))
    assert started == pytest.approx(len(traffic.claude_code_processes), abs=1.0)
    assert seen == dataset.totals.claude_code_sessions


def test_sessions_started_per_hour_adds_up_to_the_processes_started(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    # Past the end by an hour, so the last step's windows cover the last process too.
    context = QueryContext(
        start=dataset.scenario.start, end=dataset.end + HOUR, min_interval=measures.MIN_INTERVAL
    )
    (series,) = dataset.range(measures.sessions_started_per_hour(), context)
    per_hour = [float(value) for _, value in series["values"]]
    started = sum(per_hour) * context.step / HOUR
    assert started == pytest.approx(len(traffic.claude_code_processes), abs=1.0)
    assert max(per_hour) > 0


def test_active_and_ended_sessions_through_the_last_day(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    processes = traffic.claude_code_processes
    busy = 0
    for hours_before in range(0, 24, 2):
        end = dataset.now - hours_before * HOUR
        context = QueryContext(start=end - DAY, end=end)
        active = scalar(dataset.instant(agent_sessions.active_sessions(), context))
        ended = scalar(dataset.instant(agent_sessions.sessions_ended(RANGE), context))
        alive_now = {p.session_id for p in processes if alive(p, end)}
        seen = {p.session_id for p in processes if p.start <= end and p.end > end - DAY}
        assert active == len(alive_now), end
        assert ended == len(seen) - len(alive_now), end
        busy += len(alive_now) > 0
    assert busy >= 2, "some of the moments checked must have sessions running"


def test_session_length_is_wall_clock_within_an_export_per_process(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    measured = scalar(dataset.instant(agent_sessions.session_length(RANGE), whole_dataset(dataset)))
    runs: dict[str, list[ClaudeCodeProcess]] = defaultdict(list)
    for process in traffic.claude_code_processes:
        runs[process.session_id].append(process)
    truth = statistics.fmean(sum(p.end - p.start for p in ps) for ps in runs.values())
    processes_per_session = len(traffic.claude_code_processes) / len(runs)
    assert truth <= measured <= truth + 120 * processes_per_session


def test_active_time_per_session_by_type(dataset: QueryDataset, traffic: Traffic) -> None:
    result = dataset.instant(agent_sessions.active_time_per_session(RANGE), whole_dataset(dataset))
    measured = values(result, "type")
    seconds: Counter[str] = Counter()
    sessions = set()
    for m in traffic.claude_code_measurements:
        if m.instrument == "claude_code.active_time.total":
            seconds[dict(m.attributes)["type"]] += m.value
            sessions.add(m.process.session_id)
    assert {key for (key,) in measured} == seconds.keys()
    for kind, total in seconds.items():
        assert measured[(kind,)] == pytest.approx(total / len(sessions), rel=0.01), kind


# Stack Health ----------------------------------------------------------------------------------


def test_availability_counts_the_outage(dataset: QueryDataset, traffic: Traffic) -> None:
    result = dataset.instant(stack_health.availability(RANGE), whole_dataset(dataset))
    measured = values(result, "job")
    assert measured.keys() == {
        (job,) for job in ("prometheus", "otel-collector", "loki", "tempo", "grafana")
    }
    for (job,), share in measured.items():
        down = sum(o.end - o.start for o in traffic.outages if o.job == job)
        assert share == pytest.approx(1 - down / (dataset.end - dataset.scenario.start), abs=1e-4)
    assert measured[("tempo",)] < 1.0


# Panel structure -------------------------------------------------------------------------------


def test_a_fixed_window_is_named_in_the_panel_title() -> None:
    """The time picker governs every panel, except one whose title names its own window. The
    active-session lookback is not a range but a "still exporting" test, so it is exempt."""
    for module in OPERATIONS_DASHBOARDS:
        for panel in render(module.SPEC.build(load_pricing()))["panels"]:
            for target in panel.get("targets", []):
                for window in FIXED_WINDOW.findall(target.get("expr", "")):
                    if f"[{window}]" != agent_sessions.ACTIVE_WINDOW:
                        assert f"(last {window})" in panel["title"], panel["title"]


def test_latency_percentile_panels_link_exemplars_to_traces() -> None:
    for module in (mission_control, traces_latency):
        for panel in render(module.SPEC.build(load_pricing()))["panels"]:
            if panel["type"] == "timeseries" and re.search(r"P95", panel["title"]):
                assert all(target.get("exemplar") for target in panel["targets"]), panel["title"]
