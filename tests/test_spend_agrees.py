"""One definition of spend: the "Spend today" panel, the daily-budget rule and the cost report
give the same UTC day's spend, within 0.5 % of each other and of the generator's truth, with an
app that reports only tokens (doc-summarizer) in the data, all read from the recorded series
(the exported recording rules evaluated every 5 minutes)."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime

import pytest

from alerts import alert_rules
from components.datasources import SCRAPE_INTERVAL
from components.settings import AlertThresholds
from dashboards import cost_tokens, render_all
from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryContext, QueryDataset
from tools.querylab.walker import dashboard_queries
from tools.report.api import ApiClient, PrometheusApi
from tools.report.collect import collect
from tools.report.figures import build_figures
from tools.report.period import day_period
from tools.telemetry.events import Traffic
from tools.telemetry.scenario import DAY, Scenario
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import export_ticks
from vocabulary.pricing import load_pricing

pytestmark = pytest.mark.query

# Three apps: the third, doc-summarizer, emits no gen_ai.usage.cost (tokens only).
SCENARIO = Scenario(days=2, users=3, apps=3, app_days=2)
TOKEN_ONLY_APP = "doc-summarizer"
# Recorded windows end a minute before they are recorded (vocabulary/recording.py).
LATE = 60.0
REL = 0.005


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset(SCENARIO)


def reported_costs(traffic: Traffic, interval: float) -> list[tuple[float, float, str]]:
    """(export time, USD, source) of every priced call: when its increment reached Prometheus."""
    calls = []
    for event in traffic.claude_code_events:
        if event.name == "api_request":
            process = event.process
            ticks = export_ticks(process.start, process.end, interval)
            tick = ticks[bisect.bisect_left(ticks, event.time)]
            calls.append((tick, float(event.attribute("cost_usd")), "claude-code"))
    for request in traffic.app_requests:
        if request.llm.error_type:
            continue
        at = request.time + request.duration
        ticks = export_ticks(request.process.start, request.process.end, interval)
        tick = ticks[bisect.bisect_left(ticks, at)]
        calls.append((tick, request.llm.cost_usd, request.process.service))
    return calls


def truth(dataset: QueryDataset, start: float, end: float) -> float:
    """USD exported in the recorded windows (start - LATE, end - LATE]."""
    calls = reported_costs(simulate(dataset.scenario), dataset.scenario.export_interval)
    return sum(cost for tick, cost, _ in calls if start - LATE < tick <= end - LATE)


def spend_today_panel(dataset: QueryDataset, now: float) -> float:
    """The panel as Grafana runs it: its query, over its relative time (now/d -> now)."""
    models = render_all(load_pricing())
    (panel,) = [p for p in models[cost_tokens.UID]["panels"] if p.get("title") == "Spend today"]
    assert panel["timeFrom"] == "now/d"
    (query,) = [
        q
        for q in dashboard_queries(models)
        if q.where.startswith(f"dashboard {cost_tokens.UID} / panel 'Spend today'")
    ]
    assert query.instant
    midnight = now - now % DAY
    context = QueryContext(
        start=midnight, end=now, scrape_interval=SCRAPE_INTERVAL, variables=query.variables
    )
    (entry,) = dataset.instant(query.expr, context)
    return float(entry["value"][1])


def daily_budget_rule(dataset: QueryDataset, at: float) -> float:
    (rule,) = [
        r for r in alert_rules(AlertThresholds(), load_pricing()) if r.uid == "llm-o11y-daily-spend"
    ]
    assert rule.panel.panel_title == "Spend today"
    (entry,) = dataset.server.query(rule.query, at)
    return float(entry["value"][1])


def report_day(dataset: QueryDataset, at: float) -> float:
    """The cost report's figure for the UTC day of `at`, as of `at` (`--day D --as-of T`)."""
    as_of = datetime.fromtimestamp(at, UTC)
    day = datetime.fromtimestamp(at - 1, UTC).date()
    period = day_period(day.isoformat(), as_of)
    api = PrometheusApi(ApiClient("Prometheus", dataset.server.url, None, "none", 60.0))
    figures = build_figures(collect(period, api, None, lambda _: None))
    spent = figures.cost.day_total(day)
    assert spent is not None
    return float(spent)


def test_the_data_holds_an_app_that_reports_only_tokens(dataset: QueryDataset) -> None:
    result = dataset.server.query(
        f'count by (service_name) (gen_ai_usage_cost_USD_sum{{service_name="{TOKEN_ONLY_APP}"}})',
        dataset.end,
    )
    assert result == []
    tokens = dataset.server.query(
        f'count(gen_ai_client_token_usage_sum{{service_name="{TOKEN_ONLY_APP}"}})', dataset.end
    )
    assert tokens, "the token-only app sent no tokens"


def test_a_running_day_agrees_in_panel_rule_and_report(dataset: QueryDataset) -> None:
    """18:00 UTC on the last day: spend since midnight from all three, and the truth."""
    midnight = dataset.end - DAY
    now = midnight + 18 * 3600
    expected = truth(dataset, midnight, now)
    panel, rule, report = (
        spend_today_panel(dataset, now),
        daily_budget_rule(dataset, now),
        report_day(dataset, now),
    )
    assert expected > 0
    for measured in (panel, rule, report):
        assert measured == pytest.approx(expected, rel=REL)
    assert panel == pytest.approx(rule, rel=REL) and rule == pytest.approx(report, rel=REL)


def test_a_whole_day_agrees_in_rule_and_report_and_counts_the_token_only_app(
    dataset: QueryDataset,
) -> None:
    """At midnight the rule still measures the day that just ended (its last window included),
    as the report's daily figure does; the token-only app's cost is in both."""
    end = dataset.end
    expected = truth(dataset, end - DAY, end)
    calls = reported_costs(simulate(dataset.scenario), dataset.scenario.export_interval)
    token_only = sum(c for t, c, s in calls if s == TOKEN_ONLY_APP and end - DAY < t + LATE <= end)
    assert token_only > 0
    rule, report = daily_budget_rule(dataset, end), report_day(dataset, end)
    assert rule == pytest.approx(expected, rel=REL)
    assert report == pytest.approx(expected, rel=REL)
    without = dataset.server.query(
        'sum(sum_over_time(llm:spend_usd:increase5m{service_name!="doc-summarizer"}[1d]))', end
    )
    assert float(without[0]["value"][1]) == pytest.approx(expected - token_only, rel=REL)
