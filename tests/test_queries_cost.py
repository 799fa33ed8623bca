"""Acceptance: 7 days of generated telemetry, backfilled into a real Prometheus, give each model's
true cost through the measure the dashboards, alert rules and report read (vocabulary.measures:
the recorded 5-minute windows, summed)."""

import pytest

from dashboards.panels import OWN_INTERVAL, PICKER_RANGE
from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryContext, QueryDataset, by_label
from tools.telemetry.truth import utc_day
from vocabulary import measures, names

pytestmark = pytest.mark.query

DAY = 86_400.0
COST = names.CLAUDE_CODE_COST
SEVEN_DAYS = measures.spend(PICKER_RANGE, ["model"], measures.CLAUDE_CODE)


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    """The session's backfilled Prometheus (built once per test process)."""
    return shared_dataset()


def last_days(dataset: QueryDataset, days: int, min_interval: str | None = None) -> QueryContext:
    """A Grafana time range over the dataset's last `days` days."""
    return QueryContext(start=dataset.end - days * DAY, end=dataset.end, min_interval=min_interval)


def test_cost_per_model_over_seven_days_matches_the_truth(dataset: QueryDataset) -> None:
    measured = by_label(dataset.instant(SEVEN_DAYS, last_days(dataset, 7)), "model")
    truth = dataset.totals.claude_code_cost_by_model
    assert measured.keys() == truth.keys()
    for model, cost in truth.items():
        assert measured[model] == pytest.approx(cost, rel=0.01), model


def test_models_whose_series_reset_still_match(dataset: QueryDataset) -> None:
    """Resumed sessions reset their series; increase() must carry the total across the reset."""
    context = last_days(dataset, 7)
    reset = dataset.instant(
        "sum by (model) (resets(claude_code_cost_usage_USD_total[$__range])) > 0", context
    )
    models_with_resets = {entry["metric"]["model"] for entry in reset}
    assert models_with_resets, "the fixture must contain a counter reset"
    measured = by_label(dataset.instant(SEVEN_DAYS, context), "model")
    for model in models_with_resets:
        truth = dataset.totals.claude_code_cost_by_model[model]
        assert measured[model] == pytest.approx(truth, rel=0.01), model


def test_daily_cost_lands_on_its_day(dataset: QueryDataset) -> None:
    """Daily bars: min interval 1d and increase over [$__interval] give each day's cost."""
    context = last_days(dataset, 7, min_interval="1d")
    (series,) = dataset.range(measures.spend(OWN_INTERVAL, [], measures.CLAUDE_CODE), context)
    truth_by_day: dict[str, float] = {}
    for (_model, day), cost in dataset.totals.claude_code_cost_by_model_day.items():
        truth_by_day[day] = truth_by_day.get(day, 0.0) + cost
    # OWN_INTERVAL's offset makes the point at midnight D cover day D.
    measured = {utc_day(float(moment)): float(value) for moment, value in series["values"]}
    for day, cost in truth_by_day.items():
        assert measured.get(day, 0.0) == pytest.approx(cost, rel=0.02, abs=0.05), day


@pytest.mark.parametrize(
    ("label", "truth_of"),
    [
        ("query_source", "claude_code_cost_by_query_source"),
        ("agent_name", "claude_code_cost_by_agent"),
        ("service_name", "claude_code_cost_by_service"),
    ],
)
def test_spend_by_query_source_subagent_and_service_matches_the_truth(
    dataset: QueryDataset, label: str, truth_of: str
) -> None:
    """Claude Code's 2026 labels: where spend goes (main, subagent, auxiliary; which subagent;
    CLI or Desktop), from the recorded spend, within 1 % of the events."""
    # The spend record keeps SPEND_LABELS; the recorded cost counter keeps every label.
    query = measures.increase(COST, PICKER_RANGE, [label])
    measured = by_label(dataset.instant(query, last_days(dataset, 7)), label)
    measured.pop("", None)  # requests of no subagent carry no agent_name
    truth = getattr(dataset.totals, truth_of)
    assert measured.keys() == truth.keys() and len(truth) >= 2
    for key, cost in truth.items():
        assert measured[key] == pytest.approx(cost, rel=0.01), key


def test_total_spend_with_desktop_and_cli_sessions_mixed_matches_the_truth(
    dataset: QueryDataset,
) -> None:
    total = measures.spend(PICKER_RANGE, [], measures.CLAUDE_CODE)
    (entry,) = dataset.instant(total, last_days(dataset, 7))
    truth = dataset.totals.claude_code_cost_by_service
    assert set(truth) == {"claude-code", "claude-code-desktop"}
    assert float(entry["value"][1]) == pytest.approx(sum(truth.values()), rel=0.01)


def test_plain_increase_overcounts_short_series_by_a_bounded_share(dataset: QueryDataset) -> None:
    """Why the dashboards do not use plain increase(): it extrapolates half a sample interval past
    each series' last sample, and a session's subagent, skill and MCP turns are series of their
    own that often live minutes. The overcount stays positive and small (docs/telemetry.md)."""
    plain = f"sum(increase({COST}[$__range]))"
    (entry,) = dataset.instant(plain, last_days(dataset, 7))
    truth = sum(dataset.totals.claude_code_cost_by_model.values())
    assert 1.0 < float(entry["value"][1]) / truth < 1.03
