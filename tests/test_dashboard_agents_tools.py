"""Claude Code Agents & Tools: the event panels read what the generator's events carry, the
costliest session's link finds that session's traces, and the spend breakdowns add up to the
truth on the backfilled fixture."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

import pytest

from dashboards import agents_tools, render_all
from dashboards.panels import PICKER_RANGE
from tests.support.datasets import FIXTURE_SCENARIO, shared_dataset
from tests.support.grammars import parse_queries
from tools.querylab.prometheus import QueryContext, QueryDataset, by_label
from tools.telemetry import catalog
from tools.telemetry.events import ClaudeCodeEvent, ClaudeCodeSpan
from tools.telemetry.simulate import simulate_claude_code
from vocabulary import filters, measures, names
from vocabulary.pricing import load_pricing

DAY = 86_400.0
BOARD = render_all(load_pricing())[agents_tools.UID]


@cache
def simulated() -> tuple[list[ClaudeCodeEvent], list[ClaudeCodeSpan]]:
    _processes, events, _measurements, spans = simulate_claude_code(FIXTURE_SCENARIO)
    return events, spans


def _panel(title: str) -> dict:
    (panel,) = [panel for panel in BOARD["panels"] if panel["title"] == title]
    return panel


def _loki(attribute: str) -> str:
    return attribute.replace(".", "_")


# Every (event, attribute) the LogQL panels filter, group or unwrap on.
READ_ATTRIBUTES = {
    (names.API_REFUSAL, "model"),
    (names.API_RETRIES_EXHAUSTED, "model"),
    (names.COMPACTION, "trigger"),
    (names.COMPACTION, "success"),
    (names.HOOK_COMPLETE, "hook_event"),
    (names.HOOK_COMPLETE, "total_duration_ms"),
    (names.HOOK_COMPLETE, "num_non_blocking_error"),
    (names.HOOK_COMPLETE, "num_cancelled"),
    (names.MCP_CONNECTION, "status"),
    (names.MCP_CONNECTION, "transport_type"),
    (names.MCP_CONNECTION, "server_scope"),
    (names.SUBAGENT_COMPLETED, "agent.name"),
    (names.SUBAGENT_COMPLETED, "duration_ms"),
}


def test_every_attribute_the_event_panels_read_is_in_the_query_and_the_contract() -> None:
    loki_queries = " ".join(
        target["expr"]
        for panel in BOARD["panels"]
        for target in panel.get("targets", [])
        if panel.get("datasource", {}).get("type") == "loki"
    )
    for event, attribute in sorted(READ_ATTRIBUTES):
        assert event in loki_queries and _loki(attribute) in loki_queries, (event, attribute)
        assert attribute in catalog.CLAUDE_CODE_EVENTS[event], (event, attribute)


def test_the_generator_sends_every_event_and_value_the_panels_select() -> None:
    events, _spans = simulated()
    by_name: dict[str, list[ClaudeCodeEvent]] = {}
    for event in events:
        by_name.setdefault(event.name, []).append(event)
    for event_name in {event for event, _attribute in READ_ATTRIBUTES}:
        assert by_name.get(event_name), f"the fixture has no {event_name} event"
    statuses = {str(event.attribute("status")) for event in by_name[names.MCP_CONNECTION]}
    assert "failed" in statuses, statuses
    failures = sum(
        int(event.attribute("num_non_blocking_error")) + int(event.attribute("num_cancelled"))
        for event in by_name[names.HOOK_COMPLETE]
    )
    assert failures > 0


def _session_link() -> dict:
    panel = _panel("Costliest sessions and their traces")
    (override,) = panel["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "Session"}
    assert panel["transformations"][-1]["options"]["renameByName"]["session_id"] == "Session"
    (link,) = override["properties"][0]["value"]
    return link


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset()


def _week(dataset: QueryDataset) -> QueryContext:
    return QueryContext(start=dataset.end - 7 * DAY, end=dataset.end)


@pytest.mark.query
def test_the_costliest_session_links_to_its_traces(dataset: QueryDataset) -> None:
    """The link's TraceQL, with the session id the table's first row shows, parses and names
    the session's interaction spans as the generator sends them (session.id on every span)."""
    link = _session_link()
    cost_query = _panel("Costliest sessions and their traces")["targets"][0]["expr"]
    every = {choice.variable: filters.ALL_VALUE for choice in filters.FILTERS}
    rows = dataset.instant(cost_query, replace(_week(dataset), variables=every))
    costliest = max(rows, key=lambda row: float(row["value"][1]))["metric"]["session_id"]
    query = link["internal"]["query"]["query"].replace("${__value.raw}", costliest)
    (parsed,) = parse_queries("traceql", [query])
    assert parsed.ok, parsed.message
    name, session = re.fullmatch(
        r'\{ name = "([\w.]+)" && span\.session\.id = "([\w-]+)" \}', query
    ).groups()
    _events, spans = simulated()
    assert session == costliest
    assert any(s.name == name and s.process.session_id == session for s in spans)


@pytest.mark.query
@pytest.mark.parametrize(
    ("label", "truth_of"),
    [
        (names.QUERY_SOURCE, "claude_code_cost_by_query_source"),
        (names.AGENT, "claude_code_cost_by_agent"),
    ],
)
def test_the_spend_breakdowns_match_the_truth(
    dataset: QueryDataset, label: str, truth_of: str
) -> None:
    measured = by_label(dataset.instant(agents_tools.spend_by([label]), _week(dataset)), label)
    truth = getattr(dataset.totals, truth_of)
    assert measured.keys() == truth.keys() and len(truth) >= 2
    for key, cost in truth.items():
        assert measured[key] == pytest.approx(cost, rel=0.01), key


@pytest.mark.query
def test_every_request_has_a_query_source(dataset: QueryDataset) -> None:
    """The query-source pie is the whole of Claude Code's spend: no request lacks the label."""
    context = _week(dataset)
    (total,) = dataset.instant(measures.spend(PICKER_RANGE, [], measures.CLAUDE_CODE), context)
    parts = dataset.instant(agents_tools.spend_by([names.QUERY_SOURCE]), context)
    measured = sum(float(part["value"][1]) for part in parts)
    assert measured == pytest.approx(float(total["value"][1]), rel=0.01)
