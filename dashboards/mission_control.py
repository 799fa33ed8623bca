"""Mission Control (seed 002): the LLM apps and Claude Code at a glance.

Requests, success, response time and errors are the instrumented LLM apps' (their HTTP server
metrics and the spans Tempo turns into span metrics); cost is every source the LLM Cost & Tokens
dashboard adds up; users, prompts and tools are Claude Code's, the one source that names them.
The top row covers the last hour before the picker's end, as its titles say; every other panel
follows the time picker.
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard

from dashboards.cost_tokens import SOURCES_NOTE
from dashboards.panels import (
    LOKI,
    PROMETHEUS,
    Section,
    build_dashboard,
    logql,
    logs_panel,
    pie_panel,
    promql,
    stat_panel,
    timeseries_panel,
    top_bars,
)
from dashboards.spec import OPERATIONS_FOLDER, DashboardSpec, without_prices
from vocabulary import measures, names

UID: Final = "llm-mission-control"
LAST_HOUR: Final = "[1h]"
RANGE: Final = "[$__range]"
RATE: Final = "[$__rate_interval]"

HTTP_REQUESTS: Final = names.HTTP_REQUESTS
HTTP_DURATION_SUM: Final = names.HTTP_DURATION_SUM
SERVER_ERRORS: Final = '{http_response_status_code=~"5.."}'
SERVER_SPAN_BUCKETS: Final = f'{names.SPAN_LATENCY}_bucket{{span_kind="SPAN_KIND_SERVER"}}'
CLAUDE_CODE_EVENTS: Final = names.CLAUDE_CODE_EVENTS


# Queries (the number tests import these) ------------------------------------------------------


def requests(window: str) -> str:
    return f"sum(increase({HTTP_REQUESTS}{window}))"


def server_errors(window: str) -> str:
    """5xx responses; no 5xx series means none happened (the series appears at the first)."""
    return f"(sum(increase({HTTP_REQUESTS}{SERVER_ERRORS}{window})) or vector(0))"


def success_rate(window: str) -> str:
    return f"1 - {server_errors(window)} / {requests(window)}"


def average_response_time(window: str) -> str:
    return f"sum(increase({HTTP_DURATION_SUM}{window})) / {requests(window)}"


def active_users(window: str) -> str:
    """Claude Code users whose cost grew in the window, i.e. who made at least one API request."""
    by_user = measures.increase(names.CLAUDE_CODE_COST, window, [names.USER])
    return f"count({by_user} > 0) or vector(0)"


def response_time_quantile(quantile: float, window: str) -> str:
    """Request duration quantile from the SERVER spans' span metrics (buckets up to 512 s)."""
    return f"histogram_quantile({quantile}, sum by (le) (rate({SERVER_SPAN_BUCKETS}{window})))"


def request_rate(failed: bool) -> str:
    matcher = (
        '{http_response_status_code=~"5.."}' if failed else '{http_response_status_code!~"5.."}'
    )
    return f"sum(rate({HTTP_REQUESTS}{matcher}{RATE}))"


def llm_calls_by_operation(window: str) -> str:
    calls = measures.app_call_series("count")
    return f"sum by (gen_ai_operation_name, gen_ai_request_model) (increase({calls}{window}))"


def llm_errors_by_type(window: str) -> str:
    failed = measures.app_call_series("count", 'error_type!=""')
    return f"sum by (error_type) (increase({failed}{window}))"


def llm_calls_per_minute() -> str:
    return f"sum by (service_name) (rate({measures.app_call_series('count')}{RATE})) * 60"


def spend_per_hour() -> str:
    """USD per hour: every source's spend in each step (recorded windows), scaled to an hour."""
    return measures.spend_per_hour()


TOP_TOOLS: Final = (
    "topk(10, sum by (tool_name) (count_over_time("
    f'{CLAUDE_CODE_EVENTS} | event_name="tool_result" {RANGE})))'
)
TOP_USERS_BY_PROMPTS: Final = (
    "topk(10, sum by (user_email) (count_over_time("
    f'{CLAUDE_CODE_EVENTS} | event_name="user_prompt" {RANGE})))'
)
# The apps' JSONL call logs (seed 000) are the one signal that names an app's end user.
TOP_APP_USERS: Final = (
    f"topk(10, sum by (user) (count_over_time({names.JSONL_STREAM} | json "
    f'| __error__="" | user != "" {RANGE})))'
)
RECENT_LOGS: Final = names.ALL_STREAMS


# Panels ---------------------------------------------------------------------------------------

APPS_NOTE: Final = (
    "Requests are those the instrumented LLM apps serve (http.server.request.duration); "
    "a failure is a 5xx response."
)
SPAN_LATENCY_NOTE: Final = (
    f"From Tempo's span metrics of the apps' SERVER spans ({names.SPAN_LATENCY}, buckets "
    "0.1 s to 512 s). Not http.server.request.duration: its semantic-convention buckets stop at "
    "10 s, and LLM requests often take longer, so its quantiles would stop at 10 s. A quantile "
    "is interpolated inside its bucket: exact to the bucket's bounds."
)


def _kpis() -> Section:
    return Section(
        None,
        [
            stat_panel(
                "Requests (last 1h)",
                f"Requests the LLM apps served in the hour before the picker's end. {APPS_NOTE}",
                "short",
                promql(requests(LAST_HOUR), "requests", instant=True),
                width=4,
                decimals=0,
            ),
            stat_panel(
                "Success rate (last 1h)",
                "Share of the apps' requests in the last hour that did not end in a 5xx "
                f"response (4xx are the caller's errors and count as served). {APPS_NOTE}",
                "percentunit",
                promql(success_rate(LAST_HOUR), "success", instant=True),
                width=4,
                decimals=1,
            ),
            stat_panel(
                "LLM cost (last 1h)",
                f"USD spent in the hour before the picker's end, every source: {SOURCES_NOTE}",
                "currencyUSD",
                promql(measures.spend(LAST_HOUR), "cost", instant=True),
                width=4,
                decimals=2,
            ),
            stat_panel(
                "Active users (last 1h)",
                "Claude Code users who made at least one API request in the last hour (their "
                "cost grew). The apps' end users are not in metrics: their spans carry user.id.",
                "short",
                promql(active_users(LAST_HOUR), "users", instant=True),
                width=4,
                decimals=0,
            ),
            stat_panel(
                "Average response time (last 1h)",
                "Mean duration of the apps' requests in the last hour: total seconds over the "
                f"request count, exact (no buckets). {APPS_NOTE}",
                "s",
                promql(average_response_time(LAST_HOUR), "mean", instant=True),
                width=4,
                decimals=2,
            ),
            stat_panel(
                "Errors (last 1h)",
                f"5xx responses the apps sent in the last hour (0 when none). {APPS_NOTE}",
                "short",
                promql(server_errors(LAST_HOUR), "5xx", instant=True),
                width=4,
                decimals=0,
            ),
        ],
    )


def _traffic() -> Section:
    percentiles = [
        promql(response_time_quantile(quantile, RATE), label)
        for quantile, label in ((0.5, "P50"), (0.95, "P95"), (0.99, "P99"))
    ]
    return Section(
        "Traffic and latency",
        [
            timeseries_panel(
                "Request rate: success vs failure",
                f"Requests per second the apps served, split into non-5xx and 5xx. {APPS_NOTE}",
                "reqps",
                promql(request_rate(failed=False), "success"),
                promql(request_rate(failed=True), "failure (5xx)"),
                stacked=True,
            ),
            timeseries_panel(
                "LLM calls per minute",
                "LLM calls each app makes per minute (gen_ai.client.operation.duration count), "
                "failed calls included. The no-traffic alert watches this.",
                "cpm",
                promql(llm_calls_per_minute(), "{{service_name}}"),
            ),
            timeseries_panel(
                "Response time P50 / P95 / P99",
                f"Request duration percentiles of the apps. {SPAN_LATENCY_NOTE}",
                "s",
                *[query.exemplar(True) for query in percentiles],
            ),
            timeseries_panel(
                "Spend rate (USD per hour)",
                "Every source's spend in each step (its recorded 5-minute windows), scaled to "
                "USD per hour. " + SOURCES_NOTE,
                "currencyUSD",
                promql(spend_per_hour(), "USD/h"),
                interval=measures.MIN_INTERVAL,
            ),
            pie_panel(
                "LLM calls by operation and model",
                "The apps' LLM calls in the picker's range by gen_ai.operation.name and "
                "requested model, failed calls included (gen_ai.client.operation.duration).",
                "short",
                promql(
                    llm_calls_by_operation(RANGE),
                    "{{gen_ai_operation_name}} {{gen_ai_request_model}}",
                    instant=True,
                ),
                width=12,
            ),
            pie_panel(
                "LLM call errors by type",
                "The apps' failed LLM calls in the picker's range by error.type (e.g. "
                "RateLimitError, APITimeoutError).",
                "short",
                promql(llm_errors_by_type(RANGE), "{{error_type}}", instant=True),
                width=12,
            ),
        ],
    )


def _usage() -> Section:
    return Section(
        "Who and what",
        [
            top_bars(
                "Top 10 tools (Claude Code)",
                "Claude Code tool calls in the picker's range by tool (tool_result events in "
                "Loki). The apps' own tool use has no signal in the telemetry contract.",
                "short",
                logql(TOP_TOOLS, "{{tool_name}}", instant=True),
                kind=LOKI,
                width=8,
            ),
            top_bars(
                "Top users by requests",
                "The ten app users with the most LLM calls in the picker's range, from the apps' "
                "JSONL call logs (`user` field; apps that write no JSONL log are not here). The "
                "per-user request alert watches this.",
                "short",
                logql(TOP_APP_USERS, "{{user}}", instant=True),
                kind=LOKI,
                width=8,
            ),
            top_bars(
                "Top 10 users by prompts (Claude Code)",
                "Prompts each Claude Code user sent in the picker's range (user_prompt events).",
                "short",
                logql(TOP_USERS_BY_PROMPTS, "{{user_email}}", instant=True),
                kind=LOKI,
                width=8,
            ),
            logs_panel(
                "Recent logs",
                "The newest log lines of every service in Loki: Claude Code events, JSONL cost "
                "records and anything else sent through the collector.",
                logql(RECENT_LOGS),
            ),
        ],
    )


def build() -> dashboard.Dashboard:
    return build_dashboard(
        UID,
        "Mission Control",
        "The LLM apps and Claude Code at a glance: traffic, success, latency, spend, users and "
        "tools. The top row is the last hour; the rest follows the time picker.",
        [_kpis(), _traffic(), _usage()],
        kinds=(PROMETHEUS, LOKI),
        tags=["operations"],
        time_from="now-24h",
    )


SPEC: Final = DashboardSpec(UID, OPERATIONS_FOLDER, without_prices(build))
