"""Acceptance: 7 days of generated telemetry, backfilled into a real Prometheus, give each model's
true cost through the PromQL the dashboards use (increase() per series, then sum)."""

import pytest

from tests.support.prometheus import QueryContext, QueryDataset, by_label, shared_dataset
from tools.telemetry.truth import utc_day

pytestmark = pytest.mark.query

DAY = 86_400.0
SEVEN_DAYS = "sum by (model) (increase(claude_code_cost_usage_USD_total[$__range]))"


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
    (series,) = dataset.range(
        "sum(increase(claude_code_cost_usage_USD_total[$__interval]))", context
    )
    truth_by_day: dict[str, float] = {}
    for (_model, day), cost in dataset.totals.claude_code_cost_by_model_day.items():
        truth_by_day[day] = truth_by_day.get(day, 0.0) + cost
    # The point at midnight covers the day that just ended.
    measured = {utc_day(float(moment) - 1): float(value) for moment, value in series["values"]}
    for day, cost in truth_by_day.items():
        assert measured.get(day, 0.0) == pytest.approx(cost, rel=0.02, abs=0.05), day
