"""Claude Code: seed 001's 26 panels in 7 rows, every query reading `${ds_prometheus}` or
`${ds_loki}`, with the seed's query mistakes fixed:

- names as they arrive through OTLP (`claude_code_cost_usage_USD_total`,
  `..._active_time_seconds_total`, `..._code_edit_tool_decision_total`), not the
  Prometheus-exporter ones;
- the time picker governs every panel (no fixed `[24h]`) unless the title names its window;
- counters grow per series, then get summed (observed_increase(): a series lives one session, so
  increase()'s extrapolation past its end would overcount), read from the recorded 5-minute
  windows (vocabulary/recording.py), rates as each step's recorded windows over the step;
- events are filtered by `event_name="tool_result"` (structured metadata), not
  `event_name="claude_code.tool_result"` with `| json` (the line is not JSON);
- hourly bars use a 1h interval instead of a sliding `rate(...[1h])`; the anomaly ratio divides
  by `rate(...[1d])`, which is what `avg_over_time(rate(...[5m])[24h:5m])` computes, for less;
- the cache hit rate counts cache writes as prompt tokens that missed the cache.

Cost is Claude Code's own cost metric; only the per-token-type costs are derived, from
configs/pricing.yaml, with the prices and assumptions on the panel. Days are UTC.
"""

from __future__ import annotations

from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as dashboard_models

from dashboards.panels import (
    LOKI,
    OWN_INTERVAL,
    PICKER_RANGE,
    PROMETHEUS,
    Section,
    Window,
    bar_chart_panel,
    build_dashboard,
    gauge_panel,
    logql,
    pie_panel,
    promql,
    stat_panel,
    timeseries_panel,
    top_bars,
)
from dashboards.spec import COST_FOLDER, DashboardSpec
from vocabulary import measures, names
from vocabulary.pricing import (
    CLAUDE_CODE_TOKENS,
    PriceKind,
    PricingTable,
    price_list,
    recorded_token_cost,
)

UID: Final = "claude-code"
TIMEZONE: Final = "utc"

COST: Final = names.CLAUDE_CODE_COST
TOKENS: Final = names.CLAUDE_CODE_TOKENS
LINES: Final = names.CLAUDE_CODE_LINES
EDIT_DECISIONS: Final = names.CLAUDE_CODE_EDIT_DECISIONS
ACTIVE_TIME: Final = names.CLAUDE_CODE_ACTIVE_TIME
EVENTS: Final = names.CLAUDE_CODE_EVENTS

RANGE: Final = PICKER_RANGE
SEVEN_DAYS: Final = "[7d]"
# Rate panels read the recorded 5-minute windows: never a finer step.
RATE_STEP: Final = measures.MIN_INTERVAL


def events(name: str) -> str:
    return f'{EVENTS} | event_name="{name}"'


def counted(
    metric: str, window: Window | str, by: list[str] | None = None, matchers: str = ""
) -> str:
    return measures.increase(metric, window, by or [], matchers)


# Queries (the number tests import these) ------------------------------------------------------

BURN_RATE: Final = f"3600 * {measures.per_second(COST, [names.MODEL])}"
COST_TOTAL: Final = counted(COST, RANGE)
COST_DAILY_AVERAGE_7D: Final = f"{counted(COST, SEVEN_DAYS)} / 7"
# Priced when recorded (each 5-minute window at its day's price): one sum over the range.
CACHE_WRITE_COST: Final = recorded_token_cost(
    CLAUDE_CODE_TOKENS, RANGE, token_types=["cacheCreation"]
)
INPUT_COST: Final = recorded_token_cost(CLAUDE_CODE_TOKENS, RANGE, token_types=["input"])
ACCEPTED: Final = '{decision="accept"}'
ACCEPTANCE_RATE: Final = (
    f"100 * {counted(EDIT_DECISIONS, RANGE, matchers=ACCEPTED)} / {counted(EDIT_DECISIONS, RANGE)}"
)
FORECAST_MONTH: Final = f"{COST_TOTAL} / $__range_s * 86400 * days_in_month()"
# Sessions with any sample in the range: a resumed session (a new process, same session.id)
# is one session.
SESSIONS_ACTIVE: Final = measures.sessions_active(RANGE)
CLI_STARTS: Final = counted(names.CLAUDE_CODE_SESSIONS, RANGE)
TOKENS_TOTAL: Final = counted(TOKENS, RANGE)
COST_PER_SESSION: Final = f"{COST_TOTAL} / {SESSIONS_ACTIVE}"
TOKENS_PER_SESSION: Final = f"{TOKENS_TOTAL} / {SESSIONS_ACTIVE}"
ACTIVE_TIME_PER_SESSION: Final = f"{counted(ACTIVE_TIME, RANGE)} / {SESSIONS_ACTIVE}"
COST_PER_1K_TOKENS: Final = f"1000 * {COST_TOTAL} / {TOKENS_TOTAL}"
ACTIVE_TIME_BY_TYPE: Final = counted(ACTIVE_TIME, RANGE, [names.TOKEN_TYPE])
TOKENS_BY_MODEL: Final = counted(TOKENS, RANGE, [names.MODEL])
LINES_BY_TYPE: Final = counted(LINES, RANGE, [names.TOKEN_TYPE])
CACHE_READ: Final = '{type="cacheRead"}'
PROMPT: Final = f'{{type=~"{measures.CLAUDE_CODE_PROMPT_TYPES}"}}'
CACHE_HIT_RATE: Final = (
    f"100 * {counted(TOKENS, RANGE, matchers=CACHE_READ)} / "
    f"{counted(TOKENS, RANGE, matchers=PROMPT)}"
)
TOKENS_DAILY_AVERAGE_7D: Final = f"{counted(TOKENS, SEVEN_DAYS)} / 7"
TOKENS_PER_DOLLAR_BY_MODEL: Final = (
    f"{counted(TOKENS, RANGE, [names.MODEL])} / {counted(COST, RANGE, [names.MODEL])}"
)
COST_PER_HOUR: Final = counted(COST, OWN_INTERVAL)
TOKENS_LAST_7D: Final = counted(TOKENS, SEVEN_DAYS)
# NaN, shown as "no data", while Prometheus holds no week before the last one.
TOKENS_PREVIOUS_7D: Final = f"{counted(TOKENS, '[7d] offset 7d')} or vector(NaN)"
COST_ANOMALY: Final = f"100 * {measures.per_second(COST)} / ({counted(COST, '[1d]')} / 86400)"
LINES_PER_MINUTE: Final = f"60 * {measures.per_second(LINES, [names.TOKEN_TYPE])}"
TOKENS_PER_MINUTE: Final = f"60 * {measures.per_second(TOKENS, [names.TOKEN_TYPE])}"

TOOL_USES: Final = f"sum by (tool_name) (count_over_time({events('tool_result')} [$__range]))"
PROMPTS_PER_HOUR: Final = f"sum(count_over_time({events('user_prompt')} [$__interval]))"
DECISION_SOURCES: Final = f"sum by (source) (count_over_time({events('tool_decision')} [$__range]))"
# Prompt length in characters: (legend, LogQL label filter) per bar.
PROMPT_LENGTH_BUCKETS: Final = (
    ("1-50", "prompt_length <= 50"),
    ("51-200", "prompt_length > 50 and prompt_length <= 200"),
    ("201-1000", "prompt_length > 200 and prompt_length <= 1000"),
    ("1001-5000", "prompt_length > 1000 and prompt_length <= 5000"),
    ("over 5000", "prompt_length > 5000"),
)


def prompts_with_length(condition: str) -> str:
    return f"sum(count_over_time({events('user_prompt')} | {condition} [$__range]))"


# Panels ---------------------------------------------------------------------------------------

PICKER: Final = "over the time picker's range"
COUNTED: Final = "Claude Code's metrics, counted per session series and summed"
ASSUMPTIONS: Final = (
    "Assumes every cache write is a 5-minute write (1.25 x input; a 1-hour write costs 2 x "
    "input and Claude Code's metrics do not tell them apart), standard-context rates (Sonnet's "
    "over-200K-token rates not applied) and no batch discount; models missing from the table "
    "add nothing."
)


def _seven_day_average(expr: str) -> Any:
    return promql(expr, "Daily average, last 7 days", instant=True)


def _cost_overview(table: PricingTable) -> Section:
    return Section(
        "Cost Overview",
        [
            timeseries_panel(
                "Real-Time Cost Burn Rate (USD per hour)",
                "Spend rate by model, in USD per hour: the recorded 5-minute windows of each step, "
                "summed. From claude_code.cost.usage.",
                "currencyUSD",
                promql(BURN_RATE, "{{model}}"),
                interval=RATE_STEP,
                width=8,
            ),
            stat_panel(
                "Total Cost Today",
                "USD spent since midnight UTC (relative time: today so far), beside the average "
                f"daily spend of the last 7 x 24 h for comparison. {COUNTED} "
                "(claude_code.cost.usage).",
                "currencyUSD",
                promql(COST_TOTAL, "Today", instant=True),
                _seven_day_average(COST_DAILY_AVERAGE_7D),
                width=4,
                decimals=2,
            ).time_from("now/d"),
            stat_panel(
                "Cache Write Cost",
                f"Derived: cache-creation tokens x each model's cache write price, {PICKER}. "
                f"{price_list([PriceKind.CACHE_WRITE], ['anthropic'], table)} "
                f"{ASSUMPTIONS}",
                "currencyUSD",
                promql(CACHE_WRITE_COST, "Cache writes", instant=True),
                width=4,
                decimals=2,
            ),
            stat_panel(
                "Regular Input Cost",
                f"Derived: uncached input tokens x each model's input price, {PICKER}. "
                f"{price_list([PriceKind.INPUT], ['anthropic'], table)} {ASSUMPTIONS}",
                "currencyUSD",
                promql(INPUT_COST, "Input", instant=True),
                width=4,
                decimals=2,
            ),
            stat_panel(
                "Code Edit Acceptance Rate %",
                "Share of Edit/Write/NotebookEdit permission decisions that were accepts, "
                f"{PICKER} (claude_code.code_edit_tool.decision).",
                "percent",
                promql(ACCEPTANCE_RATE, "Accepted", instant=True),
                width=4,
                decimals=1,
            ),
        ],
    )


def _cost_analytics() -> Section:
    return Section(
        "Cost Analytics",
        [
            stat_panel(
                "Cost Forecast (this month)",
                "Projected spend for the current month: the average daily spend over the "
                "time picker's range x the number of days in this month (days_in_month(), UTC). "
                "A range with idle days (weekends) lowers the projection.",
                "currencyUSD",
                promql(FORECAST_MONTH, "Month", instant=True),
                width=5,
                decimals=2,
            ),
            stat_panel(
                "Average Cost / Session",
                f"USD {PICKER} divided by the sessions active in it (distinct session.id: a "
                "resumed session counts once). A session straddling the range's start counts "
                "whole but brings only its cost inside the range.",
                "currencyUSD",
                promql(COST_PER_SESSION, "Per session", instant=True),
                width=5,
                decimals=2,
            ),
            stat_panel(
                "Cost per 1K Tokens",
                f"USD per thousand tokens of every type (input, output, cache read, cache "
                f"write) {PICKER}. Cache reads are cheap and plentiful, so they pull it down.",
                "currencyUSD",
                promql(COST_PER_1K_TOKENS, "Per 1K tokens", instant=True),
                width=5,
                decimals=4,
            ),
            stat_panel(
                "Active Time",
                f"Active time {PICKER}: user (typing, reading) and cli (Claude working), from "
                "claude_code.active_time.total.",
                "s",
                promql(ACTIVE_TIME_BY_TYPE, "{{type}}", instant=True),
                width=4,
            ),
            pie_panel(
                "Token Distribution by Model",
                f"Tokens of every type per model {PICKER} (claude_code.token.usage).",
                "short",
                promql(TOKENS_BY_MODEL, "{{model}}", instant=True),
                width=5,
                height=5,
            ),
        ],
    )


def _average_session_metrics() -> Any:
    def unit(name: str, value: str) -> tuple[str, list[dashboard_models.DynamicConfigValue]]:
        return name, [dashboard_models.DynamicConfigValue(id_val="unit", value=value)]

    panel = top_bars(
        "Average Session Metrics",
        f"Per session active {PICKER} (distinct session.id): cost in USD, tokens of every type, "
        "and active time (user + cli; Claude Code reports no wall-clock session length).",
        "currencyUSD",
        promql(COST_PER_SESSION, "Cost per session", instant=True),
        promql(TOKENS_PER_SESSION, "Tokens per session", instant=True),
        promql(ACTIVE_TIME_PER_SESSION, "Active time per session", instant=True),
        width=8,
        height=6,
    )
    for name, properties in (
        unit("Tokens per session", "short"),
        unit("Active time per session", "s"),
    ):
        panel = panel.override_by_name(name, properties)
    return panel.field_min_max(True)


def _session_and_code() -> Section:
    return Section(
        "Session & Code Metrics",
        [
            stat_panel(
                "Active Sessions",
                f"Sessions with activity {PICKER}: distinct session.id (a resumed session is "
                "one), beside CLI runs started (claude_code.session.count, which counts each "
                "resume again).",
                "short",
                promql(SESSIONS_ACTIVE, "Sessions", instant=True),
                promql(CLI_STARTS, "CLI runs started", instant=True),
                width=8,
                height=6,
                decimals=0,
            ),
            _average_session_metrics(),
            top_bars(
                "Lines of Code Modified",
                f"Lines added and removed by accepted edits {PICKER} "
                "(claude_code.lines_of_code.count).",
                "short",
                promql(LINES_BY_TYPE, "{{type}}", instant=True),
                width=8,
                height=6,
            ),
        ],
    )


def _token_analytics() -> Section:
    return Section(
        "Token Analytics",
        [
            gauge_panel(
                "Cache Hit Rate %",
                "Share of prompt tokens read from the prompt cache "
                f"{PICKER}: cacheRead / (input + cacheRead + cacheCreation). Cache writes are "
                "prompt tokens that missed the cache, so they count in the denominator.",
                "percent",
                promql(CACHE_HIT_RATE, "Cache hits", instant=True),
                width=8,
            ),
            stat_panel(
                "Total Tokens Today",
                "Tokens of every type since midnight UTC (relative time: today so far), beside "
                f"the average daily tokens of the last 7 x 24 h. {COUNTED} "
                "(claude_code.token.usage).",
                "short",
                promql(TOKENS_TOTAL, "Today", instant=True),
                _seven_day_average(TOKENS_DAILY_AVERAGE_7D),
                width=8,
            ).time_from("now/d"),
            top_bars(
                "Model Token Efficiency (tokens/$)",
                f"Tokens of every type per USD, by model, {PICKER}.",
                "short",
                promql(TOKENS_PER_DOLLAR_BY_MODEL, "{{model}}", instant=True),
                width=8,
                height=5,
            ),
        ],
    )


def _tool_and_activity() -> Section:
    no_data = dashboard_models.SpecialValueMap(
        options=dashboard_models.DashboardSpecialValueMapOptions(
            match=dashboard_models.SpecialValueMatch.NA_N,
            result=dashboard_models.ValueMappingResult(text="no data yet"),
        )
    )
    return Section(
        "Tool & Activity",
        [
            bar_chart_panel(
                "Tool Usage Breakdown (bar)",
                f"Tool calls that ran, by tool, {PICKER}: tool_result events in Loki "
                '(event_name="tool_result").',
                "short",
                logql(TOOL_USES, "{{tool_name}}", instant=True),
                kind=LOKI,
                width=8,
            ),
            timeseries_panel(
                "Peak Cost Hours",
                "USD spent in each hour (a 1h interval: each bar is its own hour, UTC), so the "
                f"busiest hours stand out. {COUNTED}.",
                "currencyUSD",
                promql(COST_PER_HOUR, "USD"),
                interval="1h",
                bars=True,
                width=8,
            ),
            stat_panel(
                "Weekly Total Token Usage (last 7 days vs the 7 before)",
                "Tokens of every type in the last 7 x 24 h, and in the 7 x 24 h before them "
                "(week over week); the previous week reads 'no data yet' until Prometheus "
                "holds two weeks.",
                "short",
                promql(TOKENS_LAST_7D, "Last 7 days", instant=True),
                promql(TOKENS_PREVIOUS_7D, "Previous 7 days", instant=True),
                width=8,
                height=8,
            )
            .time_from("7d")
            .mappings([no_data]),
        ],
    )


def _anomaly_and_patterns() -> Section:
    return Section(
        "Anomaly & Patterns",
        [
            timeseries_panel(
                "Cost Anomaly Detection (vs trailing 24h average)",
                "Spend rate over each step (recorded 5-minute windows) as a percentage of the "
                "trailing 24 h average rate (100 % = a usual pace; night-time 0 % and "
                "working-hours peaks are normal, a sustained spike is not).",
                "percent",
                promql(COST_ANOMALY, "% of 24h average"),
                interval=RATE_STEP,
                width=8,
            ),
            timeseries_panel(
                "Prompts Per Hour",
                "User prompts (user_prompt events in Loki) counted per hour: each point counts "
                "the hour that ends at it.",
                "short",
                logql(PROMPTS_PER_HOUR, "prompts"),
                kind=LOKI,
                interval="1h",
                bars=True,
                width=8,
            ),
            pie_panel(
                "Tool Decision Sources",
                f"Where tool permission decisions came from {PICKER} (tool_decision events in "
                "Loki): config, user_temporary, user_permanent, user_reject.",
                "short",
                logql(DECISION_SOURCES, "{{source}}", instant=True),
                kind=LOKI,
            ),
        ],
    )


def _velocity_and_distribution() -> Section:
    return Section(
        "Velocity & Distribution",
        [
            timeseries_panel(
                "Code Modification Velocity (lines/min)",
                "Lines added and removed per minute: the recorded 5-minute windows of each step, "
                "summed, x 60 (claude_code.lines_of_code.count).",
                "short",
                promql(LINES_PER_MINUTE, "{{type}}"),
                interval=RATE_STEP,
                width=6,
            ),
            timeseries_panel(
                "Token Usage Rate (tokens/min)",
                "Tokens per minute by type (the recorded 5-minute windows of each step, summed, "
                "x 60); the legend table gives each type's mean and max.",
                "short",
                promql(TOKENS_PER_MINUTE, "{{type}}"),
                interval=RATE_STEP,
                width=6,
            ),
            bar_chart_panel(
                "Prompt Length Distribution",
                f"User prompts by length in characters {PICKER} (user_prompt events' "
                "prompt_length in Loki).",
                "short",
                *(
                    logql(prompts_with_length(condition), legend, instant=True)
                    for legend, condition in PROMPT_LENGTH_BUCKETS
                ),
                kind=LOKI,
                width=6,
            ),
            pie_panel(
                "Tool Usage Breakdown (pie)",
                f"Tool calls that ran, by tool, {PICKER}: the data of 'Tool Usage Breakdown "
                "(bar)' as shares.",
                "short",
                logql(TOOL_USES, "{{tool_name}}", instant=True),
                kind=LOKI,
                width=6,
            ),
        ],
    )


def build(table: PricingTable) -> dashboard.Dashboard:
    board = build_dashboard(
        UID,
        "Claude Code",
        "Claude Code's cost, tokens, sessions, code and tools from its OpenTelemetry metrics "
        "(Prometheus) and events (Loki). The time picker governs every panel except those whose "
        "title names their window. Days are UTC.",
        [
            _cost_overview(table),
            _cost_analytics(),
            _session_and_code(),
            _token_analytics(),
            _tool_and_activity(),
            _anomaly_and_patterns(),
            _velocity_and_distribution(),
        ],
        kinds=(PROMETHEUS, LOKI),
        tags=["claude-code", "cost"],
    )
    return board.timezone(TIMEZONE)


SPEC = DashboardSpec(UID, COST_FOLDER, build)
