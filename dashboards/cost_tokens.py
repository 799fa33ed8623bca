"""LLM Cost & Tokens: what the team's LLM use costs, by day, source, model and user.

Sources, never double counted: Claude Code's own cost metric, and each instrumented LLM app's
cost (its `gen_ai.usage.cost` where it emits one, else its tokens priced with
configs/pricing.yaml). Claude Code and the apps are disjoint, so totals add them; the JSONL cost
logs (seed 000) describe calls the apps' metrics already count, so they stand beside the metric
numbers as a cross-check and are never added. Days and months are UTC, as the providers bill.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as dashboard_models

from dashboards.panels import (
    FULL_WIDTH,
    LOKI,
    OWN_INTERVAL,
    PICKER_RANGE,
    PROMETHEUS,
    Section,
    Window,
    build_dashboard,
    daily_bars,
    log_table_panel,
    logql,
    promql,
    promql_table,
    stat_panel,
    table_panel,
    timeseries_panel,
    top_bars,
)
from dashboards.spec import COST_FOLDER, DashboardSpec
from vocabulary import measures, names
from vocabulary.pricing import PriceKind, PricingTable, price_list

UID: Final = "llm-cost-tokens"
TIMEZONE: Final = "utc"

# The picker's range, and each bar's own interval (a 1d bar at midnight D is day D).
RANGE: Final = PICKER_RANGE
DAILY: Final = OWN_INTERVAL

API_REQUESTS: Final = f'{names.CLAUDE_CODE_EVENTS} | event_name="api_request"'
JSONL_RECORDS: Final = f'{names.JSONL_STREAM} | json | __error__=""'
MIN_REQUEST_COST: Final = "min_request_cost"
SOURCE: Final = [names.SERVICE]
OPERATION: Final = [names.SERVICE, names.OPERATION]


# Queries (the number tests import these) ------------------------------------------------------


def cost_by_source(window: Window | str) -> str:
    """USD by service_name: Claude Code (service_name="claude-code") and each app."""
    return measures.spend(window, SOURCE)


def total_cost(window: Window | str) -> str:
    return measures.spend(window)


def cost_by_model(window: Window | str) -> str:
    """USD by model: Claude Code's `model` and the apps' response model, merged."""
    return measures.spend(window, [names.MODEL])


TOTAL_COST: Final = total_cost(RANGE)
DAILY_COST_BY_SOURCE: Final = cost_by_source(DAILY)
DAILY_TOKENS_BY_KIND: Final = measures.tokens_by_kind(DAILY)
DAILY_COST_BY_MODEL: Final = cost_by_model(DAILY)
DAILY_TOTAL_COST: Final = total_cost(DAILY)
COST_BY_MODEL: Final = cost_by_model(RANGE)
TOKENS_BY_MODEL_TYPE: Final = measures.tokens_by_model_type(RANGE)
# The month so far is the panel's range (relative time now/M): run rate x days in the month.
PROJECTED_MONTH: Final = f"{TOTAL_COST} / $__range_s * 86400 * days_in_month()"
TOP_USERS: Final = f"topk(10, {measures.increase(names.CLAUDE_CODE_COST, RANGE, [names.USER])})"
COST_PER_1K_TOKENS_BY_SOURCE: Final = (
    f"1000 * {cost_by_source(RANGE)} / {measures.tokens_by_source(RANGE)}"
)
COST_PER_CALL_BY_OPERATION: Final = measures.cost_per_call(RANGE, OPERATION)
APP_CALLS_PER_DOLLAR: Final = (
    f"{measures.priced_calls(RANGE, SOURCE)} / {measures.spend(RANGE, SOURCE, measures.APPS)}"
)
HOURLY_COST_BY_SOURCE: Final = cost_by_source(OWN_INTERVAL)
CLAUDE_CODE_SESSIONS_ACTIVE: Final = measures.sessions_active(RANGE)
CLAUDE_CODE_COST_PER_SESSION: Final = (
    f"{measures.increase(names.CLAUDE_CODE_COST, RANGE)} / {CLAUDE_CODE_SESSIONS_ACTIVE}"
)
CLAUDE_CODE_COST_BY_MODEL: Final = measures.increase(names.CLAUDE_CODE_COST, RANGE, [names.MODEL])
APP_COST_BY_MODEL: Final = measures.spend(RANGE, [names.MODEL], measures.APPS)
TEAM: Final = [names.TEAM, names.COST_CENTER]
COST_BY_TEAM: Final = measures.spend(RANGE, TEAM)
DAILY_COST_BY_TEAM: Final = measures.spend(DAILY, [names.TEAM])

EVENT_COST: Final = f'sum_over_time({API_REQUESTS} | unwrap cost_usd | __error__="" [$__range])'
EVENT_REQUESTS: Final = f"count_over_time({API_REQUESTS} [$__range])"
CLAUDE_CODE_COST_PER_REQUEST: Final = f"sum({EVENT_COST}) / sum({EVENT_REQUESTS})"
CLAUDE_CODE_REQUESTS_PER_DOLLAR: Final = f"sum({EVENT_REQUESTS}) / sum({EVENT_COST})"
CLAUDE_CODE_EVENT_COST_BY_MODEL: Final = f"sum by (model) ({EVENT_COST})"
EXPENSIVE_REQUESTS: Final = f"{API_REQUESTS} | cost_usd >= ${MIN_REQUEST_COST}"


def jsonl_sum(field: str, by: Sequence[str] = ()) -> str:
    records = f'{JSONL_RECORDS} | unwrap {field} | __error__=""'
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} (sum_over_time({records} [$__range]))"


JSONL_COST_BY_MODEL: Final = jsonl_sum("cost_usd", ["model"])
JSONL_TOP_USERS: Final = f"topk(10, {jsonl_sum('cost_usd', ['user'])})"


# Panels ---------------------------------------------------------------------------------------

SOURCES_NOTE: Final = (
    "Claude Code's cost metric (claude_code.cost.usage) plus each LLM app's cost: its own "
    "gen_ai.usage.cost (OpenLIT, LiteLLM) where it emits one, otherwise its tokens priced from "
    "configs/pricing.yaml. JSONL cost logs are not added (they describe calls "
    "the apps' metrics already count)."
)


def unpriced_tokens(table: PricingTable) -> str:
    """Tokens of the models `table` does not price, over the picker's range."""
    return measures.unpriced_tokens(RANGE, table)


def app_prices_note(table: PricingTable) -> str:
    return (
        "Apps without gen_ai.usage.cost are priced per service from their tokens at the price "
        "of each 5-minute window's day: input, output and, where the app reports them, cache "
        "reads and writes at the table's cache prices (an app on the 2025 conventions that "
        "reports no cache tokens has all its input priced as input). "
        + price_list([PriceKind.INPUT, PriceKind.OUTPUT], None, table)
    )


def _spend() -> Section:
    month = "Relative time: this month so far (UTC)."
    return Section(
        "Spend",
        [
            stat_panel(
                "Total LLM cost",
                f"USD spent over the time picker's range. {SOURCES_NOTE}",
                "currencyUSD",
                promql(TOTAL_COST, "Total", instant=True),
                decimals=2,
            ),
            stat_panel(
                "Spend today",
                f"USD spent since midnight UTC (relative time: today so far). {SOURCES_NOTE}",
                "currencyUSD",
                promql(TOTAL_COST, "Today", instant=True),
                decimals=2,
            ).time_from("now/d"),
            stat_panel(
                "Spend this month",
                f"Month-to-date USD, from the first of the month (UTC) to now. {month} "
                f"{SOURCES_NOTE}",
                "currencyUSD",
                promql(TOTAL_COST, "Month to date", instant=True),
                decimals=2,
            ).time_from("now/M"),
            stat_panel(
                "Projected spend this month",
                "Month-to-date spend divided by the time elapsed this month, times the month's "
                "length (a straight-line run rate: days_in_month() x the average daily spend so "
                f"far; noisy in the first days of a month and blind to weekends ahead). {month}",
                "currencyUSD",
                promql(PROJECTED_MONTH, "Projected", instant=True),
                decimals=2,
            ).time_from("now/M"),
        ],
    )


def _cumulative_month() -> Any:
    running_total = dashboard_models.DataTransformerConfig(
        id_val="calculateField",
        options={
            "mode": "cumulativeFunctions",
            "cumulative": {"reducer": "sum"},
            "alias": "Spend so far",
            "replaceFields": True,
        },
    )
    return (
        timeseries_panel(
            "Month-to-date cumulative spend",
            "Running total of each UTC day's spend since the first of the month: the bar at day D "
            f"is the spend from the 1st through D (today: through now). {SOURCES_NOTE}",
            "currencyUSD",
            promql(DAILY_TOTAL_COST, "Spend"),
            interval="1d",
            bars=True,
        )
        .time_from("now/M")
        .with_transformation(running_total)
    )


def _over_time() -> Section:
    return Section(
        "Over time",
        [
            daily_bars(
                "Daily cost by source",
                "USD per UTC day (each bar is its own day, not a sliding 24 h), stacked by "
                f"service: claude-code and each app. {SOURCES_NOTE}",
                "currencyUSD",
                promql(DAILY_COST_BY_SOURCE, "{{service_name}}"),
            ),
            daily_bars(
                "Daily prompt vs completion tokens",
                "Tokens per UTC day. Prompt is everything the model read: Claude Code's new "
                "input, cache reads and cache writes, and the apps' input tokens; completion is "
                "output. Claude Code's token metric plus the apps' gen_ai.client.token.usage.",
                "short",
                promql(DAILY_TOKENS_BY_KIND, "{{kind}}"),
            ),
            _cumulative_month(),
            daily_bars(
                "Daily cost by model",
                "USD per UTC day, stacked by model (Claude Code's `model`, the apps' "
                f"gen_ai.response.model). {SOURCES_NOTE}",
                "currencyUSD",
                promql(DAILY_COST_BY_MODEL, "{{model}}"),
            ),
            timeseries_panel(
                "Spend per hour",
                "USD spent in each hour (a 1h interval: each bar is its own UTC hour), stacked "
                f"by service, so bursts and the burn rate stand out. {SOURCES_NOTE}",
                "currencyUSD",
                promql(HOURLY_COST_BY_SOURCE, "{{service_name}}"),
                interval="1h",
                bars=True,
                stacked=True,
                width=FULL_WIDTH,
            ),
        ],
    )


def _by_model_and_user(table: PricingTable) -> Section:
    return Section(
        "By model and user",
        [
            top_bars(
                "Cost by model",
                f"USD per model over the time picker's range. {SOURCES_NOTE} "
                + app_prices_note(table),
                "currencyUSD",
                promql(COST_BY_MODEL, "{{model}}", instant=True),
                width=8,
            ),
            table_panel(
                "Tokens by model and type",
                "Tokens per model and type over the picker's range: Claude Code's input, output, "
                "cacheRead and cacheCreation, and the apps' input and output "
                "(gen_ai.client.token.usage).",
                "short",
                promql_table(TOKENS_BY_MODEL_TYPE),
                width=8,
                sort_by="Value",
                rename={"Value": "Tokens"},
            ),
            top_bars(
                "Top 10 users by cost (Claude Code)",
                "The ten Claude Code users (user.email) who spent the most over the picker's "
                "range, from Claude Code's cost metric. The apps' metrics carry no user: see "
                "'Top 10 app users by cost (JSONL logs)' for app users.",
                "currencyUSD",
                promql(TOP_USERS, "{{user_email}}", instant=True),
                width=8,
            ),
        ],
    )


TEAM_NOTE: Final = (
    "The team and cost centre are the `team` and `cost_center` resource attributes each "
    "laptop or app sets in OTEL_RESOURCE_ATTRIBUTES (the stack's claudeCodeManagedSettingsByTeam "
    "output sets them); spend without them shows under an empty team."
)


def _by_team(table: PricingTable) -> Section:
    return Section(
        "By team, and models without a price",
        [
            table_panel(
                "Spend by team",
                f"USD per team and cost centre over the picker's range. {TEAM_NOTE} {SOURCES_NOTE}",
                "currencyUSD",
                promql_table(COST_BY_TEAM),
                width=8,
                sort_by="Value",
                rename={"Value": "USD"},
            ),
            daily_bars(
                "Daily cost by team",
                f"USD per UTC day, stacked by team. {TEAM_NOTE}",
                "currencyUSD",
                promql(DAILY_COST_BY_TEAM, "{{team}}"),
                width=8,
            ),
            table_panel(
                "Unpriced models",
                "Tokens of models that no `match` in configs/pricing.yaml covers, by source, "
                "over the picker's range. Claude Code and apps that report gen_ai.usage.cost "
                "still count in every spend panel (they report their own cost); an app that "
                "reports only tokens does not: its spend is unknown until the model is priced. "
                "Derived-cost panels leave every model listed here out. Empty: every model seen "
                "is priced.",
                "short",
                promql_table(unpriced_tokens(table)),
                width=8,
                sort_by="Value",
                rename={"Value": "Tokens"},
            ),
        ],
    )


def _unit_economics(table: PricingTable) -> Section:
    return Section(
        "Unit economics",
        [
            stat_panel(
                "Claude Code cost per session",
                "Claude Code USD over the picker's range divided by the sessions active in it "
                "(distinct session.id; a resumed session counts once). A session that straddles "
                "the range's start counts whole but brings only its cost inside the range.",
                "currencyUSD",
                promql(CLAUDE_CODE_COST_PER_SESSION, "Per session", instant=True),
                width=8,
                decimals=2,
            ),
            stat_panel(
                "Claude Code cost per API request",
                "Mean cost_usd of Claude Code's api_request events (Loki) over the picker's "
                "range: the events carry each request's cost, the metrics do not count requests.",
                "currencyUSD",
                logql(CLAUDE_CODE_COST_PER_REQUEST, "Per request", instant=True),
                kind=LOKI,
                width=8,
                decimals=3,
            ),
            stat_panel(
                "Claude Code API requests per dollar",
                "Claude Code api_request events per USD of their cost_usd (Loki) over the "
                "picker's range: the inverse of cost per request.",
                "short",
                logql(CLAUDE_CODE_REQUESTS_PER_DOLLAR, "Requests per $", instant=True),
                kind=LOKI,
                width=8,
                decimals=1,
            ),
            top_bars(
                "Cost per 1K tokens by source",
                "USD per thousand tokens of each source over the picker's range. Claude Code "
                "counts cache reads as tokens, which makes its number low next to apps that do "
                f"not cache. {SOURCES_NOTE}",
                "currencyUSD",
                promql(COST_PER_1K_TOKENS_BY_SOURCE, "{{service_name}}", instant=True),
                width=8,
            ),
            top_bars(
                "Cost per call by operation",
                "Each app operation's USD over the picker's range divided by its successful LLM "
                "calls (gen_ai.client.operation.duration count without error.type: a failed "
                f"call costs nothing and would make calls look cheaper). {app_prices_note(table)}",
                "currencyUSD",
                promql(
                    COST_PER_CALL_BY_OPERATION,
                    "{{service_name}} {{gen_ai_operation_name}}",
                    instant=True,
                ),
                width=8,
            ),
            top_bars(
                "LLM calls per dollar by app",
                "Each app's successful LLM calls (gen_ai.client.operation.duration count "
                "without error.type) per USD it spent over the picker's range. "
                + app_prices_note(table),
                "short",
                promql(APP_CALLS_PER_DOLLAR, "{{service_name}}", instant=True),
                width=8,
            ),
        ],
    )


def _cross_checks() -> Section:
    return Section(
        "Logs and cross-checks",
        [
            log_table_panel(
                "Most expensive Claude Code requests",
                "Claude Code api_request events (Loki) in the picker's range that cost at least "
                f"${MIN_REQUEST_COST} USD (the dashboard variable), most expensive first, top 20. "
                "Loki returns at most the datasource's line limit per query: raise the threshold "
                "if the range holds more requests than that.",
                "none",
                logql(EXPENSIVE_REQUESTS),
                columns=(
                    "cost_usd",
                    "model",
                    "user_email",
                    "session_id",
                    "input_tokens",
                    "output_tokens",
                    "cache_read_tokens",
                    "cache_creation_tokens",
                    "duration_ms",
                ),
                sort_by="cost_usd",
                numeric=(
                    "cost_usd",
                    "input_tokens",
                    "output_tokens",
                    "cache_read_tokens",
                    "cache_creation_tokens",
                    "duration_ms",
                ),
            ),
            top_bars(
                "Claude Code cost by model: api_request events",
                "Sum of cost_usd of Claude Code's api_request events (Loki) per model over the "
                "picker's range: should match the metric-based panel beside it; a gap points at "
                "lost exports or counter trouble on one side.",
                "currencyUSD",
                logql(CLAUDE_CODE_EVENT_COST_BY_MODEL, "{{model}}", instant=True),
                width=6,
                kind=LOKI,
            ),
            top_bars(
                "Claude Code cost by model: metrics",
                "Claude Code's cost metric (claude_code.cost.usage) per model over the picker's "
                "range, the metric side of the cross-check beside it.",
                "currencyUSD",
                promql(CLAUDE_CODE_COST_BY_MODEL, "{{model}}", instant=True),
                width=6,
            ),
            top_bars(
                "App cost by model: JSONL cost logs",
                "Sum of cost_usd of the JSONL cost records (Loki stream "
                'service_name="llm-cost-jsonl") per model over the picker\'s range. Only apps '
                "that write the log appear, so each model's number should match the metric "
                "panel beside it for those apps.",
                "currencyUSD",
                logql(JSONL_COST_BY_MODEL, "{{model}}", instant=True),
                width=6,
                kind=LOKI,
            ),
            top_bars(
                "App cost by model: metrics",
                "The apps' cost per gen_ai.response.model over the picker's range (their "
                "gen_ai.usage.cost, else tokens x list price), the metric side of the JSONL "
                "cross-check.",
                "currencyUSD",
                promql(APP_COST_BY_MODEL, "{{model}}", instant=True),
                width=6,
            ),
            stat_panel(
                "JSONL prompt vs completion tokens",
                "prompt_tokens and completion_tokens summed over the JSONL cost records (Loki) "
                "in the picker's range.",
                "short",
                logql(jsonl_sum("prompt_tokens"), "Prompt", instant=True),
                logql(jsonl_sum("completion_tokens"), "Completion", instant=True),
                kind=LOKI,
                width=12,
            ),
            top_bars(
                "Top 10 app users by cost (JSONL logs)",
                "The ten app users (the JSONL records' `user`) with the highest cost_usd over the "
                "picker's range. Only apps that write the JSONL cost log appear.",
                "currencyUSD",
                logql(JSONL_TOP_USERS, "{{user}}", instant=True),
                kind=LOKI,
            ),
        ],
    )


def _min_request_cost() -> dashboard.TextBoxVariable:
    default = dashboard_models.VariableOption(selected=True, text="0.25", value="0.25")
    return (
        dashboard.TextBoxVariable(MIN_REQUEST_COST)
        .label("Min request cost (USD)")
        .default_value("0.25")
        .current(default)
    )


def build(table: PricingTable) -> dashboard.Dashboard:
    board = build_dashboard(
        UID,
        "LLM Cost & Tokens",
        "What LLM use costs, by day, source, model and user: Claude Code and every "
        "OpenTelemetry-instrumented LLM app, with derived costs from configs/pricing.yaml and "
        "log-based cross-checks. Days and months are UTC.",
        [
            _spend(),
            _over_time(),
            _by_model_and_user(table),
            _by_team(table),
            _unit_economics(table),
            _cross_checks(),
        ],
        kinds=(PROMETHEUS, LOKI),
        tags=["cost", "tokens"],
    )
    return board.timezone(TIMEZONE).with_variable(_min_request_cost())


SPEC = DashboardSpec(UID, COST_FOLDER, build)
