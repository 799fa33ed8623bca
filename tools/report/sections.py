"""The report's sections, in order; docs/report.md describes each one.

Every figure here is formatted at this boundary (money.py rounds half to even); figures for
keys or days without samples say "no data", never 0.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tools.report import charts, queries
from tools.report.data import Daily, Key
from tools.report.document import Chart, Document, Section, Table
from tools.report.figures import (
    CLAUDE_CODE,
    TOKEN_ORDER,
    Figures,
    cache_savings,
    cumulative,
    failed,
    largest_changes,
    per_thousand,
    projection,
    totals,
)
from tools.report.money import NO_DATA, count, percent, ratio, signed_percent, usd, usd_fine
from vocabulary.pricing import PricingTable

NOT_YET = "not yet"
MILLION = Decimal(1_000_000)
NEEDS_LOKI = "needs --loki"


@dataclass(frozen=True)
class Options:
    budget: Decimal
    budget_source: str  # how the budget was chosen, said in the budget section
    top: int
    pricing: PricingTable


def _day_cell(day: date, value: Decimal | None, started: set[date], fmt: Callable) -> str:
    if day not in started:
        return NOT_YET
    return fmt(value) if value is not None else NO_DATA


def _seconds(value: Decimal | None) -> str:
    return NO_DATA if value is None else f"{value:.2f} s"


def _sorted_by_amount(amounts: dict[Key, Decimal]) -> list[tuple[Key, Decimal]]:
    return sorted(amounts.items(), key=lambda item: (-item[1], item[0]))


def _first(amounts: dict[Key, Decimal]) -> dict[str, Decimal]:
    return {key[0]: amount for key, amount in amounts.items()}


def _is_llm_app(app: str) -> bool:
    return app != CLAUDE_CODE


@dataclass(frozen=True)
class RequestScope:
    """The requests that can be counted: Claude Code's come from Loki, so without --loki
    request figures cover the apps only (and say so)."""

    cost: Daily
    calls: Daily
    priced: Daily
    scope: str

    @classmethod
    def of(cls, figures: Figures) -> "RequestScope":
        if figures.data.loki:
            return cls(figures.cost, figures.calls, figures.priced_calls, "")
        return cls(
            figures.cost.only("app", _is_llm_app),
            figures.calls.only("app", _is_llm_app),
            figures.priced_calls.only("app", _is_llm_app),
            " (LLM apps only)",
        )

    def cost_per_request(self, days: list[date]) -> Decimal | None:
        return ratio(self.cost.total(days), self.priced.total(days))


# --- summary -----------------------------------------------------------------------------------


ESTIMATE_NOTE = (
    "These figures are an estimate from telemetry (what Claude Code and the apps reported, and "
    "token-only apps at the pricing table's list prices); the provider's invoice is "
    "authoritative."
)


def summary(figures: Figures, options: Options) -> Section:
    data, days = figures.data, figures.days
    period = data.period
    total = figures.cost.total(days)
    by_app = _first(totals(figures.cost, days, "app"))
    cc_cost = by_app.get(CLAUDE_CODE)
    app_costs = [amount for app, amount in by_app.items() if app != CLAUDE_CODE]
    app_cost = sum(app_costs, Decimal(0)) if app_costs else None
    tokens = figures.tokens.total(days)
    requests = RequestScope.of(figures)
    calls = requests.calls.total(days)
    failed_calls = failed(requests.calls).total(days) if calls is not None else None
    projected = projection(figures, options.budget)
    overall_p95 = data.period_quantiles.get(queries.LLM_P95_OVERALL.name, {}).get(())
    savings = [s.net for s in cache_savings(figures, options.pricing) if s.net is not None]
    rows = [
        ["Total cost", usd(total)],
        ["Claude Code", usd(cc_cost)],
        ["LLM apps", usd(app_cost)],
        *(_month_rows(figures, total) if period.kind == "month" else _digest_rows(figures)),
        ["Projected for the period", usd(projected.projected)],
        ["Budget", usd(options.budget)],
        ["Projected share of budget", percent(projected.projected, options.budget)],
        ["Tokens", count(tokens)],
        [f"Requests{requests.scope}", count(calls)],
        [f"Cost per request{requests.scope}", usd_fine(requests.cost_per_request(days))],
        ["Cost per 1K tokens", usd_fine(per_thousand(total, tokens))],
        ["Cache savings (net)", usd(sum(savings, Decimal(0))) if savings else NO_DATA],
        [f"Failed requests{requests.scope}", percent(failed_calls, calls)],
        ["P95 LLM call latency", _seconds(overall_p95)],
    ]
    window = (
        f"{period.first} to {period.last} (UTC)"
        if period.kind == "month"
        else f"{period.first} (UTC)"
    )
    running = (
        f" Data until {period.as_of:%Y-%m-%d %H:%M} UTC; the period is still running."
        if period.running
        else ""
    )
    sources = f"Prometheus {data.prometheus_url}" + (
        f", Loki {data.loki_url}"
        if data.loki_url
        else " (no Loki: Claude Code requests, API errors and tools need --loki)"
    )
    return Section(
        "summary",
        "Summary",
        [f"{window}.{running} Sources: {sources}.", ESTIMATE_NOTE],
        tables=[Table(["Figure", "Value"], rows)],
    )


def _month_rows(figures: Figures, total: Decimal | None) -> list[list[str]]:
    days = figures.days
    with_data = [day for day in days if figures.cost.day_total(day) is not None]
    busiest = max(with_data, key=lambda day: figures.cost.day_total(day) or 0, default=None)
    return [
        ["Average per day", usd(ratio(total, Decimal(len(days)) if days else None))],
        ["Days with data", f"{len(with_data)} of {len(days)}"],
        [
            "Busiest day",
            f"{busiest}: {usd(figures.cost.day_total(busiest))}" if busiest else NO_DATA,
        ],
    ]


def _digest_rows(figures: Figures) -> list[list[str]]:
    """The day against the day before (queried as part of the digest's week)."""
    (day,) = figures.days
    today, before = figures.cost.day_total(day), figures.cost.day_total(day - timedelta(days=1))
    change = None if today is None or before is None else today - before
    return [
        ["Day before", usd(before)],
        ["Change", NO_DATA if change is None else ("+" if change > 0 else "") + usd(change)],
    ]


# --- daily cost --------------------------------------------------------------------------------


def daily_cost(figures: Figures, options: Options) -> Section:
    days, trend = figures.days, figures.trend_days
    period_days = figures.data.period.days if figures.data.period.kind == "month" else trend
    started = set(trend)
    by_app = figures.cost.by("app")
    apps = [key[0] for key, _ in _sorted_by_amount(by_app.totals(trend))]
    stacks = {app: {d: v.get((app,), Decimal(0)) for d, v in by_app.by_day.items()} for app in apps}
    no_data = [day for day in trend if figures.cost.day_total(day) is None]
    daily_budget = options.budget / len(figures.data.period.days)
    png = charts.stacked_daily_bars(
        trend, stacks, no_data, "USD per day", (f"daily budget {usd(daily_budget)}", daily_budget)
    )
    running = cumulative(figures.cost, trend)
    rows = []
    for day in period_days:
        values = by_app.by_day.get(day)
        cells = [
            _day_cell(day, values.get((app,)) if values is not None else None, started, usd)
            for app in apps
        ]
        total = figures.cost.day_total(day)
        rows.append(
            [
                day.isoformat() + (" (digest)" if day in days and len(days) == 1 else ""),
                *cells,
                _day_cell(day, total, started, usd),
                _day_cell(day, running.get(day), started, usd),
            ]
        )
    return Section(
        "daily-cost",
        "Daily cost",
        [
            "Cost per UTC day, stacked by app (Claude Code and each instrumented LLM app). "
            "Each day is the increase over that day alone, evaluated at its midnight end. "
            '"no data" means no samples that day, which is not the same as $0.00.'
        ],
        [Chart(png, "Daily cost by app")],
        [Table(["Day", *apps, "Total", "Cumulative"], rows)],
    )


# --- by model ----------------------------------------------------------------------------------


def by_model(figures: Figures, options: Options) -> Section:
    days = figures.days
    cost = _first(totals(figures.cost, days, "model"))
    tokens = totals(figures.tokens, days, "model", "type")
    total_cost = figures.cost.total(days)
    models = sorted(set(cost) | {model for model, _type in tokens}, key=lambda m: -cost.get(m, 0))
    rows = []
    for model in models:
        by_type = [tokens.get((model, kind)) for kind in TOKEN_ORDER]
        all_tokens = sum((t for t in by_type if t is not None), Decimal(0))
        rows.append(
            [
                model,
                usd(cost.get(model)),
                percent(cost.get(model), total_cost),
                *(count(t) if t is not None else "—" for t in by_type),
                count(all_tokens),
                usd_fine(per_thousand(cost.get(model), all_tokens)),
            ]
        )
    section = Section(
        "by-model",
        "Cost and tokens by model",
        [
            "Claude Code and the apps together. Cost per 1K tokens counts every token type, "
            'cache reads included ("—": the source reports no such tokens).'
        ],
    )
    if cost:
        ordered = _sorted_by_amount({(m,): v for m, v in cost.items()})
        section.charts.append(
            Chart(
                charts.horizontal_bars([k[0] for k, _ in ordered], [v for _, v in ordered], "USD"),
                "Cost by model",
            )
        )
    headers = ["Model", "Cost", "Share", *(t.capitalize() for t in TOKEN_ORDER), "Tokens"]
    section.tables.append(Table([*headers, "Per 1K tokens"], rows or [[NO_DATA] + [""] * 9]))
    return section


NO_TEAM = "(no team)"


def by_team(figures: Figures, options: Options) -> Section:
    days = figures.days
    cost = figures.team_cost.totals(days)
    total_cost = figures.team_cost.total(days)
    rows = [
        [team or NO_TEAM, cost_center or "—", usd(amount), percent(amount, total_cost)]
        for (team, cost_center), amount in _sorted_by_amount(cost)
    ]
    section = Section(
        "by-team",
        "Cost by team",
        [
            "Claude Code and the apps together, by the `team` and `cost_center` resource "
            "attributes each laptop or app sends (OTEL_RESOURCE_ATTRIBUTES; the stack's "
            f'claudeCodeManagedSettingsByTeam output sets them); "{NO_TEAM}" is spend sent '
            "without them."
        ],
    )
    if cost:
        section.charts.append(
            Chart(
                charts.horizontal_bars(
                    [team or NO_TEAM for (team, _), _ in _sorted_by_amount(cost)],
                    [amount for _, amount in _sorted_by_amount(cost)],
                    "USD",
                ),
                "Cost by team",
            )
        )
    section.tables.append(
        Table(["Team", "Cost centre", "Cost", "Share"], rows or [[NO_DATA, "", "", ""]])
    )
    return section


# --- by app and operation, tools ---------------------------------------------------------------


def by_operation(figures: Figures, options: Options) -> Section:
    days, loki = figures.days, figures.data.loki
    cost = totals(figures.cost, days, "app", "operation")
    calls = totals(figures.calls, days, "app", "operation")
    failures = totals(failed(figures.calls), days, "app", "operation")
    tokens = totals(figures.tokens, days, "app", "operation")
    total_cost = figures.cost.total(days)
    rows = []
    for key, amount in _sorted_by_amount(cost):
        no_requests = key[0] == CLAUDE_CODE and not loki
        rows.append(
            [
                *key,
                usd(amount),
                percent(amount, total_cost),
                NEEDS_LOKI if no_requests else count(calls.get(key)),
                NEEDS_LOKI if no_requests else count(failures.get(key, Decimal(0))),
                count(tokens.get(key)),
            ]
        )
    section = Section(
        "by-operation",
        "Cost and tokens by app, operation and tool",
        [
            "An app is `claude-code` or an instrumented app's `service.name`; its operation is "
            "`gen_ai.operation.name` (Claude Code's metrics have none). Requests are LLM calls "
            "(Claude Code: `api_request` plus `api_error` events, from Loki)."
        ],
        tables=[
            Table(
                ["App", "Operation", "Cost", "Share", "Requests", "Failed", "Tokens"],
                rows or [[NO_DATA, "", "", "", "", "", ""]],
                text_columns=2,
            )
        ],
    )
    section.tables.append(_tools_table(figures))
    if loki:
        section.paragraphs.append(_event_cost_check(figures, cost))
    return section


def _event_cost_check(figures: Figures, cost: dict[Key, Decimal]) -> str:
    """Claude Code's cost two ways: a large gap points at double-counted series (parallel
    processes writing one series) or at lost exports."""
    from_events = figures.event_cost.total(figures.days)
    metric = [amount for key, amount in cost.items() if key[0] == CLAUDE_CODE]
    from_metric = sum(metric, Decimal(0)) if metric else None
    gap = None
    if from_metric is not None and from_events is not None:
        gap = ratio(from_metric - from_events, from_events)
    difference = NO_DATA if gap is None else signed_percent(gap)
    return (
        f"Cross-check: Claude Code's `api_request` events in Loki add up to {usd(from_events)}, "
        f"its cost metric to {usd(from_metric)} ({difference})."
    )


def _tools_table(figures: Figures) -> Table:
    headers = ["Tool", "Calls", "Failed", "Failure rate", "Total time", "Mean time"]
    caption = "Claude Code tools (`tool_result` events in Loki)"
    if not figures.data.loki:
        return Table(headers, [[NEEDS_LOKI, "", "", "", "", ""]], caption)
    days = figures.days
    results = figures.tool_calls.totals(days)
    time_ms = _first(figures.tool_time.totals(days))
    calls: dict[str, Decimal] = {}
    failures: dict[str, Decimal] = {}
    for (tool, success), amount in results.items():
        calls[tool] = calls.get(tool, Decimal(0)) + amount
        if success.lower() == "false":
            failures[tool] = failures.get(tool, Decimal(0)) + amount
    rows = []
    for tool in sorted(calls, key=lambda t: (-calls[t], t)):
        spent = time_ms.get(tool)
        rows.append(
            [
                tool,
                count(calls[tool]),
                count(failures.get(tool, Decimal(0))),
                percent(failures.get(tool, Decimal(0)), calls[tool]),
                NO_DATA if spent is None else f"{spent / 1000:,.0f} s",
                NO_DATA if spent is None else f"{spent / calls[tool] / 1000:,.2f} s",
            ]
        )
    return Table(headers, rows or [[NO_DATA, "", "", "", "", ""]], caption)


# --- tokens over time --------------------------------------------------------------------------


def tokens_over_time(figures: Figures, options: Options) -> Section:
    trend, days = figures.trend_days, figures.days
    by_type = figures.tokens.by("type")
    stacks = {
        kind: {
            day: values.get((kind,), Decimal(0)) / MILLION for day, values in by_type.by_day.items()
        }
        for kind in TOKEN_ORDER
        if any((kind,) in values for values in by_type.by_day.values())
    }
    no_data = [day for day in trend if by_type.day_total(day) is None]
    png = charts.stacked_daily_bars(trend, stacks, no_data, "million tokens per day")
    period_totals = _first(by_type.totals(days))
    by_source = totals(figures.tokens, days, "app", "type")
    total = by_type.total(days)
    rows = []
    for kind in TOKEN_ORDER:
        cc = by_source.get((CLAUDE_CODE, kind))
        apps = [v for (app, k), v in by_source.items() if k == kind and app != CLAUDE_CODE]
        rows.append(
            [
                kind,
                count(period_totals.get(kind)),
                percent(period_totals.get(kind), total),
                count(cc),
                count(sum(apps, Decimal(0))) if apps else NO_DATA,
            ]
        )
    return Section(
        "tokens",
        "Tokens over time",
        ["Tokens per UTC day by type; the apps' GenAI metric has input and output only."],
        [Chart(png, "Tokens per day by type")],
        [Table(["Type", "Tokens", "Share", "Claude Code", "LLM apps"], rows)],
    )


# --- top users ---------------------------------------------------------------------------------


def top_users(figures: Figures, options: Options) -> Section:
    days = figures.days
    cost = {k: v for k, v in totals(figures.cost, days, "user").items() if k[0]}
    sessions = _first(figures.sessions.totals(days))
    tokens = _first(totals(figures.tokens, days, "user"))
    cc_total = _first(totals(figures.cost, days, "app")).get(CLAUDE_CODE)
    ranked = _sorted_by_amount(cost)[: options.top]
    rows = [
        [
            str(rank),
            user,
            usd(amount),
            percent(amount, cc_total),
            count(sessions.get(user)),
            usd(ratio(amount, sessions.get(user))),
            count(tokens.get(user)),
        ]
        for rank, ((user,), amount) in enumerate(ranked, start=1)
    ]
    section = Section(
        "top-users",
        f"Top {options.top} users",
        [
            "Claude Code users by cost (`user.email`); share is of Claude Code's cost. The apps' "
            "metrics carry no user, so their cost is not attributed to anyone here."
        ],
    )
    if ranked:
        section.charts.append(
            Chart(
                charts.horizontal_bars([k[0] for k, _ in ranked], [v for _, v in ranked], "USD"),
                "Cost by user",
            )
        )
    headers = ["#", "User", "Cost", "Share", "Sessions", "Per session", "Tokens"]
    section.tables.append(
        Table(headers, rows or [["", NO_DATA, "", "", "", "", ""]], text_columns=2)
    )
    return section


# --- efficiency --------------------------------------------------------------------------------


def efficiency(figures: Figures, options: Options) -> Section:
    days, loki = figures.days, figures.data.loki
    cost = _first(totals(figures.cost, days, "app"))
    priced = _first(totals(figures.priced_calls, days, "app"))
    tokens = _first(totals(figures.tokens, days, "app"))
    rows = []
    for app in sorted(cost, key=lambda a: -cost[a]):
        no_requests = app == CLAUDE_CODE and not loki
        rows.append(
            [
                app,
                usd(cost[app]),
                NEEDS_LOKI if no_requests else count(priced.get(app)),
                NEEDS_LOKI if no_requests else usd_fine(ratio(cost[app], priced.get(app))),
                count(tokens.get(app)),
                usd_fine(per_thousand(cost[app], tokens.get(app))),
            ]
        )
    all_cost, all_tokens = figures.cost.total(days), figures.tokens.total(days)
    requests = RequestScope.of(figures)
    rows.append(
        [
            "all",
            usd(all_cost),
            count(requests.priced.total(days)) + requests.scope,
            usd_fine(requests.cost_per_request(days)),
            count(all_tokens),
            usd_fine(per_thousand(all_cost, all_tokens)),
        ]
    )
    sessions = figures.sessions.total(days)
    paragraphs = [
        "Cost per request divides cost by the requests that reported a cost (the apps' "
        "`gen_ai.usage.cost` count; Claude Code's `api_request` events). Per 1K tokens counts "
        "every token type, cache reads included.",
        f"Claude Code: {count(sessions)} sessions, "
        f"{usd(ratio(cost.get(CLAUDE_CODE), sessions))} per session.",
    ]
    headers = ["App", "Cost", "Requests", "Per request", "Tokens", "Per 1K tokens"]
    return Section(
        "efficiency",
        "Cost per request and per 1K tokens",
        paragraphs,
        tables=[Table(headers, rows)],
    )


# --- cache savings -----------------------------------------------------------------------------


def cache(figures: Figures, options: Options) -> Section:
    pricing = options.pricing
    savings = cache_savings(figures, options.pricing)
    cost = _first(
        totals(figures.cost.only("app", lambda a: a == CLAUDE_CODE), figures.days, "model")
    )
    rows = []
    for saving in savings:
        uncached = None if saving.net is None else cost.get(saving.model, Decimal(0)) + saving.net
        rows.append(
            [
                saving.model,
                count(saving.read_tokens),
                count(saving.write_tokens),
                usd(saving.saved_on_reads) if saving.saved_on_reads is not None else "no price",
                usd(saving.extra_for_writes) if saving.extra_for_writes is not None else "no price",
                usd(saving.net) if saving.net is not None else "no price",
                percent(saving.net, uncached),
            ]
        )
    nets = [s.net for s in savings if s.net is not None]
    headers = ["Model", "Cache reads", "Cache writes", "Saved on reads", "Extra for writes"]
    return Section(
        "cache-savings",
        "Cache savings",
        [
            "From Claude Code's token metrics: cache reads would have cost the input price, so "
            "each saved (input - cache read price); cache writes cost (cache write - input "
            "price) more than plain input. Net = saved - extra; the last column is net over "
            "what the same tokens would have cost without caching.",
            f"Prices: configs/pricing.yaml (as of {pricing.as_of.isoformat()}, USD per million "
            f"tokens, via vocabulary/pricing.py); 5-minute cache writes assumed. Net saving "
            f"over the period: {usd(sum(nets, Decimal(0))) if nets else NO_DATA}.",
        ],
        tables=[
            Table(
                [*headers, "Net saving", "Of uncached cost"],
                rows or [[NO_DATA, "", "", "", "", "", ""]],
            )
        ],
    )


# --- errors and latency ------------------------------------------------------------------------


def errors_and_latency(figures: Figures, options: Options) -> Section:
    data, trend, days = figures.data, figures.trend_days, figures.days
    started = set(trend)
    app_calls = figures.calls.only("app", _is_llm_app)
    app_failed = failed(app_calls)
    http_5xx = figures.http.where("http_response_status_code", lambda s: s.startswith("5"))
    p95 = data.daily_quantiles.get(queries.LLM_P95_DAILY.name, {})
    failed_by_day = {day: app_failed.day_total(day) or Decimal(0) for day in app_calls.by_day}
    no_data = [day for day in trend if app_calls.day_total(day) is None]
    png = charts.bars_with_line(
        trend, failed_by_day, p95, "failed LLM calls", "P95 seconds", no_data
    )
    daily_rows = []
    for day in trend:
        calls = app_calls.day_total(day)
        failures = app_failed.day_total(day) if calls is not None else None
        daily_rows.append(
            [
                day.isoformat(),
                _day_cell(day, calls, started, count),
                _day_cell(day, failures, started, count),
                percent(failures, calls) if calls is not None else NO_DATA,
                _day_cell(day, figures.http.day_total(day), started, count),
                _day_cell(day, http_5xx.day_total(day), started, count),
                _seconds(p95.get(day)),
            ]
        )
    section = Section(
        "errors-latency",
        "Errors and P95 latency",
        [
            "LLM calls of the instrumented apps (`gen_ai.client.operation.duration`): failed "
            "calls carry `error.type`; P95 is over every call, failed ones included, from the "
            "histogram's buckets (interpolated within a bucket). HTTP 5xx are the apps' "
            "server errors."
        ],
        [Chart(png, "Failed LLM calls and P95 latency per day")],
        [
            Table(
                ["Day", "LLM calls", "Failed", "Error rate", "HTTP requests", "HTTP 5xx", "P95"],
                daily_rows,
            ),
            _latency_table(figures, days),
            _claude_code_errors_table(figures, days),
        ],
    )
    return section


def _latency_table(figures: Figures, days: list[date]) -> Table:
    calls = totals(figures.calls, days, "app", "operation", "model")
    failures = totals(failed(figures.calls), days, "app", "operation", "model")
    by_type = totals(failed(figures.calls), days, "app", "operation", "model", "error")
    p95 = figures.data.period_quantiles.get(queries.LLM_P95_PERIOD.name, {})
    http_p95 = figures.data.period_quantiles.get(queries.HTTP_P95_PERIOD.name, {})
    rows = []
    for key in sorted(k for k in calls if k[0] != CLAUDE_CODE):
        errors = ", ".join(f"{k[3]} {count(v)}" for k, v in sorted(by_type.items()) if k[:3] == key)
        rows.append(
            [
                *key,
                count(calls[key]),
                count(failures.get(key, Decimal(0))),
                percent(failures.get(key, Decimal(0)), calls[key]),
                _seconds(p95.get(key)),
                _seconds(http_p95.get((key[0],))),
                errors or "—",
            ]
        )
    headers = ["App", "Operation", "Model", "Calls", "Failed", "Error rate", "P95 call"]
    return Table(
        [*headers, "P95 HTTP (app)", "Errors"],
        rows or [[NO_DATA] + [""] * 8],
        "Over the whole period, per app, operation and model",
        text_columns=3,
    )


def _claude_code_errors_table(figures: Figures, days: list[date]) -> Table:
    headers = ["Model", "Error", "Count", "Of requests"]
    caption = "Claude Code API errors (`api_error` events in Loki)"
    if not figures.data.loki:
        return Table(headers, [[NEEDS_LOKI, "", "", ""]], caption, text_columns=2)
    calls = figures.calls.only("app", lambda a: a == CLAUDE_CODE)
    all_requests = _first(totals(calls, days, "model"))
    errors = totals(failed(calls), days, "model", "error")
    rows = [
        [model, error, count(amount), percent(amount, all_requests.get(model))]
        for (model, error), amount in _sorted_by_amount(errors)
    ]
    return Table(headers, rows or [["none", "", "", ""]], caption, text_columns=2)


# --- budget ------------------------------------------------------------------------------------


def budget(figures: Figures, options: Options) -> Section:
    period = figures.data.period
    projected = projection(figures, options.budget)
    days = period.days
    daily_budget = options.budget / len(days)
    running = cumulative(figures.cost, figures.days)
    spent_days = {d: v for d, v in running.items() if figures.cost.day_total(d) is not None}
    png = charts.cumulative_against_budget(days, spent_days, options.budget, projected.projected)
    over = [
        day
        for day in figures.days
        if (amount := figures.cost.day_total(day)) is not None and amount > daily_budget
    ]
    remaining = None if projected.spent is None else options.budget - projected.spent
    status = NO_DATA
    if projected.projected is not None:
        status = "over budget" if projected.projected > options.budget else "within budget"
    rows = [
        ["Budget", usd(options.budget)],
        ["Daily budget", usd(daily_budget)],
        ["Spent", usd(projected.spent)],
        ["Elapsed", f"{projected.elapsed_fraction * 100:.1f}% of the period"],
        ["Projected", usd(projected.projected)],
        ["Projected vs budget", f"{percent(projected.projected, options.budget)} ({status})"],
        ["Remaining", usd(remaining)],
        ["Days over the daily budget", ", ".join(d.isoformat() for d in over) or "none"],
    ]
    return Section(
        "budget",
        "Projection against budget",
        [
            f"Budget: {options.budget_source}. The projection scales the spend so far to the "
            "whole period at the same rate (spent ÷ elapsed share); for a finished period it is "
            "the spend."
        ],
        [Chart(png, "Cumulative cost against budget")],
        [Table(["Figure", "Value"], rows)],
    )


# --- day-over-day changes ----------------------------------------------------------------------


def changes(figures: Figures, options: Options) -> Section:
    found = largest_changes(figures, options.top)
    rows = [
        [
            change.what,
            f"{change.before_day:%m-%d} → {change.day:%m-%d}",
            usd(change.before),
            usd(change.after),
            ("+" if change.delta > 0 else "") + usd(change.delta),
            signed_percent(change.relative),
        ]
        for change in found
    ]
    return Section(
        "changes",
        "Largest day-over-day changes",
        [
            "Cost changes from one day to the next, in total and per app, model and user, "
            "largest first (by dollars). Days without data are not compared; a key missing on "
            "one of two days with data counts as $0.00 there."
        ],
        tables=[
            Table(
                ["What", "Days", "Before", "After", "Change", "Relative"],
                rows or [["no comparable days", "", "", "", "", ""]],
                text_columns=2,
            )
        ],
    )


# --- the queries -------------------------------------------------------------------------------


def query_list(figures: Figures, options: Options) -> Section:
    used = [q for q in queries.ALL_QUERIES if q.source == "prometheus" or figures.data.loki]
    rows = [[q.name, q.source, f"`{q.expr('1d')}`", q.meaning] for q in used]
    return Section(
        "queries",
        "Queries",
        [
            "Each daily figure is the query evaluated at the day's end (00:00 UTC of the next "
            "day) over `[1d]`, so it covers that day only; a day still running is evaluated now "
            "over the time since midnight. Latency quantiles over the period use one window "
            "spanning it (quantiles do not add up over days)."
        ],
        tables=[Table(["Figure", "Source", "Query", "Meaning"], rows, text_columns=4)],
    )


SECTIONS: tuple[Callable[[Figures, Options], Section], ...] = (
    summary,
    daily_cost,
    budget,
    by_model,
    by_team,
    by_operation,
    tokens_over_time,
    top_users,
    efficiency,
    cache,
    errors_and_latency,
    changes,
    query_list,
)


def document(figures: Figures, options: Options) -> Document:
    period = figures.data.period
    if period.kind == "month":
        title = f"LLM cost report, {period.first:%B %Y}"
    else:
        title = f"LLM cost digest, {period.first:%A %d %B %Y}"
    subtitle = f"Generated {period.as_of:%Y-%m-%d %H:%M} UTC"
    return Document(title, subtitle, [build(figures, options) for build in SECTIONS])
