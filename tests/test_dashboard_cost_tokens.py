"""LLM Cost & Tokens: the pricing table and the numbers its panels show.

The pricing tests are fast: the table covers the generator's models at the generator's prices,
its patterns never overlap, and a price change reaches the queries. The number tests run each
panel's own query (imported from dashboards/cost_tokens.py) on the backfilled 7-day fixture in a
real Prometheus and compare with truths computed from the generated events: sums within 1 %,
counts exactly. A sub-day window is compared with what the exporters had reported by its end
(each increment travels with the export tick after it), a day with the events of that day.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from components.datasources import SCRAPE_INTERVAL
from dashboards import claude_code as cc
from dashboards import cost_tokens as ct
from dashboards.panels import PICKER_RANGE, render
from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryContext, QueryDataset, Series
from tools.telemetry.catalog import CLAUDE_CODE_SERVICES
from tools.telemetry.events import Traffic
from tools.telemetry.pricing import PRICES
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import export_ticks
from tools.telemetry.truth import utc_day
from vocabulary import filters, names
from vocabulary.measures import APPS
from vocabulary.pricing import (
    CLAUDE_CODE_TOKENS,
    GENAI_TOKENS,
    PRICING_FILE,
    PricingError,
    derived_cost,
    load_pricing,
    parse_pricing,
    price_table,
    price_time,
    recorded_token_cost,
)
from vocabulary.recording import raw_spend, recording_rules

DAY = 86_400.0
HOUR = 3600.0
REL = 0.01

# --- the pricing table -------------------------------------------------------------------------


def test_table_prices_every_generator_model_at_the_generator_price() -> None:
    table = load_pricing()
    for model, truth in PRICES.items():
        price = table.price_of(model)
        assert price is not None, model
        assert price.provider == truth.provider
        assert (price.input, price.output, price.cache_read, price.cache_write) == (
            truth.input,
            truth.output,
            truth.cache_read,
            truth.cache_write,
        ), model


def test_table_says_when_and_where_the_prices_were_taken() -> None:
    table = load_pricing()
    assert table.as_of <= date.today()
    assert set(table.sources) == {price.provider for price in table.models}
    assert all(url.startswith("https://") for url in table.sources.values())


def test_patterns_take_aliases_and_snapshots_but_not_a_sibling_model() -> None:
    table = load_pricing()
    assert table.price_of("claude-sonnet-4-5").model == "claude-sonnet-4-5-20250929"
    assert table.price_of("gpt-4o-mini").model == "gpt-4o-mini-2024-07-18"
    assert table.price_of("gpt-4o").model == "gpt-4o-2024-08-06"
    assert table.price_of("claude-sonnet-4-5-extra") is None


def test_overlapping_patterns_are_refused() -> None:
    document = yaml.safe_load(PRICING_FILE.read_text(encoding="utf-8"))
    document["models"][3]["match"] = "gpt-4o.*"  # would also price gpt-4o-mini
    with pytest.raises(PricingError, match="also matches gpt-4o-mini"):
        parse_pricing(document)


def test_a_price_change_changes_the_queries_and_their_descriptions(tmp_path: Path) -> None:
    document = yaml.safe_load(PRICING_FILE.read_text(encoding="utf-8"))
    document["models"][1]["cache_write"] = 4.5
    changed = parse_pricing(document)
    before = derived_cost(
        CLAUDE_CODE_TOKENS, PICKER_RANGE, token_types=["cacheCreation"], table=load_pricing()
    )
    after = derived_cost(
        CLAUDE_CODE_TOKENS, PICKER_RANGE, token_types=["cacheCreation"], table=changed
    )
    # Sonnet 4.5's row of the price table changes; Sonnet 4.6's, at the same price, stays.
    assert before.count("vector(3.75)") == after.count("vector(3.75)") + 1
    assert "vector(4.5)" in after and "vector(4.5)" not in before
    recorded = {rule.record: rule.expr for rule in recording_rules(changed)}
    assert "vector(4.5)" in recorded[names.CLAUDE_CODE_TOKEN_COST_RECORD]
    description = json.dumps(render(cc.build(changed)))
    assert "cache write $4.5" in description and "cache write $4.5" not in json.dumps(
        render(cc.build(load_pricing()))
    )


def _price_rows(table_expr: str, type_label: str) -> dict[str, set[str]]:
    """Token type -> the pricing entries price_table() has a row for."""
    rows: dict[str, set[str]] = {}
    groups = table_expr.split(f', "{type_label}", "')
    for rows_text, following in pairwise(groups):
        token_type = following.split('"', 1)[0]
        rows[token_type] = set(re.findall(rf'"{names.PRICE_ENTRY}", "([^"]+)"', rows_text))
    return rows


def test_the_price_table_skips_free_token_types_and_the_join_keeps_the_labels_sum_needs() -> None:
    table = load_pricing()
    rows = _price_rows(price_table(GENAI_TOKENS, table), names.APP_TOKEN_TYPE)
    models = {price.model for price in table.models}
    # agento11y and 2026 apps report cache types, priced at their columns; OpenAI charges
    # nothing for cache writes, so its models have no such row.
    assert rows["input"] == rows["output"] == rows["cache_read"] == models
    assert rows["cache_write"] == {p.model for p in table.models if p.provider != "openai"}
    query = derived_cost(GENAI_TOKENS, PICKER_RANGE, ["service_name"], table=table)
    assert query.startswith("sum by (service_name) (")
    growth = "sum by (service_name, gen_ai_response_model, gen_ai_token_type) ("
    assert growth in query
    assert f"group_left() {price_table(GENAI_TOKENS, table, at=price_time(PICKER_RANGE))}" in query
    # One label_replace per entry tags a series with the entry whose pattern takes its model.
    for price in table.models:
        tag = f'"{names.PRICE_ENTRY}", "{price.model}", "gen_ai_response_model", "{price.match}")'
        assert query.count(tag) == 1, price.model


def test_dashboard_uses_only_its_two_datasource_variables() -> None:
    model = render(ct.build(load_pricing()))
    variables = {v["name"]: v["type"] for v in model["templating"]["list"]}
    assert variables == {
        "ds_prometheus": "datasource",
        "ds_loki": "datasource",
        ct.MIN_REQUEST_COST: "textbox",
        **{choice.variable: "query" for choice in filters.FILTERS},
    }
    for panel in model["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] in ("${ds_prometheus}", "${ds_loki}"), panel
    assert model["timezone"] == "utc"


# --- truths from the generated events ----------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One LLM call as the generator made it, and when its increments were exported."""

    source: str  # service_name: claude-code or the app
    model: str
    user: str
    operation: str
    at: float
    reported: float
    cost: float
    ok: bool
    tokens: dict[str, int] = field(default_factory=dict)

    @property
    def prompt(self) -> int:
        return sum(n for kind, n in self.tokens.items() if kind != "output")


def first_tick(at: float, start: float, end: float, interval: float) -> float:
    """The export that carries a recording made at `at` (storage.py's cumulative points)."""
    ticks = export_ticks(start, end, interval)
    return ticks[bisect.bisect_left(ticks, at)]


def claude_code_calls(traffic: Traffic, interval: float) -> Iterable[Call]:
    for event in traffic.claude_code_events:
        if event.name != "api_request":
            continue
        process = event.process
        yield Call(
            source=process.service,
            model=str(event.attribute("model")),
            user=process.user.email,
            operation="",
            at=event.time,
            reported=first_tick(event.time, process.start, process.end, interval),
            cost=float(event.attribute("cost_usd")),
            ok=True,
            tokens={
                kind: int(event.attribute(name))
                for kind, name in (
                    ("input", "input_tokens"),
                    ("output", "output_tokens"),
                    ("cacheRead", "cache_read_tokens"),
                    ("cacheCreation", "cache_creation_tokens"),
                )
            },
        )


def app_calls(traffic: Traffic, interval: float) -> Iterable[Call]:
    for request in traffic.app_requests:
        llm, process = request.llm, request.process
        at = request.time + request.duration  # when storage.py records the call
        yield Call(
            source=process.service,
            model=llm.model,
            user=request.user,
            operation=llm.operation,
            at=at,
            reported=first_tick(at, process.start, process.end, interval),
            cost=llm.cost_usd,
            ok=llm.error_type is None,
            tokens={"input": llm.input_tokens, "output": llm.output_tokens},
        )


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset()


@pytest.fixture(scope="module")
def calls(dataset: QueryDataset) -> list[Call]:
    traffic = simulate(dataset.scenario)
    interval = dataset.scenario.export_interval
    return [*claude_code_calls(traffic, interval), *app_calls(traffic, interval)]


def total(
    calls: Iterable[Call], key: Callable[[Call], Hashable], value: Callable[[Call], float]
) -> dict[Hashable, float]:
    sums: dict[Hashable, float] = defaultdict(float)
    for call in calls:
        sums[key(call)] += value(call)
    return dict(sums)


def cost(call: Call) -> float:
    return call.cost


def context(start: float, end: float, min_interval: str | None = None) -> QueryContext:
    return QueryContext(
        start=start, end=end, min_interval=min_interval, scrape_interval=SCRAPE_INTERVAL
    )


def whole(dataset: QueryDataset) -> QueryContext:
    return context(dataset.scenario.start, dataset.end)


def by(result: Sequence[Series], *labels: str) -> dict[Hashable, float]:
    found: dict[Hashable, float] = {}
    for entry in result:
        key = tuple(entry["metric"].get(label, "") for label in labels)
        found[key[0] if len(labels) == 1 else key] = float(entry["value"][1])
    return found


def scalar(result: Sequence[Series]) -> float:
    (entry,) = result
    return float(entry["value"][1])


def assert_close(measured: dict[Hashable, float], truth: dict[Hashable, float]) -> None:
    assert measured.keys() == truth.keys()
    for key, value in truth.items():
        assert measured[key] == pytest.approx(value, rel=1e-6), key


def per_day(result: Sequence[Series], label: str | None = None) -> dict[Hashable, float]:
    """{day (or (label value, day)): value} of a daily-bars range query: the point at midnight
    D must hold day D itself."""
    found: dict[Hashable, float] = {}
    for series in result:
        for moment, value in series["values"]:
            day = utc_day(float(moment))
            key = day if label is None else (series["metric"].get(label, ""), day)
            if float(value):
                found[key] = float(value)
    return found


# --- spend -------------------------------------------------------------------------------------


@pytest.mark.query
def test_daily_cost_is_each_days_own_cost(dataset: QueryDataset, calls: list[Call]) -> None:
    week = context(dataset.end - 7 * DAY, dataset.end, min_interval="1d")
    measured = per_day(dataset.range(ct.DAILY_TOTAL_COST, week))
    assert_close(measured, total(calls, lambda c: utc_day(c.at), cost))


@pytest.mark.query
def test_daily_cost_by_source_and_by_model(dataset: QueryDataset, calls: list[Call]) -> None:
    week = context(dataset.end - 7 * DAY, dataset.end, min_interval="1d")
    by_source = per_day(dataset.range(ct.DAILY_COST_BY_SOURCE, week), "service_name")
    assert_close(by_source, total(calls, lambda c: (c.source, utc_day(c.at)), cost))
    by_model = per_day(dataset.range(ct.DAILY_COST_BY_MODEL, week), "model")
    assert_close(by_model, total(calls, lambda c: (c.model, utc_day(c.at)), cost))


@pytest.fixture(scope="module")
def team_of(dataset: QueryDataset) -> Callable[[Call], tuple[str, str]]:
    """(team, cost_center) of a call: its laptop's or its app's resource attributes."""
    traffic = simulate(dataset.scenario)
    users = {p.user.email: p.user for p in traffic.claude_code_processes}
    apps = {p.service: p for p in traffic.app_processes}

    def team(call: Call) -> tuple[str, str]:
        if call.source not in CLAUDE_CODE_SERVICES:
            return (apps[call.source].team, apps[call.source].cost_center)
        return (users[call.user].team, users[call.user].cost_center)

    return team


@pytest.mark.query
def test_spend_by_team(
    dataset: QueryDataset, calls: list[Call], team_of: Callable[[Call], tuple[str, str]]
) -> None:
    truth = total(calls, team_of, cost)
    # The fixture has two teams and users without one: the test cannot pass on one team.
    assert {team for team, _ in truth} == {"platform", "payments", ""}
    measured = by(dataset.instant(ct.COST_BY_TEAM, whole(dataset)), "team", "cost_center")
    assert_close(measured, truth)


@pytest.mark.query
def test_daily_cost_by_team(
    dataset: QueryDataset, calls: list[Call], team_of: Callable[[Call], tuple[str, str]]
) -> None:
    week = context(dataset.end - 7 * DAY, dataset.end, min_interval="1d")
    measured = per_day(dataset.range(ct.DAILY_COST_BY_TEAM, week), "team")
    assert_close(measured, total(calls, lambda c: (team_of(c)[0], utc_day(c.at)), cost))


@pytest.mark.query
def test_spend_today_this_month_and_projection(dataset: QueryDataset, calls: list[Call]) -> None:
    now = dataset.now
    midnight = now // DAY * DAY
    today = sum(c.cost for c in calls if midnight < c.reported <= now)
    assert scalar(dataset.instant(ct.TOTAL_COST, context(midnight, now))) == pytest.approx(
        today, rel=REL
    )
    first = datetime.fromtimestamp(dataset.scenario.start, UTC).replace(day=1).timestamp()
    month = context(first, dataset.end)  # the whole fixture lies in one month
    spent = sum(c.cost for c in calls)
    assert scalar(dataset.instant(ct.TOTAL_COST, month)) == pytest.approx(spent, rel=REL)
    days = 31  # March
    projected = spent / (dataset.end - first) * days * DAY
    assert scalar(dataset.instant(ct.PROJECTED_MONTH, month)) == pytest.approx(projected, rel=REL)


def _hourly_spend(
    dataset: QueryDataset, calls: list[Call]
) -> tuple[dict[Hashable, float], dict[Hashable, float]]:
    """HOURLY_COST_BY_SOURCE's hours on the day before the last, and each hour's reported cost."""
    day = context(dataset.end - 2 * DAY, dataset.end - DAY, min_interval="1h")
    measured: dict[Hashable, float] = {}
    for series in dataset.range(ct.HOURLY_COST_BY_SOURCE, day):
        for moment, value in series["values"]:
            if float(value) and float(moment) < day.end:  # the point at T is the hour after T
                measured[(series["metric"]["service_name"], float(moment))] = float(value)
    # Recorded windows end a minute before they are recorded: hour T holds (T - 1m, T + 59m].
    late = 60
    in_day = [c for c in calls if day.start < c.reported + late <= day.end]
    truth = total(in_day, lambda c: (c.source, (c.reported + late - 1) // HOUR * HOUR), cost)
    return measured, truth


@pytest.mark.query
def test_hourly_spend_adds_up_to_the_days_reported_cost(
    dataset: QueryDataset, calls: list[Call]
) -> None:
    measured, truth = _hourly_spend(dataset, calls)
    assert sum(measured.values()) == pytest.approx(sum(truth.values()), rel=REL)
    assert measured.keys() == truth.keys()


@pytest.mark.query
def test_hourly_spend_is_each_hours_reported_cost(dataset: QueryDataset, calls: list[Call]) -> None:
    measured, truth = _hourly_spend(dataset, calls)
    for key, value in truth.items():
        assert measured[key] == pytest.approx(value, rel=1e-6), key


@pytest.mark.query
def test_month_to_date_running_total_is_the_sum_of_the_days(
    dataset: QueryDataset, calls: list[Call]
) -> None:
    """The cumulative panel adds up DAILY_TOTAL_COST's bars: they must partition the spend."""
    first = datetime.fromtimestamp(dataset.scenario.start, UTC).replace(day=1).timestamp()
    month = context(first, dataset.end, min_interval="1d")
    (series,) = dataset.range(ct.DAILY_TOTAL_COST, month)
    assert sum(float(value) for _, value in series["values"]) == pytest.approx(
        sum(c.cost for c in calls), rel=REL
    )


# --- by model, type and user -------------------------------------------------------------------


@pytest.mark.query
def test_cost_by_model(dataset: QueryDataset, calls: list[Call]) -> None:
    measured = by(dataset.instant(ct.COST_BY_MODEL, whole(dataset)), "model")
    assert_close(measured, total(calls, lambda c: c.model, cost))


@pytest.mark.query
def test_tokens_by_model_and_type(dataset: QueryDataset, calls: list[Call]) -> None:
    truth: dict[Hashable, float] = defaultdict(float)
    for call in calls:
        for kind, count in call.tokens.items():
            if count:
                truth[(call.model, kind)] += count
    measured = by(dataset.instant(ct.TOKENS_BY_MODEL_TYPE, whole(dataset)), "model", "type")
    assert_close(measured, dict(truth))


@pytest.mark.query
def test_daily_prompt_and_completion_tokens(dataset: QueryDataset, calls: list[Call]) -> None:
    week = context(dataset.end - 7 * DAY, dataset.end, min_interval="1d")
    measured = per_day(dataset.range(ct.DAILY_TOKENS_BY_KIND, week), "kind")
    truth = {
        **total(calls, lambda c: ("prompt", utc_day(c.at)), lambda c: c.prompt),
        **total(calls, lambda c: ("completion", utc_day(c.at)), lambda c: c.tokens["output"]),
    }
    assert_close(measured, truth)


@pytest.mark.query
def test_top_users_are_the_claude_code_users_by_cost(
    dataset: QueryDataset, calls: list[Call]
) -> None:
    claude_code = [c for c in calls if c.source in CLAUDE_CODE_SERVICES]
    truth = total(claude_code, lambda c: c.user, cost)
    measured = by(dataset.instant(ct.TOP_USERS, whole(dataset)), "user_email")
    assert len(truth) <= 10
    assert_close(measured, truth)


# --- unit economics and cross-checks -----------------------------------------------------------


@pytest.mark.query
def test_claude_code_cost_per_session(dataset: QueryDataset, calls: list[Call]) -> None:
    spent = sum(c.cost for c in calls if c.source in CLAUDE_CODE_SERVICES)
    sessions = dataset.totals.claude_code_sessions
    assert scalar(dataset.instant(ct.CLAUDE_CODE_SESSIONS_ACTIVE, whole(dataset))) == sessions
    measured = scalar(dataset.instant(ct.CLAUDE_CODE_COST_PER_SESSION, whole(dataset)))
    assert measured == pytest.approx(spent / sessions, rel=REL)


@pytest.mark.query
def test_cost_per_thousand_tokens_by_source(dataset: QueryDataset, calls: list[Call]) -> None:
    spent = total(calls, lambda c: c.source, cost)
    tokens = total(calls, lambda c: c.source, lambda c: sum(c.tokens.values()))
    truth = {source: 1000 * spent[source] / tokens[source] for source in spent}
    measured = by(dataset.instant(ct.COST_PER_1K_TOKENS_BY_SOURCE, whole(dataset)), "service_name")
    assert_close(measured, truth)


@pytest.mark.query
def test_cost_per_call_and_calls_per_dollar(dataset: QueryDataset, calls: list[Call]) -> None:
    apps = [c for c in calls if c.source not in CLAUDE_CODE_SERVICES]
    spent = total(apps, lambda c: (c.source, c.operation), cost)
    ok = total(apps, lambda c: (c.source, c.operation), lambda c: float(c.ok))
    measured = by(
        dataset.instant(ct.COST_PER_CALL_BY_OPERATION, whole(dataset)),
        "service_name",
        "gen_ai_operation_name",
    )
    assert_close(measured, {key: spent[key] / ok[key] for key in spent})
    spent_by_app = total(apps, lambda c: c.source, cost)
    ok_by_app = total(apps, lambda c: c.source, lambda c: float(c.ok))
    per_dollar = by(dataset.instant(ct.APP_CALLS_PER_DOLLAR, whole(dataset)), "service_name")
    assert_close(per_dollar, {app: ok_by_app[app] / spent_by_app[app] for app in spent_by_app})


@pytest.mark.query
def test_metric_side_of_the_cross_checks(dataset: QueryDataset, calls: list[Call]) -> None:
    claude_code = [c for c in calls if c.source in CLAUDE_CODE_SERVICES]
    measured = by(dataset.instant(ct.CLAUDE_CODE_COST_BY_MODEL, whole(dataset)), "model")
    assert_close(measured, total(claude_code, lambda c: c.model, cost))
    apps = [c for c in calls if c.source not in CLAUDE_CODE_SERVICES]
    measured = by(dataset.instant(ct.APP_COST_BY_MODEL, whole(dataset)), "model")
    assert_close(measured, total(apps, lambda c: c.model, cost))


@pytest.mark.query
def test_apps_without_a_cost_metric_are_priced_from_their_tokens(
    dataset: QueryDataset, calls: list[Call]
) -> None:
    """The `or` fallback: with the emitted cost metric gone, the pricing table's derived cost
    alone gives every app's true cost (so the table's prices are the generator's)."""
    priced = raw_spend(PICKER_RANGE, load_pricing(), by=["service_name"], matchers=APPS)
    missing = priced.replace(names.APP_COST, "no_such_metric")
    assert names.APP_COST not in missing
    apps = [c for c in calls if c.source not in CLAUDE_CODE_SERVICES]
    measured = by(dataset.instant(missing, whole(dataset)), "service_name")
    assert_close(measured, total(apps, lambda c: c.source, cost))


@pytest.mark.query
def test_claude_code_cost_derived_from_tokens_matches_its_cost_metric(
    dataset: QueryDataset, calls: list[Call]
) -> None:
    """The recorded priced windows (derived_cost() of each 5-minute window, priced from the
    table) add up to what Claude Code billed."""
    derived = recorded_token_cost(CLAUDE_CODE_TOKENS, PICKER_RANGE, ["model"])
    claude_code = [c for c in calls if c.source in CLAUDE_CODE_SERVICES]
    measured = by(dataset.instant(derived, whole(dataset)), "model")
    assert_close(measured, total(claude_code, lambda c: c.model, cost))
