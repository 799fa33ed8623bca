"""Claude Code's refusals and exhausted retries counted into Prometheus
(vocabulary/event_counts.py): the Loki recording rules parse with Loki's grammar; the query
harness's stand-in for Loki (tools/querylab/event_counts.py) counts exactly the generator's
events, each in one window; on the real Prometheus the recorded counts add up to the events, and
the burst rules see the burst the generator plants before the dashboards' `now`."""

from __future__ import annotations

import math
from collections import Counter
from functools import cache

import pytest

from alerts.agents import event_burst
from components.settings import AlertThresholds
from tests.support.datasets import FIXTURE_SCENARIO, shared_dataset
from tests.support.grammars import QuerySyntaxError, check_logql
from tools.querylab.event_counts import recorded_counts
from tools.querylab.prometheus import by_label
from tools.telemetry.events import ClaudeCodeEvent, Traffic, team_attributes
from tools.telemetry.logs import loki_entries, rfc3339
from tools.telemetry.simulate import simulate
from vocabulary import names
from vocabulary.event_counts import EVENT_COUNTS, INTERVAL_SECONDS, REFUSALS, EventCount

WINDOW_SECONDS, DELAY_SECONDS = 300, 60
DASHBOARD_NOW = FIXTURE_SCENARIO.end - 6 * 3600  # QueryDataset.now
COUNT_IDS = [count.event for count in EVENT_COUNTS]


@cache
def _traffic() -> Traffic:
    return simulate(FIXTURE_SCENARIO)


@cache
def _entries() -> tuple[dict, ...]:
    return tuple(loki_entries(_traffic()))


def _recorded(count: EventCount) -> dict[tuple[tuple[str, str], ...], list[tuple[float, float]]]:
    series = recorded_counts(
        count, _entries(), FIXTURE_SCENARIO.start, FIXTURE_SCENARIO.end + 600, INTERVAL_SECONDS
    )
    return {stored.labels: stored.samples for stored in series}


def _labels(event: ClaudeCodeEvent) -> tuple[tuple[str, str], ...]:
    """What the rule groups an event by, read from the event itself (not its Loki entry)."""
    process = event.process
    found = {
        names.SERVICE: process.service,
        names.USER: process.user.email,
        names.MODEL: str(dict(event.attributes).get("model", "")),
        **dict(team_attributes(process.user)),
    }
    return tuple(sorted((k, v) for k, v in found.items() if k in _GROUPING and v))


_GROUPING = {names.SERVICE, names.USER, names.TEAM, names.MODEL}


def _stamp(event: ClaudeCodeEvent) -> float:
    """The event's time as Loki keeps it (milliseconds)."""
    return math.floor(event.time * 1000) / 1000


def _events(count: EventCount) -> list[ClaudeCodeEvent]:
    return [event for event in _traffic().claude_code_events if event.name == count.event]


@pytest.mark.query
@pytest.mark.parametrize("count", EVENT_COUNTS, ids=COUNT_IDS)
def test_the_loki_recording_rule_parses_with_lokis_grammar(count: EventCount) -> None:
    check_logql(count.expr())
    with pytest.raises(QuerySyntaxError):
        check_logql(count.expr().removesuffix(")"))


@pytest.mark.parametrize("count", EVENT_COUNTS, ids=COUNT_IDS)
def test_every_event_is_counted_once_in_the_window_that_holds_it(count: EventCount) -> None:
    events = _events(count)
    assert events, f"the generator sends no {count.event} events"
    recorded = _recorded(count)
    # Each sample at t holds exactly the events stamped in (t - 6m, t - 1m], by the labels.
    for labels, samples in recorded.items():
        for at, value in samples:
            held = [
                e
                for e in events
                if _labels(e) == labels
                and at - DELAY_SECONDS - WINDOW_SECONDS < _stamp(e) <= at - DELAY_SECONDS
            ]
            assert value == len(held), (labels, at)
            assert at % INTERVAL_SECONDS == 0
    # And the windows add up to every event, by label set.
    totals = {labels: sum(value for _, value in samples) for labels, samples in recorded.items()}
    assert totals == dict(Counter(_labels(e) for e in events))


def test_a_window_ends_a_minute_before_its_evaluation() -> None:
    base = 1_800_000_000.0  # a multiple of 300 s
    stamps = [base - 60, base - 59.999, base - 360, base - 359.999]

    def entry(stamp: float) -> dict:
        return {
            "timestamp": rfc3339(stamp),
            "stream": {names.SERVICE: "claude-code-desktop"},
            "structured_metadata": {names.EVENT_NAME: REFUSALS.event, names.USER: "a@x"},
        }

    other = {**entry(base - 120), "stream": {names.SERVICE: "llm-cost-jsonl"}}
    (series,) = recorded_counts(
        REFUSALS, [*map(entry, stamps), other], base - 900, base + 900, INTERVAL_SECONDS
    )
    # base - 60 and base - 359.999 belong to the window recorded at `base`; base - 360 to the
    # one before; base - 59.999 to the one after. Another stream counts nowhere.
    assert series.samples == [(base - 300, 1.0), (base, 2.0), (base + 300, 1.0)]
    assert series.labels == ((names.SERVICE, "claude-code-desktop"), (names.USER, "a@x"))


def test_the_planted_burst_is_over_both_limits_and_nobody_else_is() -> None:
    thresholds = AlertThresholds()
    limits = {
        names.API_REFUSAL: thresholds.refusals_in_15_minutes,
        names.API_RETRIES_EXHAUSTED: thresholds.exhausted_retries_in_15_minutes,
    }
    for count in EVENT_COUNTS:
        by_user: Counter[str] = Counter()
        for labels, samples in _recorded(count).items():
            user = dict(labels)[names.USER]
            by_user[user] += sum(
                v for at, v in samples if DASHBOARD_NOW - 900 < at <= DASHBOARD_NOW
            )
        over = {user for user, seen in by_user.items() if seen > limits[count.event]}
        assert over == {"dev2@example.com"}, (count.event, by_user)


@pytest.mark.query
@pytest.mark.parametrize("count", EVENT_COUNTS, ids=COUNT_IDS)
def test_the_recorded_counts_in_prometheus_add_up_to_the_events(count: EventCount) -> None:
    dataset = shared_dataset()
    days = int(FIXTURE_SCENARIO.days) + 1
    result = dataset.server.query(
        f"sum by ({names.USER}) (sum_over_time({count.record}[{days}d]))",
        FIXTURE_SCENARIO.end + 600,
    )
    truth = Counter(event.process.user.email for event in _events(count))
    assert by_label(result, names.USER) == {user: float(n) for user, n in truth.items()}


@pytest.mark.query
@pytest.mark.parametrize("count", EVENT_COUNTS, ids=COUNT_IDS)
def test_the_burst_rule_sees_the_last_15_minutes_of_events(count: EventCount) -> None:
    dataset = shared_dataset()
    assert dataset.now == DASHBOARD_NOW
    result = dataset.server.query(event_burst(count), dataset.now)
    # The records at now-10m, now-5m and now hold the events of (now - 16m, now - 1m].
    held = Counter(
        event.process.user.email
        for event in _events(count)
        if dataset.now - 960 < _stamp(event) <= dataset.now - 60
    )
    assert by_label(result, names.USER) == {user: float(n) for user, n in held.items()}
