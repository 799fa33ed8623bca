"""Acceptance (issue 13): every LLM dashboard has the source, user, team and model variables, "All"
by default; every PromQL selector of a series that carries one of their labels is narrowed by it
(read from Prometheus's own parse tree, so a selector the filters missed cannot hide), the table
of labels matches the series the generator stores, and picking a user, team, model or source
turns a panel's number into that one's truth within 1 %, while "All" changes nothing."""

from __future__ import annotations

import json
import re
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from alerts import alert_rules
from components.settings import AlertThresholds
from dashboards import render_all
from dashboards.panels import PICKER_RANGE
from tests.support.datasets import shared_dataset
from tests.support.external import find_tool
from tools.querylab.binaries import PROMETHEUS_HINT
from tools.querylab.prometheus import (
    PrometheusServer,
    QueryContext,
    QueryDataset,
    by_label,
    interpolate,
    series_value,
)
from tools.querylab.walker import Query, dashboard_queries
from vocabulary import filters, measures, names
from vocabulary.pricing import load_pricing

DAY = 86_400.0
STACK_HEALTH = "llm-stack-health"
# One value per variable that no real label has, so each matcher is traced to its variable.
PICKED = {choice.variable: f"{choice.variable}picked" for choice in filters.FILTERS}
# Series whose names say they are LLM telemetry: each must be listed in SERIES_LABELS.
LLM_PREFIXES = ("claude_code_", "gen_ai_", "http_server_", "traces_", "llm:", "llm_")
# The labels that could carry each variable's value, for the check against stored series.
CANDIDATES = {
    filters.SOURCE.variable: {names.SERVICE, "service"},
    filters.USER.variable: {names.USER},
    filters.TEAM.variable: {names.TEAM},
    filters.MODEL.variable: {names.MODEL, names.APP_MODEL, names.APP_REQUEST_MODEL},
}

Parse = Callable[[str], Mapping[str, Any]]


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict[str, Any]]:
    return render_all(load_pricing())


@pytest.fixture(scope="module")
def parse() -> Iterator[Parse]:
    """Prometheus's parser (`/api/v1/parse_query`) on an empty Prometheus."""
    binary = find_tool("prometheus", PROMETHEUS_HINT)
    with tempfile.TemporaryDirectory() as directory:
        server = PrometheusServer(binary, Path(directory) / "data")
        server.start()
        try:

            def tree(expr: str) -> Mapping[str, Any]:
                data = urllib.parse.urlencode({"query": expr}).encode()
                request = urllib.request.Request(f"{server.url}/api/v1/parse_query", data=data)
                with urllib.request.urlopen(request, timeout=30) as response:
                    return json.load(response)["data"]

            yield tree
        finally:
            server.stop()


def selectors(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every vector and matrix selector of a parse tree."""
    if isinstance(node, Mapping):
        if node.get("type") in ("vectorSelector", "matrixSelector") and "matchers" in node:
            yield node
        for child in node.values():
            yield from selectors(child)
    elif isinstance(node, list):
        for child in node:
            yield from selectors(child)


def missing_filters(expr: str, parse: Parse) -> list[str]:
    """Each selector of `expr` (interpolated with PICKED) that lacks a filter its series takes."""
    problems = []
    for selector in selectors(parse(expr)):
        name = selector["name"]
        if name not in filters.SERIES_LABELS:
            if name.startswith(LLM_PREFIXES):
                problems.append(f"{name} is not in vocabulary.filters.SERIES_LABELS")
            continue
        present = {(m["name"], m["type"], m["value"]) for m in selector["matchers"]}
        for variable, label in filters.SERIES_LABELS[name].items():
            if (label, "=~", PICKED[variable]) not in present:
                problems.append(f'{name} has no {label}=~"${variable}"')
    return problems


def with_picked(query: Query) -> str:
    return picked(query.expr, query.variables)


def picked(expr: str, variables: Mapping[str, str | list[str]] | None = None) -> str:
    """`expr` as Grafana sends it over 7 days with PICKED chosen."""
    context = QueryContext(start=0.0, end=7 * DAY, variables={**(variables or {}), **PICKED})
    return interpolate(expr, context)


def test_every_promql_selector_carries_the_filters_of_its_series(
    dashboards: dict[str, dict[str, Any]], parse: Parse
) -> None:
    checked = 0
    problems = []
    for query in dashboard_queries(dashboards):
        if query.kind != "prometheus":
            continue
        checked += 1
        problems += [
            f"{query.where}: {problem}" for problem in missing_filters(with_picked(query), parse)
        ]
    assert checked > 100
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_missing_filter(parse: Parse) -> None:
    """Unfiltered spend, or a filter on the wrong label, or an LLM series the table does not
    know: each is reported."""
    assert missing_filters(picked(measures.spend(PICKER_RANGE)), parse) == [
        f'{names.SPEND_RECORD} has no {label}=~"${variable}"'
        for variable, label in filters.SERIES_LABELS[names.SPEND_RECORD].items()
    ]
    wrong = (
        'claude_code_cost_usage_USD_total{service_name=~"userpicked", user_email=~"sourcepicked"}'
    )
    assert len(missing_filters(wrong, parse)) == 4  # source and user swapped; team, model absent
    assert missing_filters("gen_ai_new_metric_total", parse) == [
        "gen_ai_new_metric_total is not in vocabulary.filters.SERIES_LABELS"
    ]
    filtered = picked(filters.filtered_promql(measures.spend(PICKER_RANGE)))
    assert missing_filters(filtered, parse) == []


def test_every_claude_code_event_stream_is_narrowed_by_source_user_and_team(
    dashboards: dict[str, dict[str, Any]],
) -> None:
    """Loki: label filters right after the stream selector (service_name is a stream label,
    user_email and team structured metadata; a label filter reads both)."""
    stream = names.CLAUDE_CODE_EVENTS
    expected = (
        f'{stream} | service_name=~"{PICKED["source"]}"'
        f' | user_email=~"{PICKED["user"]}" | team=~"{PICKED["team"]}"'
    )
    checked = 0
    for query in dashboard_queries(dashboards):
        if query.kind != "loki" or stream not in query.expr:
            continue
        text = with_picked(query)
        checked += 1
        assert text.count(stream) == text.count(expected), f"{query.where}: {text}"
    assert checked > 10


def filter_variables(model: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    names_ = {choice.variable for choice in filters.FILTERS}
    return {v["name"]: v for v in model["templating"]["list"] if v["name"] in names_}


def test_every_llm_dashboard_has_the_four_variables_all_by_default(
    dashboards: dict[str, dict[str, Any]],
) -> None:
    llm = {uid: model for uid, model in dashboards.items() if uid != STACK_HEALTH}
    assert len(llm) >= 6
    for uid, model in llm.items():
        variables = filter_variables(model)
        assert list(variables) == [choice.variable for choice in filters.FILTERS], uid
        for choice in filters.FILTERS:
            variable = variables[choice.variable]
            assert variable["type"] == "query"
            assert variable["label"] == choice.title
            assert variable["datasource"]["uid"] == "${ds_prometheus}"
            assert variable["query"] == f"label_values({names.SPEND_RECORD}, {choice.label})"
            assert variable["includeAll"] and variable["multi"], (uid, choice.variable)
            assert variable["allValue"] == ".*"
            assert variable["current"]["value"] == "$__all"


def test_stack_health_has_no_filters_because_none_of_its_series_carries_their_labels(
    dashboards: dict[str, dict[str, Any]], parse: Parse
) -> None:
    """The stack's own health (collector, Prometheus, Loki, Tempo) has no user, team or model:
    a variable there would change nothing."""
    model = dashboards[STACK_HEALTH]
    assert filter_variables(model) == {}
    for query in dashboard_queries({STACK_HEALTH: model}):
        assert query.kind == "prometheus"
        tree = parse(with_picked(query))
        for selector in selectors(tree):
            name = selector["name"]
            assert name not in filters.SERIES_LABELS and not name.startswith(LLM_PREFIXES), name


# --- against the generated data --------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset()


def seven_days(dataset: QueryDataset, **picked: str | Sequence[str]) -> QueryContext:
    return QueryContext(start=dataset.end - 7 * DAY, end=dataset.end, variables=picked)


@pytest.mark.query
def test_the_table_names_every_filter_label_the_stored_series_carry(
    dataset: QueryDataset,
) -> None:
    """A series whose stored label sets hold a variable's label must take that filter, on a
    label it has. A filter on a label the series lack is allowed for team only: a resource
    attribute that a source may or may not set."""
    every = sorted(set().union(*CANDIDATES.values()))
    found = 0
    absent: list[str] = []
    for name, carried in filters.SERIES_LABELS.items():
        expr = f"count by ({', '.join(every)}) (last_over_time({name}[8d]))"
        present = {
            label
            for entry in dataset.instant(expr, seven_days(dataset))
            for label in entry["metric"]
        }
        if not present:
            absent.append(name)
            continue
        found += 1
        for variable, candidates in CANDIDATES.items():
            if present & candidates:
                assert carried.get(variable) in present, (name, variable, sorted(present))
            elif variable in carried:
                assert variable == filters.TEAM.variable, (name, variable, sorted(present))
    # The fixture's apps are on the 2025 GenAI conventions: only the 2026 names may be missing
    # (tests/test_queries_genai_generations.py reads those on a dataset that has them).
    assert all("inference" in name for name in absent), absent
    assert found == len(filters.SERIES_LABELS) - len(absent) > 30


def panel(dashboards: Mapping[str, Any], uid: str, title: str, ref: str = "A") -> Query:
    (query,) = [
        query
        for query in dashboard_queries({uid: dashboards[uid]})
        if query.where.endswith(f"/ panel {title!r} / target {ref}")
    ]
    return query


def total(dataset: QueryDataset, query: Query, **picked: str | Sequence[str]) -> float:
    context = seven_days(dataset, **{**query.variables, **picked})
    return sum(series_value(entry) for entry in dataset.instant(query.expr, context))


@pytest.fixture(scope="module")
def total_cost(dashboards: dict[str, dict[str, Any]]) -> Query:
    return panel(dashboards, "llm-cost-tokens", "Total LLM cost")


@pytest.fixture(scope="module")
def total_tokens(dashboards: dict[str, dict[str, Any]]) -> Query:
    return panel(dashboards, "claude-code", "Total Tokens Today")


@pytest.mark.query
def test_all_changes_no_number(dataset: QueryDataset, total_cost: Query) -> None:
    unfiltered = total(dataset, Query("prometheus", measures.spend(PICKER_RANGE), "", ""))
    assert total(dataset, total_cost) == pytest.approx(unfiltered, rel=1e-9)
    truth = dataset.totals
    everything = sum(truth.claude_code_cost_by_model.values()) + sum(
        truth.app_cost_by_model.values()
    )
    assert total(dataset, total_cost) == pytest.approx(everything, rel=0.01)


@pytest.mark.query
def test_one_user_sees_that_users_spend_and_tokens(
    dataset: QueryDataset, total_cost: Query, total_tokens: Query
) -> None:
    """The apps have no user: with one picked, only that user's Claude Code use remains."""
    truth = dataset.totals
    assert len(truth.claude_code_cost_by_user) == 4
    for user, cost in truth.claude_code_cost_by_user.items():
        assert total(dataset, total_cost, user=[user]) == pytest.approx(cost, rel=0.01), user
        tokens = truth.claude_code_tokens_by_user[user]
        assert total(dataset, total_tokens, user=[user]) == pytest.approx(tokens, rel=0.01), user


@pytest.mark.query
def test_several_users_add_up(dataset: QueryDataset, total_cost: Query) -> None:
    truth = dataset.totals.claude_code_cost_by_user
    picked = ["dev2@example.com", "dev3@example.com"]
    expected = sum(truth[user] for user in picked)
    assert total(dataset, total_cost, user=picked) == pytest.approx(expected, rel=0.01)


@pytest.mark.query
def test_one_team_sees_that_teams_spend_and_tokens(
    dataset: QueryDataset,
    dashboards: dict[str, dict[str, Any]],
    total_cost: Query,
    total_tokens: Query,
) -> None:
    """dev3 and the second app set no team: they count in "All" and in no team."""
    truth = dataset.totals
    assert set(truth.claude_code_cost_by_team) == {"platform", "payments"}
    assert set(truth.app_cost_by_team) == {"platform"}  # support-bot sets a team
    for team, cost in truth.claude_code_cost_by_team.items():
        expected = cost + truth.app_cost_by_team.get(team, 0.0)
        assert total(dataset, total_cost, team=[team]) == pytest.approx(expected, rel=0.01), team
        tokens = truth.claude_code_tokens_by_team[team]
        assert total(dataset, total_tokens, team=[team]) == pytest.approx(tokens, rel=0.01), team
    # The apps alone: support-bot's spend is platform's, no app's is payments'.
    app_cost = panel(dashboards, "llm-cost-tokens", "App cost by model: metrics")
    platform = truth.app_cost_by_team["platform"]
    assert total(dataset, app_cost, team=["platform"]) == pytest.approx(platform, rel=0.01)
    assert total(dataset, app_cost, team=["payments"]) == 0.0
    assert total(dataset, app_cost) > platform * 1.5  # the other app counts under "All"
    top_users = panel(dashboards, "llm-cost-tokens", "Top 10 users by cost (Claude Code)")
    context = seven_days(dataset, **{**top_users.variables, "team": ["payments"]})
    rows = by_label(dataset.instant(top_users.expr, context), names.USER)
    assert rows.keys() == {"dev2@example.com"}
    assert rows["dev2@example.com"] == pytest.approx(
        truth.claude_code_cost_by_user["dev2@example.com"], rel=0.01
    )


@pytest.mark.query
def test_one_model_sees_that_models_spend(dataset: QueryDataset, total_cost: Query) -> None:
    """Claude Code's and the apps' spend on a model (the apps' response model)."""
    truth = dataset.totals
    models = set(truth.claude_code_cost_by_model) | set(truth.app_cost_by_model)
    assert len(models) >= 4
    for model in models:
        expected = truth.claude_code_cost_by_model.get(model, 0.0)
        expected += truth.app_cost_by_model.get(model, 0.0)
        assert total(dataset, total_cost, model=[model]) == pytest.approx(expected, rel=0.01), model


@pytest.mark.query
def test_one_source_sees_that_sources_spend(dataset: QueryDataset, total_cost: Query) -> None:
    truth = dataset.totals.claude_code_cost_by_service
    for service, cost in truth.items():
        assert total(dataset, total_cost, source=[service]) == pytest.approx(cost, rel=0.01)
    everything = sum(truth.values())
    both = list(names.CLAUDE_CODE_SERVICES)
    assert total(dataset, total_cost, source=both) == pytest.approx(everything, rel=0.01)


def test_alert_rules_take_no_dashboard_variable() -> None:
    """Alert rules run without a dashboard: none of their queries names a filter variable."""
    texts = [
        json.dumps(rule, default=repr) for rule in alert_rules(AlertThresholds(), load_pricing())
    ]
    assert len(texts) > 20
    for choice in filters.FILTERS:
        reference = re.compile(r"\$\{?" + choice.variable + r"\b")
        assert not any(reference.search(text) for text in texts), choice.variable
