"""The universal walker finds every query with its datasource kind, and each kind's check fails
on a broken query with the parser's own message."""

import json
from typing import Any

import pytest

from tests.support.datasets import shared_dataset
from tests.support.grammars import QuerySyntaxError, check_grammar, check_logql, check_traceql
from tools.querylab.prometheus import PromQLError, QueryDataset
from tools.querylab.walker import WalkError, alert_queries, check_prometheus, dashboard_queries

GOOD_PROMQL = "sum by (model) (increase(claude_code_cost_usage_USD_total[$__range]))"
BROKEN_PROMQL = "sum by (model) (increase(claude_code_cost_usage_USD_total[$__range])"
GOOD_LOGQL = '{service_name="claude-code"} | event_name="api_request"'
BROKEN_LOGQL = 'sum by (model) (count_over_time({service_name="claude-code"} | json [$__auto])'
GOOD_TRACEQL = '{ span.gen_ai.request.model = "claude-sonnet-4-5-20250929" && duration > 10s }'
BROKEN_TRACEQL = "{ span.gen_ai.usage.cost > .99 }"


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    """The session's backfilled Prometheus (built once per test process)."""
    return shared_dataset()


def _datasource_variable(name: str, plugin: str) -> dict[str, Any]:
    return {"name": name, "type": "datasource", "query": plugin, "current": {"value": plugin}}


def _dashboard(prom: str, logql: str, traceql: str) -> dict[str, Any]:
    return {
        "uid": "fixture",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {
            "list": [
                _datasource_variable("ds_prometheus", "prometheus"),
                _datasource_variable("ds_loki", "loki"),
                {
                    "name": "model",
                    "type": "query",
                    "includeAll": True,
                    "current": {"value": "$__all"},
                },
            ]
        },
        "panels": [
            {
                "type": "stat",
                "title": "Cost",
                "datasource": {"type": "prometheus", "uid": "${ds_prometheus}"},
                "targets": [{"refId": "A", "expr": prom, "instant": True}],
            },
            {
                "type": "row",
                "title": "Collapsed row",
                "collapsed": True,
                "panels": [
                    {
                        "type": "logs",
                        "title": "Events",
                        "datasource": "$ds_loki",
                        "targets": [{"refId": "A", "expr": logql}],
                    },
                    {
                        "type": "table",
                        "title": "Slow calls",
                        "datasource": {"type": "tempo", "uid": "tempo"},
                        "targets": [{"refId": "A", "queryType": "traceql", "query": traceql}],
                    },
                ],
            },
        ],
    }


def _rule_data(expr: str) -> list[dict[str, Any]]:
    return [
        {
            "refId": "A",
            "datasourceUid": "prometheus",
            "relativeTimeRange": {"from": 86_400, "to": 0},
            "model": json.dumps({"refId": "A", "expr": expr, "instant": True}),
        },
        {"refId": "B", "datasourceUid": "__expr__", "model": {"type": "reduce", "expression": "A"}},
    ]


def test_walker_resolves_datasource_variables_uids_and_rows() -> None:
    queries = list(
        dashboard_queries({"fixture": _dashboard(GOOD_PROMQL, GOOD_LOGQL, GOOD_TRACEQL)})
    )
    assert [(q.kind, q.expr) for q in queries] == [
        ("prometheus", GOOD_PROMQL),
        ("loki", GOOD_LOGQL),
        ("tempo", GOOD_TRACEQL),
    ]
    assert queries[0].instant and queries[0].time_from == "now-24h"
    assert queries[0].variables == {"model": ".*"}


def test_walker_reads_alert_rule_data_and_skips_expressions() -> None:
    (query,) = alert_queries(_rule_data(GOOD_PROMQL), rule_name="rule cost")
    assert (query.kind, query.expr, query.instant) == ("prometheus", GOOD_PROMQL, True)
    assert query.time_from == "now-86400s"


def test_walker_names_an_unknown_datasource() -> None:
    dashboard = _dashboard(GOOD_PROMQL, GOOD_LOGQL, GOOD_TRACEQL)
    dashboard["panels"][0]["datasource"] = {"type": "prometheus", "uid": "grafanacloud-prom"}
    with pytest.raises(WalkError, match=r"panel 'Cost'.*'grafanacloud-prom'"):
        list(dashboard_queries({"fixture": dashboard}))


@pytest.mark.query
def test_broken_promql_fails_with_prometheus_parse_error(dataset: QueryDataset) -> None:
    (good,) = [
        q
        for q in dashboard_queries({"d": _dashboard(GOOD_PROMQL, GOOD_LOGQL, GOOD_TRACEQL)})
        if q.kind == "prometheus"
    ]
    assert check_prometheus(good, dataset) >= 1
    (broken,) = [
        q
        for q in dashboard_queries({"d": _dashboard(BROKEN_PROMQL, GOOD_LOGQL, GOOD_TRACEQL)})
        if q.kind == "prometheus"
    ]
    with pytest.raises(PromQLError, match=r"panel 'Cost'.*parse error"):
        check_prometheus(broken, dataset)


@pytest.mark.query
def test_promql_that_matches_nothing_fails(dataset: QueryDataset) -> None:
    (query,) = alert_queries(_rule_data('sum(claude_code_cost_usage_total{model="x"})'))
    with pytest.raises(AssertionError, match="no series"):
        check_prometheus(query, dataset)


@pytest.mark.query
def test_alert_rule_promql_runs_on_the_dataset(dataset: QueryDataset) -> None:
    (query,) = alert_queries(_rule_data("sum(increase(claude_code_cost_usage_USD_total[1d]))"))
    assert check_prometheus(query, dataset) == 1


@pytest.mark.query
def test_broken_logql_and_traceql_fail_with_the_grammar_message() -> None:
    good = list(dashboard_queries({"d": _dashboard(GOOD_PROMQL, GOOD_LOGQL, GOOD_TRACEQL)}))
    assert check_grammar(good) == []
    broken = list(dashboard_queries({"d": _dashboard(GOOD_PROMQL, BROKEN_LOGQL, BROKEN_TRACEQL)}))
    problems = check_grammar(broken)
    assert len(problems) == 2
    assert "panel 'Events'" in problems[0] and "logql syntax error at 1:" in problems[0]
    assert "panel 'Slow calls'" in problems[1] and "traceql syntax error at 1:" in problems[1]


@pytest.mark.query
def test_single_query_checks_raise_the_parser_message() -> None:
    check_logql(GOOD_LOGQL)
    check_traceql(GOOD_TRACEQL)
    with pytest.raises(QuerySyntaxError, match=r"logql syntax error at 1:\d+ near"):
        check_logql('{service_name="claude-code"} | unwrap')
    with pytest.raises(QuerySyntaxError, match=r'traceql syntax error at 1:\d+ near "99 }"'):
        check_traceql(BROKEN_TRACEQL)
