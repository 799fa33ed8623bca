"""The period a report covers, in UTC days, and the query buckets that cover each day.

A day is [00:00, 24:00) UTC. Its figure is an evaluation at the day's end over a `[1d]` window:
Prometheus range selectors are left-open, so the window (D 00:00, D+1 00:00] is exactly day D
(the sample at midnight itself belongs to D, which ended at that instant). A day still running at
`as_of` is evaluated at `as_of` over the time since its midnight; days after `as_of` are not
queried.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

DAY_SECONDS = 86_400
TREND_DAYS_OF_DIGEST = 7  # a daily digest charts the week that ends on its day


class PeriodError(ValueError):
    """A month or day the report cannot cover; the message is one line for the user."""


@dataclass(frozen=True)
class Bucket:
    """One day's evaluation: at `end` (unix seconds) over the `seconds` before it."""

    day: date
    end: int
    seconds: int

    @property
    def complete(self) -> bool:
        return self.seconds == DAY_SECONDS

    @property
    def window(self) -> str:
        """The PromQL/LogQL range of this bucket: `1d`, or whole seconds for a running day."""
        return "1d" if self.complete else f"{self.seconds}s"


@dataclass(frozen=True)
class Period:
    kind: Literal["month", "day"]
    label: str  # 2026-04 or 2026-04-30
    first: date
    last: date
    as_of: datetime

    @property
    def days(self) -> list[date]:
        """Every calendar day of the period, including those after `as_of`."""
        return _days_between(self.first, self.last)

    @property
    def trend_days(self) -> list[date]:
        """Days that are queried and charted: the month, or the week ending on the digest's day."""
        if self.kind == "month":
            return self.days
        return _days_between(self.first - timedelta(days=TREND_DAYS_OF_DIGEST - 1), self.last)

    @property
    def start(self) -> int:
        return _midnight(self.first)

    @property
    def end(self) -> int:
        """When the period ends (exclusive), as unix seconds."""
        return _midnight(self.last + timedelta(days=1))

    @property
    def evaluated_until(self) -> int:
        """The period's end, or `as_of` if the period is still running."""
        return min(self.end, int(self.as_of.timestamp()))

    @property
    def elapsed_seconds(self) -> int:
        return max(self.evaluated_until - self.start, 0)

    @property
    def length_seconds(self) -> int:
        return self.end - self.start

    @property
    def running(self) -> bool:
        return self.evaluated_until < self.end

    def buckets(self) -> list[Bucket]:
        """One bucket per trend day that has started by `as_of`."""
        until = int(self.as_of.timestamp())
        buckets = []
        for day in self.trend_days:
            start = _midnight(day)
            if start >= until:
                break
            end = min(start + DAY_SECONDS, until)
            buckets.append(Bucket(day, end, end - start))
        return buckets

    def whole_window(self) -> Bucket:
        """The period as a single evaluation (for quantiles, which do not add up over days)."""
        return Bucket(self.last, self.evaluated_until, self.elapsed_seconds)


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def day_of_timestamp(end: float) -> date:
    """The day an evaluation at `end` covers: midnight belongs to the day that just ended."""
    return datetime.fromtimestamp(end - 1, UTC).date()


def parse_as_of(text: str | None) -> datetime:
    """`--as-of` as an aware UTC datetime (ISO 8601; a naive time is taken as UTC)."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PeriodError(
            f"--as-of {text!r} is not an ISO 8601 time such as 2026-05-01T00:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def month_period(text: str, as_of: datetime) -> Period:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"--month {text!r} is not a month such as 2026-04 (YYYY-MM)")
    year, month = int(match.group(1)), int(match.group(2))
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return _checked(Period("month", text, first, last, as_of))


def day_period(text: str, as_of: datetime) -> Period:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"--day {text!r} is not a date such as 2026-04-30 (YYYY-MM-DD)") from None
    return _checked(Period("day", text, day, day, as_of))


def _checked(period: Period) -> Period:
    if period.start >= int(period.as_of.timestamp()):
        raise PeriodError(
            f"{period.label} has not started yet (as of {period.as_of:%Y-%m-%dT%H:%MZ})"
        )
    return period
