"""What the Grafana-managed recording rules on Loki (vocabulary/event_counts.py) write into
Prometheus, computed from the generator's Loki entries.

A stand-in for Loki, which cannot run here (no image can be pulled, and it is AGPL): each rule's
definition (Claude Code's streams, the event name, the grouping labels, the window and its delay)
is applied to the entries Loki would hold for the traffic (tools/telemetry/logs.py), at the same
5-minute evaluation times as the PromQL recording rules. The LogQL itself is checked with Loki's
grammar, not run. A window without events writes no sample, as Loki returns no series for it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from tools.querylab.prometheus import evaluation_times, parse_duration
from tools.telemetry.naming import MetricType
from tools.telemetry.storage import Family, Labels, StoredSeries
from vocabulary import names
from vocabulary.event_counts import LABELS, WINDOW, EventCount

LokiEntry = Mapping[str, Any]


def _labels(entry: LokiEntry) -> Labels:
    """The entry's values of the rule's grouping labels: stream labels and structured metadata
    alike; a label it lacks (or leaves empty) is absent, as after Loki's `sum by`."""
    found = {**entry["structured_metadata"], **entry["stream"]}
    return tuple((label, found[label]) for label in LABELS if found.get(label))


def event_times(count: EventCount, entries: Iterable[LokiEntry]) -> dict[Labels, list[float]]:
    """The times of `count.event` on Claude Code's streams, by the rule's grouping labels."""
    times: dict[Labels, list[float]] = {}
    for entry in entries:
        if entry["stream"].get(names.SERVICE) not in names.CLAUDE_CODE_SERVICES:
            continue
        if entry["structured_metadata"].get(names.EVENT_NAME) != count.event:
            continue
        stamp = datetime.fromisoformat(entry["timestamp"]).timestamp()
        times.setdefault(_labels(entry), []).append(stamp)
    for stamps in times.values():
        stamps.sort()
    return times


def recorded_counts(
    count: EventCount, entries: Iterable[LokiEntry], start: float, end: float, interval: float
) -> list[StoredSeries]:
    """The rule's samples at each evaluation in [start, end]: at t, the events stamped in
    (t - delay - window, t - delay]."""
    window = parse_duration(WINDOW.duration)
    delay = parse_duration(WINDOW.offset or "0s")
    first, last = evaluation_times(start, end, interval)
    recorded = []
    for labels, stamps in sorted(event_times(count, entries).items()):
        # The evaluations whose window can hold one of these events.
        marks = sorted(
            {
                mark
                for stamp in stamps
                for mark in _marks(stamp + delay, stamp + delay + window, interval)
                if first <= mark <= last
            }
        )
        samples = []
        for mark in marks:
            ends = mark - delay
            held = bisect.bisect_right(stamps, ends) - bisect.bisect_right(stamps, ends - window)
            if held:
                samples.append((mark, float(held)))
        if samples:
            recorded.append(StoredSeries(count.record, tuple(sorted(labels)), samples))
    return recorded


def _marks(after_or_at: float, before: float, interval: float) -> Iterator[float]:
    mark = math.ceil(after_or_at / interval) * interval
    while mark < before:
        yield mark
        mark += interval


def event_count_families(
    counts: Sequence[EventCount],
    entries: Sequence[LokiEntry],
    start: float,
    end: float,
    interval: float,
) -> Iterator[Family]:
    """One gauge family per rule, as Grafana writes it, ready for write_openmetrics."""
    for count in counts:
        series = recorded_counts(count, entries, start, end, interval)
        yield Family(
            count.record,
            MetricType.GAUGE,
            f"{count.event} events per recorded window (Loki recording rule)",
            iter(series),
        )
