"""Every query the program ships, checked on real engines: each PromQL query of every dashboard
panel and alert rule returns at least one series on the fixture dataset, and every LogQL and
TraceQL query parses with Grafana's grammar. Queries about models without a price are empty
where every model is priced (the fixture): they must return data on the month of
tests/test_prices_over_time.py, which has an app on an unpriced model.

Dashboards arrive as `dashboards.render_all(table)` (uid -> dashboard JSON model) and alert rules
as `components.alerting.rule_data(table)` (Grafana rule `data` entries, each tagged with its rule
title under `ruleTitle`).
"""

import pytest

from components.alerting import rule_data
from components.datasources import SCRAPE_INTERVAL
from dashboards import render_all
from tests.support.datasets import shared_dataset
from tests.support.grammars import check_grammar
from tools.querylab.prometheus import QueryDataset
from tools.querylab.walker import Query, alert_queries, check_prometheus, dashboard_queries
from vocabulary.pricing import load_pricing

# The Prometheus datasource's timeInterval: Grafana derives $__rate_interval from it.
DATASOURCE_TIME_INTERVAL = SCRAPE_INTERVAL


def program_queries() -> list[Query]:
    queries: list[Query] = []
    queries += dashboard_queries(render_all(load_pricing()))
    entries = rule_data(load_pricing())
    for title in sorted({str(entry["ruleTitle"]) for entry in entries}):
        mine = [entry for entry in entries if entry["ruleTitle"] == title]
        queries += alert_queries(mine, rule_name=f"alert rule {title!r}")
    return queries


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    """The session's backfilled Prometheus (built once per test process)."""
    return shared_dataset()


PROGRAM_QUERIES = program_queries()
PROMQL = [query for query in PROGRAM_QUERIES if query.kind == "prometheus"]
# Where these titles appear, the query is about models the pricing table lacks.
UNPRICED_ONLY = ("panel 'Unpriced models'", "alert rule 'LLM tokens on an unpriced model'")


def _unpriced_only(query: Query) -> bool:
    return any(title in query.where for title in UNPRICED_ONLY)


@pytest.mark.query
@pytest.mark.parametrize("query", PROMQL, ids=[query.where for query in PROMQL])
def test_promql_returns_data(query: Query, dataset: QueryDataset) -> None:
    if _unpriced_only(query):
        from tests.test_prices_over_time import MONTH

        dataset = shared_dataset(MONTH)
    check_prometheus(query, dataset, scrape_interval=DATASOURCE_TIME_INTERVAL)


def test_the_unpriced_model_queries_are_found() -> None:
    assert sum(_unpriced_only(query) for query in PROMQL) == 2


@pytest.mark.query
def test_logql_and_traceql_parse() -> None:
    grammar_queries = [query for query in PROGRAM_QUERIES if query.kind in ("loki", "tempo")]
    if not grammar_queries:
        pytest.skip("the program has no LogQL or TraceQL queries yet")
    problems = check_grammar(grammar_queries)
    assert not problems, "\n".join(problems)
