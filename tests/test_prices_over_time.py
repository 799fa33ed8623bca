"""Prices that stay true, on a generated month backfilled into a real Prometheus.

The month (2026-09-22 to 2026-10-22) spans Sonnet 5.5's cache-read cut on 2026-10-07 (0.20 to
0.10 USD per million): derived cost prices each day at its own price, as Claude Code's own
cost does. The same data has an app on gpt-6-luna, a model configs/pricing.yaml does not price:
the "Unpriced models" panel, the unpriced-model alert and `python -m tools.pricing unpriced`
find it here and nothing on the fixture dataset, where every model is priced.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from alerts import alert_rules
from components.settings import AlertThresholds
from dashboards import cost_tokens
from tests.support.datasets import shared_dataset
from tools import pricing as pricing_command
from tools.querylab.prometheus import QueryDataset
from tools.telemetry.scenario import DAY, Scenario
from tools.telemetry.truth import Totals
from vocabulary import measures, names
from vocabulary.pricing import CLAUDE_CODE_TOKENS, PriceKind, load_pricing, recorded_token_cost
from vocabulary.windows import Window

pytestmark = pytest.mark.query

MONTH = Scenario(
    start=datetime(2026, 9, 22, tzinfo=UTC).timestamp(),
    days=30,
    users=2,
    apps=1,
    app_days=1,
    lineup="2026",
    unpriced_app=True,
    cost_spike=False,
)
SONNET = "claude-sonnet-5-5"
CHANGE = date(2026, 10, 7)
UNPRICED = ("triage-bot", "gpt-6-luna")
REL = 0.01


@pytest.fixture(scope="module")
def month() -> QueryDataset:
    return shared_dataset(MONTH)


def days_of(dataset: QueryDataset) -> list[date]:
    first = datetime.fromtimestamp(dataset.scenario.start, UTC).date()
    return [first + timedelta(days=n) for n in range(int(dataset.scenario.days))]


def midnight_after(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + DAY


def by_model(dataset: QueryDataset, expr: str, at: float) -> dict[str, float]:
    return {s["metric"]["model"]: float(s["value"][1]) for s in dataset.server.query(expr, at)}


def test_each_day_s_cache_reads_are_priced_at_that_day_s_price(month: QueryDataset) -> None:
    table = load_pricing()
    price = table.price_of(SONNET)
    assert price is not None and price.changed(PriceKind.CACHE_READ)
    query = recorded_token_cost(CLAUDE_CODE_TOKENS, Window("1d"), ["model"], ["cacheRead"])
    tokens = month.totals.claude_code_tokens_by_type_model_day
    checked = {"before": 0, "after": 0}
    for day in days_of(month):
        read = tokens.get(("cacheRead", SONNET, day.isoformat()), 0)
        measured = by_model(month, query, midnight_after(day)).get(SONNET, 0.0)
        truth = read * price.price_on(PriceKind.CACHE_READ, day) / 1e6
        assert measured == pytest.approx(truth, rel=REL), day
        if read:
            checked["before" if day < CHANGE else "after"] += 1
            # Today's price would be off by half or double: the test tells the two apart.
            flat = read * price.price(PriceKind.CACHE_READ) / 1e6
            assert (abs(flat - truth) > 0.4 * truth) == (day < CHANGE), day
    assert checked["before"] >= 5 and checked["after"] >= 5, checked


def test_each_day_s_derived_cost_is_what_claude_code_billed_that_day(
    month: QueryDataset,
) -> None:
    """Every token type at the table's dated prices against Claude Code's own cost, which the
    generator charges at the prices of the request's day."""
    query = recorded_token_cost(CLAUDE_CODE_TOKENS, Window("1d"), ["model"])
    billed = month.totals.claude_code_cost_by_model_day
    for day in days_of(month):
        truth = billed.get((SONNET, day.isoformat()), 0.0)
        measured = by_model(month, query, midnight_after(day)).get(SONNET, 0.0)
        assert measured == pytest.approx(truth, rel=REL), day


def test_the_month_adds_up_at_each_day_s_price(month: QueryDataset) -> None:
    query = recorded_token_cost(CLAUDE_CODE_TOKENS, Window("30d"), ["model"])
    measured = by_model(month, query, month.end + 600)
    truth = month.totals.claude_code_cost_by_model[SONNET]
    assert measured[SONNET] == pytest.approx(truth, rel=REL)


def test_a_month_of_recorded_windows_adds_up_to_the_truth(month: QueryDataset) -> None:
    """30 days of session churn (two sessions a user a day, some resumed in a new process whose
    counters restart) summed from the recorded 5-minute windows, within 1 % of what happened."""
    at, month_and_a_day = month.end + 600, Window("31d")
    restarts = month.server.query(f"sum(resets({names.CLAUDE_CODE_COST}[31d]))", at)
    assert float(restarts[0]["value"][1]) > 0, "the month must hold counter resets"

    spend = by_model(
        month, measures.spend(month_and_a_day, [names.MODEL], measures.CLAUDE_CODE), at
    )
    truth = Totals.by_model(month.totals.claude_code_cost_by_model_day)
    assert spend.keys() == truth.keys()
    for model, usd in truth.items():
        assert spend[model] == pytest.approx(usd, rel=REL), model

    tokens = {
        s["metric"][names.TOKEN_TYPE]: float(s["value"][1])
        for s in month.server.query(
            measures.increase(names.CLAUDE_CODE_TOKENS, month_and_a_day, [names.TOKEN_TYPE]), at
        )
    }
    token_truth: dict[str, int] = {}
    for (token_type, _model), count in month.totals.claude_code_tokens_by_type_model.items():
        token_truth[token_type] = token_truth.get(token_type, 0) + count
    assert tokens.keys() == token_truth.keys()
    for token_type, count in token_truth.items():
        assert tokens[token_type] == pytest.approx(count, rel=REL), token_type

    started = month.server.query(measures.increase(names.CLAUDE_CODE_SESSIONS, month_and_a_day), at)
    assert float(started[0]["value"][1]) == pytest.approx(month.totals.claude_code_processes, abs=1)


# --- models without a price ----------------------------------------------------------------------


def unpriced_rule_expr() -> str:
    (rule,) = [
        r
        for r in alert_rules(AlertThresholds(), load_pricing())
        if r.uid == "llm-o11y-unpriced-model"
    ]
    return rule.threshold.promql(rule.query)


def test_the_unpriced_models_panel_shows_the_app_s_tokens(
    month: QueryDataset,
) -> None:
    whole = f"{int(month.scenario.days)}d"
    at = month.end + 600
    tokens = month.server.query(measures.unpriced_tokens(Window(whole), load_pricing()), at)
    found = {
        (s["metric"]["service_name"], s["metric"]["model"]): float(s["value"][1]) for s in tokens
    }
    truth = sum(
        v for (_, model), v in month.totals.app_tokens_by_type_model.items() if model == UNPRICED[1]
    )
    assert found.keys() == {UNPRICED}
    assert found[UNPRICED] == pytest.approx(truth, rel=REL)
    # A token-only app on an unpriced model has no spend: no spend series names the model.
    spend = month.server.query(measures.spend(Window(whole), ["model"]), at)
    assert UNPRICED[1] not in {s["metric"].get("model") for s in spend}
    # The panel reads exactly these measures over the picker's range.
    assert measures.unpriced_tokens("[$__range]", load_pricing()) == cost_tokens.unpriced_tokens(
        load_pricing()
    )


def test_the_unpriced_model_alert_fires_on_the_app_and_stays_quiet_without_it(
    month: QueryDataset,
) -> None:
    expr = unpriced_rule_expr()
    query_dataset = shared_dataset()
    noon = month.end - 12 * 3600  # the app runs on the last day
    fired = month.server.query(expr, noon)
    assert {(s["metric"]["service_name"], s["metric"]["model"]) for s in fired} == {UNPRICED}
    # Before the app started, and on the fixture (every model priced), nothing fires.
    assert month.server.query(expr, month.end - 2 * DAY) == []
    for hour in range(0, int(query_dataset.scenario.days * 24), 6):
        assert query_dataset.server.query(expr, query_dataset.scenario.start + hour * 3600) == []


def test_the_command_lists_the_unpriced_model_and_exits_1(
    month: QueryDataset, capsys: pytest.CaptureFixture[str]
) -> None:
    status = pricing_command.main(
        ["unpriced", "--prometheus", month.server.url, "--at", str(int(month.end + 600))]
    )
    out = capsys.readouterr().out
    assert status == 1, out
    heading, *rows = out.splitlines()
    assert "does not price" in heading
    assert [row.split("\t")[:2] for row in rows] == [["  gpt-6-luna", "triage-bot"]]


def test_the_command_exits_0_when_every_model_seen_is_priced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    query_dataset = shared_dataset()
    at = str(int(query_dataset.end + 600))
    status = pricing_command.main(
        ["unpriced", "--prometheus", query_dataset.server.url, "--at", at]
    )
    assert status == 0
    assert "every model seen in the last 30d is priced" in capsys.readouterr().out


def test_the_command_exits_3_when_nothing_was_seen(capsys: pytest.CaptureFixture[str]) -> None:
    query_dataset = shared_dataset()
    before = str(int(query_dataset.scenario.start - 60 * DAY))
    status = pricing_command.main(
        ["unpriced", "--prometheus", query_dataset.server.url, "--at", before]
    )
    assert status == 3
    assert capsys.readouterr().err.startswith("error: no token series in the last 30d")
