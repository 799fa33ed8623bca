"""Claude Code: seed 001's structure (26 panels in 7 rows, only the two datasource variables) and
the numbers its Prometheus panels show on the backfilled 7-day fixture, compared with truths
computed from the generated events and counter recordings: sums within 1 %, counts exactly.
Each test runs the panel's own query, imported from dashboards/claude_code.py. Loki panels are
checked by the grammar test (tests/test_queries_program.py): there is no Loki here.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

import pytest

from components.datasources import SCRAPE_INTERVAL
from dashboards import claude_code as cc
from dashboards.panels import render
from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryContext, QueryDataset, Series
from tools.telemetry.events import ClaudeCodeEvent, Measurement, Traffic
from tools.telemetry.pricing import PRICES
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import export_ticks
from vocabulary.pricing import load_pricing

DAY = 86_400.0
HOUR = 3600.0
REL = 0.01

# Seed 001's rows: title, then each panel's title and visualisation, in order.
SEED_ROWS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Cost Overview",
        [
            ("Real-Time Cost Burn Rate (USD per hour)", "timeseries"),
            ("Total Cost Today", "stat"),
            ("Cache Write Cost", "stat"),
            ("Regular Input Cost", "stat"),
            ("Code Edit Acceptance Rate %", "stat"),
        ],
    ),
    (
        "Cost Analytics",
        [
            ("Cost Forecast (this month)", "stat"),
            ("Average Cost / Session", "stat"),
            ("Cost per 1K Tokens", "stat"),
            ("Active Time", "stat"),
            ("Token Distribution by Model", "piechart"),
        ],
    ),
    (
        "Session & Code Metrics",
        [
            ("Active Sessions", "stat"),
            ("Average Session Metrics", "bargauge"),
            ("Lines of Code Modified", "bargauge"),
        ],
    ),
    (
        "Token Analytics",
        [
            ("Cache Hit Rate %", "gauge"),
            ("Total Tokens Today", "stat"),
            ("Model Token Efficiency (tokens/$)", "bargauge"),
        ],
    ),
    (
        "Tool & Activity",
        [
            ("Tool Usage Breakdown (bar)", "barchart"),
            ("Peak Cost Hours", "timeseries"),
            ("Weekly Total Token Usage (last 7 days vs the 7 before)", "stat"),
        ],
    ),
    (
        "Anomaly & Patterns",
        [
            ("Cost Anomaly Detection (vs trailing 24h average)", "timeseries"),
            ("Prompts Per Hour", "timeseries"),
            ("Tool Decision Sources", "piechart"),
        ],
    ),
    (
        "Velocity & Distribution",
        [
            ("Code Modification Velocity (lines/min)", "timeseries"),
            ("Token Usage Rate (tokens/min)", "timeseries"),
            ("Prompt Length Distribution", "barchart"),
            ("Tool Usage Breakdown (pie)", "piechart"),
        ],
    ),
]
LOKI_PANELS = {
    "Tool Usage Breakdown (bar)",
    "Prompts Per Hour",
    "Tool Decision Sources",
    "Prompt Length Distribution",
    "Tool Usage Breakdown (pie)",
}


# --- structure ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return render(cc.build(load_pricing()))


def rows(model: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: list[tuple[str, list[dict[str, Any]]]] = []
    for panel in model["panels"]:
        if panel["type"] == "row":
            grouped.append((panel["title"], list(panel.get("panels", []))))
        else:
            assert grouped, f"panel {panel['title']!r} sits above the first row"
            grouped[-1][1].append(panel)
    return grouped


def test_26_panels_in_the_seeds_7_rows(model: dict[str, Any]) -> None:
    found = [
        (title, [(panel["title"], panel["type"]) for panel in panels])
        for title, panels in rows(model)
    ]
    assert found == SEED_ROWS
    assert sum(len(panels) for _, panels in found) == 26


def test_every_panel_reads_one_of_the_two_datasource_variables(model: dict[str, Any]) -> None:
    variables = {v["name"]: (v["type"], v["query"]) for v in model["templating"]["list"]}
    datasources = {name: found for name, found in variables.items() if found[0] == "datasource"}
    assert datasources == {
        "ds_prometheus": ("datasource", "prometheus"),
        "ds_loki": ("datasource", "loki"),
    }
    for _, panels in rows(model):
        for panel in panels:
            expected = "${ds_loki}" if panel["title"] in LOKI_PANELS else "${ds_prometheus}"
            assert panel["datasource"]["uid"] == expected, panel["title"]
            for target in panel["targets"]:
                assert target.get("datasource", panel["datasource"]) == panel["datasource"]


def test_no_seed_mistake_survives(model: dict[str, Any]) -> None:
    queries = [
        target.get("expr", "")
        for _, panels in rows(model)
        for panel in panels
        for target in panel["targets"]
    ]
    text = "\n".join(queries)
    for wrong in (
        "claude_code_cost_usage_total",  # the Prometheus exporter's name, not OTLP's
        "active_time_total_total",
        "code_edit_tool_decision_count_total",  # captures show no `_count` (docs/telemetry.md)
        '"claude_code.',  # event_name is tool_result, not claude_code.tool_result
        "| json",  # Claude Code's event lines are not JSON
        "[24h]",  # a fixed window would ignore the picker
        "[24h:5m]",
        "sum by (day)",
    ):
        assert wrong not in text, wrong


def test_the_stat_panels_that_ask_for_it_compare_with_the_last_7_days(
    model: dict[str, Any],
) -> None:
    panels = {panel["title"]: panel for _, group in rows(model) for panel in group}
    for title in (
        "Total Cost Today",
        "Total Tokens Today",
        "Weekly Total Token Usage (last 7 days vs the 7 before)",
    ):
        assert len(panels[title]["targets"]) == 2, title
    assert panels["Total Cost Today"]["timeFrom"] == "now/d"
    for title in ("Cache Write Cost", "Regular Input Cost"):
        description = panels[title]["description"]
        assert "configs/pricing.yaml" in description and "5-minute" in description


# --- numbers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset()


@pytest.fixture(scope="module")
def traffic(dataset: QueryDataset) -> Traffic:
    return simulate(dataset.scenario)


def reported(item: ClaudeCodeEvent | Measurement, interval: float) -> float:
    """The export tick that carries a recording (storage.py's cumulative points)."""
    ticks = export_ticks(item.process.start, item.process.end, interval)
    return ticks[bisect.bisect_left(ticks, item.time)]


def requests(traffic: Traffic) -> list[ClaudeCodeEvent]:
    return [event for event in traffic.claude_code_events if event.name == "api_request"]


def measured_sum(traffic: Traffic, instrument: str, label: str | None = None) -> dict[str, float]:
    """What the counter `instrument` recorded in all, by one attribute."""
    sums: dict[str, float] = defaultdict(float)
    for measurement in traffic.claude_code_measurements:
        if measurement.instrument == instrument:
            sums[dict(measurement.attributes).get(label, "") if label else ""] += measurement.value
    return dict(sums)


TOKEN_ATTRIBUTES = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cacheRead": "cache_read_tokens",
    "cacheCreation": "cache_creation_tokens",
}


def tokens(event: ClaudeCodeEvent, *kinds: str) -> int:
    return sum(int(event.attribute(TOKEN_ATTRIBUTES[kind])) for kind in kinds or TOKEN_ATTRIBUTES)


def cost(event: ClaudeCodeEvent) -> float:
    return float(event.attribute("cost_usd"))


def context(start: float, end: float, min_interval: str | None = None) -> QueryContext:
    return QueryContext(
        start=start, end=end, min_interval=min_interval, scrape_interval=SCRAPE_INTERVAL
    )


def whole(dataset: QueryDataset) -> QueryContext:
    return context(dataset.scenario.start, dataset.end)


def value(dataset: QueryDataset, expr: str, window: QueryContext) -> float:
    (entry,) = dataset.instant(expr, window)
    return float(entry["value"][1])


def by(result: Sequence[Series], label: str) -> dict[Hashable, float]:
    return {entry["metric"].get(label, ""): float(entry["value"][1]) for entry in result}


def assert_close(measured: dict[Hashable, float], truth: dict[Hashable, float]) -> None:
    assert measured.keys() == truth.keys()
    for key, expected in truth.items():
        assert measured[key] == pytest.approx(expected, rel=REL), key


@pytest.mark.query
def test_total_cost_and_tokens_today_with_their_7_day_averages(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    now, interval = dataset.now, dataset.scenario.export_interval
    midnight = now // DAY * DAY
    today = [e for e in requests(traffic) if midnight < reported(e, interval) <= now]
    week = [e for e in requests(traffic) if now - 7 * DAY < reported(e, interval) <= now]
    window = context(midnight, now)
    assert value(dataset, cc.COST_TOTAL, window) == pytest.approx(sum(map(cost, today)), rel=REL)
    assert value(dataset, cc.COST_DAILY_AVERAGE_7D, window) == pytest.approx(
        sum(map(cost, week)) / 7, rel=REL
    )
    assert value(dataset, cc.TOKENS_TOTAL, window) == pytest.approx(
        sum(tokens(e) for e in today), rel=REL
    )
    assert value(dataset, cc.TOKENS_DAILY_AVERAGE_7D, window) == pytest.approx(
        sum(tokens(e) for e in week) / 7, rel=REL
    )


@pytest.mark.query
def test_cache_write_and_input_costs_are_tokens_at_list_price(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    """The pricing table's derivation equals the generator's own prices for each token type."""
    for expr, kind, column in (
        (cc.CACHE_WRITE_COST, "cacheCreation", "cache_write"),
        (cc.INPUT_COST, "input", "input"),
    ):
        truth = sum(
            tokens(e, kind) * getattr(PRICES[str(e.attribute("model"))], column) / 1e6
            for e in requests(traffic)
        )
        assert value(dataset, expr, whole(dataset)) == pytest.approx(truth, rel=REL), kind


@pytest.mark.query
def test_code_edit_acceptance_rate(dataset: QueryDataset, traffic: Traffic) -> None:
    decisions = measured_sum(traffic, "claude_code.code_edit_tool.decision", "decision")
    truth = 100 * decisions["accept"] / sum(decisions.values())
    assert value(dataset, cc.ACCEPTANCE_RATE, whole(dataset)) == pytest.approx(truth, rel=REL)


@pytest.mark.query
def test_forecast_is_the_daily_average_times_the_days_of_the_month(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    week = context(dataset.end - 7 * DAY, dataset.end)
    truth = sum(map(cost, requests(traffic))) / 7 * 31  # the fixture's week is in March
    assert value(dataset, cc.FORECAST_MONTH, week) == pytest.approx(truth, rel=REL)


@pytest.mark.query
def test_sessions_and_per_session_averages(dataset: QueryDataset, traffic: Traffic) -> None:
    window = whole(dataset)
    sessions = dataset.totals.claude_code_sessions
    assert value(dataset, cc.SESSIONS_ACTIVE, window) == sessions
    assert round(value(dataset, cc.CLI_STARTS, window)) == dataset.totals.claude_code_processes
    everything = requests(traffic)
    active = sum(measured_sum(traffic, "claude_code.active_time.total").values())
    for expr, truth in (
        (cc.COST_PER_SESSION, sum(map(cost, everything)) / sessions),
        (cc.TOKENS_PER_SESSION, sum(tokens(e) for e in everything) / sessions),
        (cc.ACTIVE_TIME_PER_SESSION, active / sessions),
        (cc.COST_PER_1K_TOKENS, 1000 * sum(map(cost, everything)) / sum(map(tokens, everything))),
    ):
        assert value(dataset, expr, window) == pytest.approx(truth, rel=REL), expr


@pytest.mark.query
def test_breakdowns_by_type_and_model(dataset: QueryDataset, traffic: Traffic) -> None:
    window = whole(dataset)
    assert_close(
        by(dataset.instant(cc.ACTIVE_TIME_BY_TYPE, window), "type"),
        measured_sum(traffic, "claude_code.active_time.total", "type"),
    )
    assert_close(
        by(dataset.instant(cc.LINES_BY_TYPE, window), "type"),
        measured_sum(traffic, "claude_code.lines_of_code.count", "type"),
    )
    token_truth: dict[Hashable, float] = defaultdict(float)
    cost_truth: dict[Hashable, float] = defaultdict(float)
    for event in requests(traffic):
        token_truth[str(event.attribute("model"))] += tokens(event)
        cost_truth[str(event.attribute("model"))] += cost(event)
    assert_close(by(dataset.instant(cc.TOKENS_BY_MODEL, window), "model"), dict(token_truth))
    assert_close(
        by(dataset.instant(cc.TOKENS_PER_DOLLAR_BY_MODEL, window), "model"),
        {model: token_truth[model] / cost_truth[model] for model in token_truth},
    )


@pytest.mark.query
def test_cache_hit_rate_counts_cache_writes_as_misses(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    everything = requests(traffic)
    reads = sum(tokens(e, "cacheRead") for e in everything)
    prompt = sum(tokens(e, "input", "cacheRead", "cacheCreation") for e in everything)
    assert value(dataset, cc.CACHE_HIT_RATE, whole(dataset)) == pytest.approx(
        100 * reads / prompt, rel=REL
    )


def _cost_per_hour(
    dataset: QueryDataset, traffic: Traffic
) -> tuple[dict[float, float], dict[Hashable, float]]:
    """COST_PER_HOUR's hours on the day before the last, and each hour's reported cost."""
    interval = dataset.scenario.export_interval
    # The day before the last: the generator's runaway Opus session makes its busiest hours.
    day = context(dataset.end - 2 * DAY, dataset.end - DAY, min_interval="1h")
    (series,) = dataset.range(cc.COST_PER_HOUR, day)
    measured = {
        float(moment): float(amount)
        for moment, amount in series["values"]
        if float(amount) and float(moment) < day.end  # the point at T is the hour after T
    }
    truth: dict[Hashable, float] = defaultdict(float)
    # Recorded windows end a minute before they are recorded: hour T holds (T - 1m, T + 59m].
    late = 60
    for event in requests(traffic):
        at = reported(event, interval) + late
        if day.start < at <= day.end:
            truth[(at - 1) // HOUR * HOUR] += cost(event)
    return measured, truth


@pytest.mark.query
def test_cost_per_hour_adds_up_to_the_days_reported_cost(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    measured, truth = _cost_per_hour(dataset, traffic)
    assert len(truth) > 5
    assert sum(measured.values()) == pytest.approx(sum(truth.values()), rel=0.01)
    assert measured.keys() == truth.keys()


@pytest.mark.query
def test_peak_cost_hours_are_each_hours_reported_cost(
    dataset: QueryDataset, traffic: Traffic
) -> None:
    measured, truth = _cost_per_hour(dataset, traffic)
    for key, value in truth.items():
        assert measured[key] == pytest.approx(value, rel=1e-6), key


@pytest.mark.query
def test_weekly_tokens_and_the_week_before(dataset: QueryDataset, traffic: Traffic) -> None:
    everything = sum(tokens(e) for e in requests(traffic))
    # The fixture is one week long: its last 7 days hold everything, the week before nothing.
    at_end = context(dataset.end - 7 * DAY, dataset.end)
    assert value(dataset, cc.TOKENS_LAST_7D, at_end) == pytest.approx(everything, rel=REL)
    assert math.isnan(value(dataset, cc.TOKENS_PREVIOUS_7D, at_end))  # shown as "no data yet"
    a_week_later = context(dataset.end, dataset.end + 7 * DAY)
    assert value(dataset, cc.TOKENS_PREVIOUS_7D, a_week_later) == pytest.approx(everything, rel=REL)
