"""The report's figures, derived from the query results with exact (Decimal) arithmetic.

Claude Code and the LLM apps are combined here under common keys: an *app* is `claude-code` or
an app's `service_name`; an *operation* is `gen_ai.operation.name` (Claude Code's metrics carry
none: `—`); token types are `input`, `output`, `cache read`, `cache write`.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tools.report import queries
from tools.report.data import Daily, Key, ReportData, merge
from vocabulary.pricing import PriceKind, PricingTable

CLAUDE_CODE = "claude-code"
NO_OPERATION = "—"
TOKEN_TYPES = {
    "input": "input",
    "output": "output",
    "cacheRead": "cache read",
    "cacheCreation": "cache write",
}
TOKEN_ORDER = ("input", "output", "cache read", "cache write")
PER_MILLION = Decimal(1_000_000)


def _empty(labels: tuple[str, ...]) -> Daily:
    return Daily(labels)


@dataclass
class Figures:
    """Every table the sections read, keyed the same way for both sources."""

    data: ReportData
    cost: Daily  # (app, operation, model, user); user is "" for the apps
    team_cost: Daily  # (team, cost_center); "" for spend sent without them
    tokens: Daily  # (app, operation, model, type, user)
    calls: Daily  # (app, operation, model, error); error "" for successful calls
    priced_calls: Daily  # (app, operation, model): calls that reported a cost
    sessions: Daily  # (user,)
    http: Daily  # (app, status code)
    event_cost: Daily  # (model,): Claude Code's cost from its events (Loki)
    tool_calls: Daily  # (tool, success)
    tool_time: Daily  # (tool,): milliseconds

    @property
    def days(self) -> list[date]:
        """The period's started days: what totals add up."""
        return self.data.days

    @property
    def trend_days(self) -> list[date]:
        """Days queried and charted (the digest's week included)."""
        return [bucket.day for bucket in self.data.period.buckets()]


def build_figures(data: ReportData) -> Figures:
    tables = data.daily

    def table(query: queries.Query) -> Daily:
        return tables.get(query.name) or _empty(query.labels)

    cc_cost = table(queries.CLAUDE_CODE_COST)
    app_cost = table(queries.APP_COST)
    cost = merge(
        ("app", "operation", "model", "user"),
        cc_cost.regroup((), lambda k: (CLAUDE_CODE, NO_OPERATION, k[0], k[1])),
        app_cost.regroup((), lambda k: (k[0], k[1], k[2], "")),
    )
    tokens = merge(
        ("app", "operation", "model", "type", "user"),
        table(queries.CLAUDE_CODE_TOKENS).regroup(
            (), lambda k: (CLAUDE_CODE, NO_OPERATION, k[0], TOKEN_TYPES.get(k[1], k[1]), k[2])
        ),
        table(queries.APP_TOKENS).regroup(
            (), lambda k: (k[0], k[1], k[2], TOKEN_TYPES.get(k[3], k[3]), "")
        ),
    )
    cc_requests = table(queries.CLAUDE_CODE_API_REQUESTS)
    cc_errors = table(queries.CLAUDE_CODE_API_ERRORS)
    calls = merge(
        ("app", "operation", "model", "error"),
        table(queries.APP_CALLS),
        cc_requests.regroup((), lambda k: (CLAUDE_CODE, NO_OPERATION, k[0], "")),
        cc_errors.regroup((), lambda k: (CLAUDE_CODE, NO_OPERATION, k[0], f"HTTP {k[1]}")),
    )
    priced_calls = merge(
        ("app", "operation", "model"),
        table(queries.APP_PRICED_CALLS),
        cc_requests.regroup((), lambda k: (CLAUDE_CODE, NO_OPERATION, k[0])),
    )
    return Figures(
        data=data,
        cost=cost,
        team_cost=table(queries.TEAM_COST),
        tokens=tokens,
        calls=calls,
        priced_calls=priced_calls,
        sessions=table(queries.CLAUDE_CODE_SESSIONS),
        http=table(queries.HTTP_REQUESTS),
        event_cost=table(queries.CLAUDE_CODE_EVENT_COST),
        tool_calls=table(queries.CLAUDE_CODE_TOOL_RESULTS),
        tool_time=table(queries.CLAUDE_CODE_TOOL_TIME),
    )


def per_thousand(cost: Decimal | None, tokens: Decimal | None) -> Decimal | None:
    if cost is None or not tokens:
        return None
    return cost / tokens * 1000


# --- budget ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    spent: Decimal | None
    projected: Decimal | None
    budget: Decimal
    elapsed_fraction: Decimal

    @property
    def projected_share(self) -> Decimal | None:
        return None if self.projected is None else self.projected / self.budget


def projection(figures: Figures, budget: Decimal) -> Projection:
    """Run-rate projection: spend so far scaled to the whole period (exact for a past period)."""
    period = figures.data.period
    spent = figures.cost.total(figures.days)
    elapsed = Decimal(period.elapsed_seconds) / Decimal(period.length_seconds)
    projected = None if spent is None or elapsed == 0 else spent / elapsed
    return Projection(spent, projected, budget, elapsed)


def cumulative(daily: Daily, days: list[date]) -> dict[date, Decimal]:
    """Running total over `days`, from the first day with data on (days without data carry
    the total forward; before the first, there is no total)."""
    running: Decimal | None = None
    result = {}
    for day in days:
        amount = daily.day_total(day)
        if amount is not None:
            running = (running or Decimal(0)) + amount
        if running is not None:
            result[day] = running
    return result


# --- cache savings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheSaving:
    model: str
    read_tokens: Decimal
    write_tokens: Decimal
    saved_on_reads: Decimal | None  # None: the model has no price in the table
    extra_for_writes: Decimal | None

    @property
    def net(self) -> Decimal | None:
        if self.saved_on_reads is None or self.extra_for_writes is None:
            return None
        return self.saved_on_reads - self.extra_for_writes


def cache_savings(figures: Figures, pricing: PricingTable) -> list[CacheSaving]:
    """Per model: cache reads priced at (input - cache read) saved; cache writes cost
    (cache write - input) more than plain input, each day at that day's prices. Claude Code's
    token metrics only: the apps' GenAI token metric has no cache types."""
    tokens = figures.tokens.by("app", "model", "type")
    by_model_type = tokens.totals(figures.days)
    savings = []
    models = sorted({m for app, m, _t in by_model_type if app == CLAUDE_CODE})
    for model in models:
        reads = by_model_type.get((CLAUDE_CODE, model, "cache read"), Decimal(0))
        writes = by_model_type.get((CLAUDE_CODE, model, "cache write"), Decimal(0))
        price = pricing.price_of(model)
        if price is None:
            savings.append(CacheSaving(model, reads, writes, None, None))
            continue
        saved, extra = Decimal(0), Decimal(0)
        for day in figures.days:
            plain, read, write = (
                Decimal(str(price.price_on(kind, day)))
                for kind in (PriceKind.INPUT, PriceKind.CACHE_READ, PriceKind.CACHE_WRITE)
            )
            amounts = tokens.by_day.get(day, {})
            saved += amounts.get((CLAUDE_CODE, model, "cache read"), Decimal(0)) * (plain - read)
            extra += amounts.get((CLAUDE_CODE, model, "cache write"), Decimal(0)) * (write - plain)
        savings.append(CacheSaving(model, reads, writes, saved / PER_MILLION, extra / PER_MILLION))
    return savings


# --- day-over-day changes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    what: str
    before_day: date
    day: date
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before

    @property
    def relative(self) -> Decimal | None:
        return None if self.before == 0 else self.delta / self.before


def _changes_of(daily: Daily, name: str, days: list[date], compare_days: set[date]) -> list[Change]:
    """Changes into each of `compare_days` from the day before, when both days have data for
    this table; a key missing on one of the two days counts as zero there."""
    changes = []
    for day in days:
        before_day = day - timedelta(days=1)
        if day not in compare_days or day not in daily.by_day or before_day not in daily.by_day:
            continue
        before_values, after_values = daily.by_day[before_day], daily.by_day[day]
        for key in sorted(set(before_values) | set(after_values)):
            before = before_values.get(key, Decimal(0))
            after = after_values.get(key, Decimal(0))
            label = name if not key else f"{name} {' / '.join(part for part in key if part)}"
            changes.append(Change(label, before_day, day, before, after))
    return changes


def largest_changes(figures: Figures, limit: int) -> list[Change]:
    """The largest absolute day-over-day changes in cost: in total, per app, model and user."""
    trend = figures.trend_days
    compare_days = set(figures.days)
    dimensions = (
        (figures.cost.regroup((), lambda _k: ()), "total"),
        (figures.cost.by("app"), "app"),
        (figures.cost.by("model"), "model"),
        (figures.cost.by("user").only("user", bool), "user"),
    )
    changes = []
    for daily, name in dimensions:
        changes += _changes_of(daily, name, trend, compare_days)
    changes = [change for change in changes if change.delta != 0]
    changes.sort(key=lambda change: (-abs(change.delta), change.what, change.day))
    return changes[:limit]


# --- per-key totals used by several sections ---------------------------------------------------


def totals(daily: Daily, days: list[date], *labels: str) -> dict[Key, Decimal]:
    return daily.by(*labels).totals(days)


def failed(calls: Daily) -> Daily:
    return calls.where("error", bool)
