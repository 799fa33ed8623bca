"""What the queries returned, as exact amounts by day and label values.

A day absent from a table had no samples for that query (the report says "no data"); a label
combination absent on a day that has data is zero on that day.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tools.report.period import Period

Key = tuple[str, ...]


@dataclass
class Daily:
    """Amounts keyed by day, then by the query's label values (in `labels` order)."""

    labels: tuple[str, ...]
    by_day: dict[date, dict[Key, Decimal]] = field(default_factory=dict)

    def add(self, day: date, key: Key, amount: Decimal) -> None:
        cell = self.by_day.setdefault(day, {})
        cell[key] = cell.get(key, Decimal(0)) + amount

    def days(self) -> set[date]:
        return set(self.by_day)

    def day_total(self, day: date) -> Decimal | None:
        values = self.by_day.get(day)
        return None if values is None else sum(values.values(), Decimal(0))

    def total(self, days: Iterable[date]) -> Decimal | None:
        """Sum over `days`; None when none of them has data."""
        amounts = [self.day_total(day) for day in days]
        present = [amount for amount in amounts if amount is not None]
        return sum(present, Decimal(0)) if present else None

    def totals(self, days: Iterable[date]) -> dict[Key, Decimal]:
        """Per key, summed over `days` (keys with data on none of them are absent)."""
        sums: dict[Key, Decimal] = defaultdict(Decimal)
        for day in days:
            for key, amount in self.by_day.get(day, {}).items():
                sums[key] += amount
        return dict(sums)

    def by(self, *labels: str) -> "Daily":
        """The same amounts summed over every label not in `labels`."""
        positions = [self.labels.index(label) for label in labels]
        return self.regroup(labels, lambda key: tuple(key[p] for p in positions))

    def regroup(self, labels: tuple[str, ...], new_key: Callable[[Key], Key]) -> "Daily":
        result = Daily(labels)
        for day, values in self.by_day.items():
            result.by_day[day] = {}
            for key, amount in values.items():
                result.add(day, new_key(key), amount)
        return result

    def where(self, label: str, keep: Callable[[str], bool]) -> "Daily":
        """The keys whose `label` value passes `keep`, as a part of the same population: a day
        with data keeps it even when no key passes (no failed calls that day is zero)."""
        position = self.labels.index(label)
        result = Daily(self.labels)
        for day, values in self.by_day.items():
            result.by_day[day] = {k: v for k, v in values.items() if keep(k[position])}
        return result

    def only(self, label: str, keep: Callable[[str], bool]) -> "Daily":
        """The keys whose `label` value passes `keep`, as a source of its own: a day where no
        key passes has no data (Claude Code's busy day is not the apps' zero)."""
        kept = self.where(label, keep)
        kept.by_day = {day: values for day, values in kept.by_day.items() if values}
        return kept


def merge(labels: tuple[str, ...], *tables: Daily) -> Daily:
    """Several tables with the same key shape added together (e.g. cost of two sources)."""
    result = Daily(labels)
    for table in tables:
        for day, values in table.by_day.items():
            result.by_day.setdefault(day, {})
            for key, amount in values.items():
                result.add(day, key, amount)
    return result


@dataclass
class ReportData:
    """Everything queried for one period; `loki` is False when no Loki URL was given."""

    period: Period
    prometheus_url: str
    loki_url: str | None
    daily: dict[str, Daily]
    daily_quantiles: dict[str, dict[date, Decimal | None]]
    period_quantiles: dict[str, dict[Key, Decimal | None]]

    @property
    def loki(self) -> bool:
        return self.loki_url is not None

    @property
    def days(self) -> list[date]:
        """The period's days that have started (the ones that count in totals)."""
        started = {bucket.day for bucket in self.period.buckets()}
        return [day for day in self.period.days if day in started]
