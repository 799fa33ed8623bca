"""Apps on every generation of the GenAI conventions at once (2025 with OpenLIT's cost, before
v1.37, Grafana's agento11y, semantic-conventions-genai 2026), backfilled into a real Prometheus:
the recorded spend and the recorded tokens count each generation within 1 % of the truth, cache
tokens priced at their own prices and reasoning once, as part of output."""

from __future__ import annotations

from collections import defaultdict

import pytest

from dashboards import api, traces_latency
from dashboards.panels import PICKER_RANGE
from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryContext, QueryDataset
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import APP_PROFILES, simulate_apps
from vocabulary import measures, names

pytestmark = pytest.mark.query

DAY = 86_400.0
# One replica of every app profile, each on its generation; two days of traffic (the backfilled
# recording rules stop one window before the data's end, about 0.2 % of two days).
DAYS = 2
EVERY_GENERATION = Scenario(
    days=DAYS, users=2, sessions_per_user_per_day=1.0, apps=len(APP_PROFILES), app_days=DAYS
)
CONVENTIONS = {profile.service: profile.conventions for profile in APP_PROFILES}
COUNTED_KINDS = ("input", "cache_read", "cache_write", "output")


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset(EVERY_GENERATION)


def _days(dataset: QueryDataset) -> QueryContext:
    return QueryContext(start=dataset.end - DAYS * DAY, end=dataset.end)


def _by_conventions(rows: list[dict], *labels: str) -> dict[tuple[str, ...], float]:
    totals: dict[tuple[str, ...], float] = defaultdict(float)
    for row in rows:
        metric = row["metric"]
        key = (CONVENTIONS[metric[names.SERVICE]], *(metric[label] for label in labels[1:]))
        totals[key] += float(row["value"][1])
    return dict(totals)


def test_the_fixture_has_apps_on_every_generation(dataset: QueryDataset) -> None:
    assert set(dataset.totals.app_cost_by_conventions) == {"v1.37", "2026", "agento11y", "v1.36"}


def test_spend_counts_every_generation(dataset: QueryDataset) -> None:
    query = measures.spend(PICKER_RANGE, [names.SERVICE], measures.APPS)
    measured = _by_conventions(dataset.instant(query, _days(dataset)), names.SERVICE)
    truth = dataset.totals.app_cost_by_conventions
    assert {key for (key,) in measured} == truth.keys()
    for conventions, usd in truth.items():
        assert measured[(conventions,)] == pytest.approx(usd, rel=0.01), conventions


def test_tokens_count_every_generation_and_category_once(dataset: QueryDataset) -> None:
    query = measures.app_tokens(PICKER_RANGE, [names.SERVICE, names.APP_TOKEN_TYPE])
    rows = dataset.instant(query, _days(dataset))
    measured = _by_conventions(rows, names.SERVICE, names.APP_TOKEN_TYPE)
    assert {kind for _conventions, kind in measured} <= set(COUNTED_KINDS)
    for (conventions, kind), tokens in dataset.totals.app_tokens_by_conventions_kind.items():
        if kind == "reasoning":  # part of output
            continue
        assert measured.get((conventions, kind), 0.0) == pytest.approx(tokens, rel=0.01), (
            conventions,
            kind,
        )
    assert any(kind == "cache_read" and n > 0 for (_c, kind), n in measured.items())


def test_the_token_split_panel_reads_both_generations(dataset: QueryDataset) -> None:
    rows = dataset.instant(traces_latency.tokens_by_kind(PICKER_RANGE), _days(dataset))
    measured = {row["metric"]["kind"]: float(row["value"][1]) for row in rows}
    truth: dict[str, float] = defaultdict(float)
    for (_conventions, kind), tokens in dataset.totals.app_tokens_by_conventions_kind.items():
        if kind != "reasoning":
            truth["completion" if kind == "output" else "prompt"] += tokens
    assert measured.keys() == truth.keys()
    for kind, tokens in truth.items():
        assert measured[kind] == pytest.approx(tokens, rel=0.01), kind


def test_calls_and_failures_count_every_generation(dataset: QueryDataset) -> None:
    """The calls measure (both call-duration histograms) counts each app's calls and failures;
    the API dashboard's error share has a row for every app."""
    _processes, requests = simulate_apps(EVERY_GENERATION)
    calls: dict[str, int] = defaultdict(int)
    failures: dict[str, int] = defaultdict(int)
    for request in requests:
        calls[request.process.service] += 1
        failures[request.process.service] += bool(request.llm.error_type)
    context = _days(dataset)
    for matchers, truth in (("", calls), (measures.FAILED, failures)):
        query = measures.app_calls(PICKER_RANGE, [names.SERVICE], matchers)
        rows = dataset.instant(query, context)
        measured = {row["metric"][names.SERVICE]: float(row["value"][1]) for row in rows}
        expected = {service: n for service, n in truth.items() if n}
        assert measured.keys() == expected.keys()
        for service, n in expected.items():
            assert measured[service] == pytest.approx(n, rel=0.01), (service, matchers)
    shares = dataset.instant(api.llm_error_percent_by_service("[2d]"), context)
    assert {row["metric"][names.SERVICE] for row in shares} == set(CONVENTIONS)
