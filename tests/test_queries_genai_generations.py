"""Apps on every generation of the GenAI conventions at once (2025 with OpenLIT's cost, before
v1.37, Grafana's agento11y, semantic-conventions-genai 2026), backfilled into a real Prometheus:
the recorded spend and the recorded tokens count each generation within 1 % of the truth, cache
tokens priced at their own prices and reasoning once, as part of output."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from dashboards import api, traces_latency
from dashboards.panels import PICKER_RANGE
from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryContext, QueryDataset
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import APP_PROFILES, simulate_apps
from tools.telemetry.truth import utc_day
from vocabulary import measures, names
from vocabulary.pricing import PRICING_FILE, PriceKind, PricingTable, parse_pricing
from vocabulary.recording import RECORD_WINDOW, SPEND

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


# --- a price change under an app on the 2026 conventions ----------------------------------------

RESEARCH_AGENT = "research-agent"  # 2026 conventions, tokens only, on Sonnet 4.5
SONNET_4_5 = "claude-sonnet-4-5-20250929"
NEW_PRICES = {"input": 6.0, "output": 12.0, "cache_read": 0.9, "cache_write": 2.0}


def _table_with_a_price_change(day: date) -> PricingTable:
    """configs/pricing.yaml with Sonnet 4.5's every price changed from midnight UTC of `day`."""
    document = yaml.safe_load(PRICING_FILE.read_text(encoding="utf-8"))
    (entry,) = [e for e in document["models"] if e["model"] == SONNET_4_5]
    entry["earlier"] = [{"effective": None, **{kind: entry[kind] for kind in NEW_PRICES}}]
    entry.update(NEW_PRICES, effective=day.isoformat())
    return parse_pricing(document)


def _tokens_by_day(service: str) -> dict[str, dict[PriceKind, int]]:
    """The app's billed tokens by UTC day of the call's end and pricing column."""
    _processes, requests = simulate_apps(EVERY_GENERATION)
    found: dict[str, dict[PriceKind, int]] = defaultdict(lambda: defaultdict(int))
    for request in requests:
        llm = request.llm
        if request.process.service != service or llm.error_type:
            continue
        day = found[utc_day(llm.start + llm.duration)]
        day[PriceKind.INPUT] += llm.input_tokens  # without the cached tokens
        day[PriceKind.OUTPUT] += llm.output_tokens  # reasoning included
        day[PriceKind.CACHE_READ] += llm.cache_read_tokens
        day[PriceKind.CACHE_WRITE] += llm.cache_write_tokens
    return found


def test_a_2026_app_s_tokens_are_priced_at_each_day_s_price(dataset: QueryDataset) -> None:
    """The spend rule, evaluated every 5 minutes as the ruler records it, with a table whose
    prices for the app's model change between the two days: each day's windows add up to that
    day's tokens at that day's prices, where today's flat price would be far off the first."""
    first = datetime.fromtimestamp(dataset.scenario.start, UTC).date()
    change = first + timedelta(days=1)
    table = _table_with_a_price_change(change)
    price = table.price_of(SONNET_4_5)
    assert price is not None and all(price.changed(kind) for kind in PriceKind)
    rule = SPEND.raw(f'{{{names.SERVICE}="{RESEARCH_AGENT}"}}', RECORD_WINDOW, table)
    tokens = _tokens_by_day(RESEARCH_AGENT)
    for day in (first, change):
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        # The windows recorded in (midnight, next midnight] are the day's (measures.spend_today).
        windows = dataset.server.query_range(rule, midnight + 300, midnight + DAY, 300)
        measured = sum(float(v) for series in windows for _t, v in series["values"])
        counted = tokens[day.isoformat()]
        truth = sum(n * price.price_on(kind, day) for kind, n in counted.items()) / 1e6
        flat = sum(n * price.price(kind) for kind, n in counted.items()) / 1e6
        assert truth > 0
        assert measured == pytest.approx(truth, rel=0.01), day
        # Today's price, what the 2026 counters were priced at before, misprices the first day.
        assert (abs(flat - truth) > 0.3 * truth) == (day < change), day
