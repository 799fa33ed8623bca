"""Issue 17: each counter is recorded only by the labels the dashboards filter by and the panels,
rules and report group or filter it by. Every PromQL query of a dashboard (with the filters
picked), an alert rule or the report is read through Prometheus's own parse tree, and each
selector of a recorded series must only need labels that record keeps: its matchers, the
`by (...)` of the aggregation that first sums it, `on (...)`/`group_left (...)` of a vector
match and label_replace sources between the two. A query that reaches a record's labels without
summing them (no aggregation, `without`, a vector match on every label) needs every label, which
no record keeps."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from alerts import alert_rules
from components.settings import AlertThresholds
from dashboards import claude_code, render_all
from tests.test_dashboard_filters import Parse, parse, picked, with_picked  # noqa: F401 (a fixture)
from tools.querylab.walker import dashboard_queries
from tools.report.queries import ALL_QUERIES
from vocabulary import names
from vocabulary.pricing import load_pricing
from vocabulary.recording import (
    APP_TOKEN_LABELS,
    APP_TOKENS,
    COUNTER_BY_RECORD,
    COUNTERS,
    SPEND,
    SPEND_LABELS,
    TOKEN_COST,
    TOKEN_COST_LABELS,
    recording_rules,
)

Kept = Mapping[str, frozenset[str]]

KEPT: Kept = {
    **{record: frozenset(counter.kept) for record, counter in COUNTER_BY_RECORD.items()},
    SPEND.record: frozenset(SPEND_LABELS),
    TOKEN_COST.record: frozenset(TOKEN_COST_LABELS),
    APP_TOKENS.record: frozenset((*APP_TOKEN_LABELS, names.APP_TOKEN_TYPE)),
}
# Aggregations whose result keeps every label of their input.
KEEPS_EVERY_LABEL = {"topk", "bottomk", "limitk", "limit_ratio"}


def all_queries() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard target (filters picked), alert rule and report query."""
    found = [
        (query.where, with_picked(query))
        for query in dashboard_queries(render_all(load_pricing()))
        if query.kind == "prometheus"
    ]
    found += [
        (f"alert {rule.title}", rule.query)
        for rule in alert_rules(AlertThresholds(), load_pricing())
        if rule.datasource == "prometheus"
    ]
    found += [(f"report {q.name}", q.expr("1d")) for q in ALL_QUERIES if q.source == "prometheus"]
    return found


def _selectors_with_ancestors(
    node: Any, ancestors: tuple[tuple[Mapping[str, Any], str], ...] = ()
) -> Iterator[tuple[Mapping[str, Any], tuple[tuple[Mapping[str, Any], str], ...]]]:
    """Every selector of a parse tree with the (node, key it sits under) path down to it."""
    if isinstance(node, Mapping):
        if node.get("type") in ("vectorSelector", "matrixSelector") and "matchers" in node:
            yield node, ancestors
            return
        for key, child in node.items():
            yield from _selectors_with_ancestors(child, (*ancestors, (node, key)))
    elif isinstance(node, list):
        for child in node:
            yield from _selectors_with_ancestors(child, ancestors)


def needed_labels(
    selector: Mapping[str, Any], ancestors: Sequence[tuple[Mapping[str, Any], str]]
) -> tuple[set[str], str | None]:
    """The labels a selector's series must keep for the query's result, and why it needs every
    label (None when it does not)."""
    labels = {m["name"] for m in selector["matchers"] if m["name"] != "__name__"}
    for node, key in reversed(ancestors):
        kind = node.get("type")
        if kind == "call" and node["func"]["name"] == "label_replace":
            labels.add(node["args"][3]["val"])
        elif kind == "call" and node["func"]["name"] == "label_join":
            labels.update(argument["val"] for argument in node["args"][3:])
        elif kind == "binaryExpr":
            matching = node.get("matching")
            other = node["rhs" if key == "lhs" else "lhs"]
            if matching and matching.get("on"):
                labels.update(matching["labels"], matching.get("include") or [])
            elif matching and node["op"] != "or" and other.get("type") != "numberLiteral":
                return labels, f"`{node['op']}` matched on every label"
        elif kind == "aggregation" and node["op"] not in KEEPS_EVERY_LABEL:
            if node["without"]:
                return labels, f"`{node['op']} without`"
            labels.update(node["grouping"])
            return labels, None
    return labels, "no aggregation"


def unkept_labels(expr: str, parse_query: Parse, kept: Kept = KEPT) -> list[str]:
    """Each record selector of `expr` that needs a label its record does not keep."""
    problems = []
    for selector, ancestors in _selectors_with_ancestors(parse_query(expr)):
        record = selector["name"]
        if record not in kept:
            continue
        labels, every = needed_labels(selector, ancestors)
        if every is not None:
            problems.append(f"{record} needs every label: {every}")
        elif missing := sorted(labels - kept[record]):
            problems.append(f"{record} does not keep {', '.join(missing)}")
    return problems


def test_no_query_needs_a_label_its_record_does_not_keep(parse: Parse) -> None:  # noqa: F811
    queries = all_queries()
    read = {
        selector["name"]
        for _, expr in queries
        for selector, _ in _selectors_with_ancestors(parse(expr))
    }
    assert len(queries) > 150
    problems = [f"{where}: {p}" for where, expr in queries for p in unkept_labels(expr, parse)]
    assert not problems, "\n".join(problems)
    # Every record of the agents view's breakdowns is read by some query.
    assert {counter.record for counter in COUNTERS if counter.dimensions} <= read


def test_the_check_fails_on_a_dropped_label(parse: Parse) -> None:  # noqa: F811
    """Drop `decision` from the edit-decision record: the acceptance-rate panel's
    `{decision="accept"}` is reported; so are a `by` on a label the record lacks and a record
    read without being summed."""
    (record,) = [c.record for c in COUNTERS if c.metric == names.CLAUDE_CODE_EDIT_DECISIONS]
    dropped = {**KEPT, record: KEPT[record] - {names.DECISION}}
    assert unkept_labels(picked(claude_code.ACCEPTANCE_RATE), parse) == []
    assert unkept_labels(picked(claude_code.ACCEPTANCE_RATE), parse, dropped) == [
        f"{record} does not keep {names.DECISION}"
    ]
    assert unkept_labels(f"sum by ({names.SESSION}) (sum_over_time({record}[1h]))", parse) == [
        f"{record} does not keep {names.SESSION}"
    ]
    assert unkept_labels(f"sum_over_time({record}[1h])", parse) == [
        f"{record} needs every label: no aggregation"
    ]


def test_each_counter_rule_sums_by_exactly_the_labels_its_record_keeps(
    parse: Parse,  # noqa: F811
) -> None:
    """The record's declared labels are what its rule really groups by (read from the rule's
    parse tree), so the check above checks the recorded series themselves."""
    expressions = {rule.record: rule.expr for rule in recording_rules(load_pricing())}
    for counter in COUNTERS:
        tree = parse(expressions[counter.record])
        assert tree["type"] == "aggregation" and tree["op"] == "sum", counter.record
        assert not tree["without"] and set(tree["grouping"]) == set(counter.kept), counter.record


def test_a_query_needing_an_unkept_label_gets_a_clear_error() -> None:
    from vocabulary import measures

    with pytest.raises(ValueError, match=r"no record of claude_code_session_count_total keeps"):
        measures.increase(names.CLAUDE_CODE_SESSIONS, "[1h]", [names.MODEL])
    agents = measures.increase(names.CLAUDE_CODE_COST, "[1h]", [names.AGENT])
    assert names.record_name(names.CLAUDE_CODE_COST, (names.QUERY_SOURCE, names.AGENT)) in agents
