"""The harness's recorded series are what the exported recording rules compute: at each
5-minute mark, every recorded series equals its rule's expression evaluated on the raw series
at that instant, and nothing else is recorded."""

from __future__ import annotations

import pytest

from tests.support.datasets import shared_dataset
from tools.querylab.prometheus import QueryDataset, evaluation_times
from tools.telemetry.scenario import DAY
from vocabulary.pricing import load_pricing
from vocabulary.recording import INTERVAL_SECONDS, recording_rules

HOUR = 3600.0


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 600, (0, 600)),
        (1, 899, (300, 600)),
        (299.5, 300, (300, 300)),
        (86_400 + 10, 2 * 86_400 - 1, (86_700, 2 * 86_400 - 300)),
    ],
)
def test_evaluations_fall_on_the_multiples_of_the_interval(
    start: float, end: float, expected: tuple[float, float]
) -> None:
    assert evaluation_times(start, end, 300) == expected


@pytest.fixture(scope="module")
def dataset() -> QueryDataset:
    return shared_dataset()


def _by_labels(result: list[dict]) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted((k, v) for k, v in entry["metric"].items() if k != "__name__")): float(
            entry["value"][1]
        )
        for entry in result
    }


@pytest.mark.query
def test_each_recorded_series_is_its_rule_evaluated_at_that_instant(
    dataset: QueryDataset,
) -> None:
    # The last day holds the apps and the runaway session; a mid-day moment and an hour's end.
    moments = [dataset.end - DAY + 13 * HOUR + 25 * 60, dataset.end - 2 * DAY + 11 * HOUR]
    compared = 0
    for at in moments:
        assert at % INTERVAL_SECONDS == 0
        for rule in recording_rules(load_pricing()):
            expected = _by_labels(dataset.server.query(rule.expr, at))
            # Only the sample recorded at `at` itself: a 1 ms window ending there.
            recorded = _by_labels(dataset.server.query(f"last_over_time({rule.record}[1ms])", at))
            assert recorded.keys() == expected.keys(), rule.record
            for labels, value in expected.items():
                assert recorded[labels] == pytest.approx(value, rel=1e-12), (rule.record, labels)
            compared += len(expected)
    assert compared > 100
