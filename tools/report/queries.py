"""Every query the report runs, with what it means; docs/report.md lists the same text.

`{window}` is replaced by the bucket's range: `1d` for a whole day evaluated at its end, the
seconds since midnight for a day still running, or the whole period for quantiles. Counters are
turned into amounts with increase() per series first and summed after, so resumed sessions and
restarted apps (counter resets) are counted correctly.
"""

from dataclasses import dataclass
from typing import Literal

from dashboards.panels import CLAUDE_CODE_EVENTS, observed_increase

Source = Literal["prometheus", "loki"]


@dataclass(frozen=True)
class Query:
    name: str
    source: Source
    labels: tuple[str, ...]  # the `by (...)` labels, in the order results are keyed
    template: str
    meaning: str

    def expr(self, window: str) -> str:
        return self.template.replace("{window}", window)


# --- Prometheus: evaluated once per day (the day's increase) -------------------------------------

CLAUDE_CODE_COST = Query(
    "Claude Code cost",
    "prometheus",
    ("model", "user_email"),
    # Claude Code's series are short (a session; a subagent's or skill's share of it): counted
    # without increase()'s extrapolation past their last sample, as the dashboards count them.
    "sum by (model, user_email) "
    f"({observed_increase('claude_code_cost_usage_USD_total', '[{window}]')})",
    "USD Claude Code reported for its API requests (`claude_code.cost.usage`).",
)
CLAUDE_CODE_TOKENS = Query(
    "Claude Code tokens",
    "prometheus",
    ("model", "type", "user_email"),
    "sum by (model, type, user_email) "
    f"({observed_increase('claude_code_token_usage_tokens_total', '[{window}]')})",
    "Tokens by type: input, output, cacheRead, cacheCreation.",
)
CLAUDE_CODE_SESSIONS = Query(
    "Claude Code sessions",
    "prometheus",
    ("user_email",),
    "sum by (user_email) (increase(claude_code_session_count_total[{window}]))",
    "CLI sessions started; a resumed session counts again.",
)
APP_COST = Query(
    "LLM app cost",
    "prometheus",
    ("service_name", "gen_ai_operation_name", "gen_ai_request_model"),
    "sum by (service_name, gen_ai_operation_name, gen_ai_request_model) "
    "(increase(gen_ai_usage_cost_USD_sum[{window}]))",
    "USD the apps reported per LLM call (`gen_ai.usage.cost`, OpenLIT/LiteLLM).",
)
APP_PRICED_CALLS = Query(
    "LLM app priced calls",
    "prometheus",
    ("service_name", "gen_ai_operation_name", "gen_ai_request_model"),
    "sum by (service_name, gen_ai_operation_name, gen_ai_request_model) "
    "(increase(gen_ai_usage_cost_USD_count[{window}]))",
    "LLM calls that reported a cost (successful calls): the divisor of cost per request.",
)
APP_TOKENS = Query(
    "LLM app tokens",
    "prometheus",
    ("service_name", "gen_ai_operation_name", "gen_ai_request_model", "gen_ai_token_type"),
    "sum by (service_name, gen_ai_operation_name, gen_ai_request_model, gen_ai_token_type) "
    "(increase(gen_ai_client_token_usage_sum[{window}]))",
    "Tokens by type (input, output) of the apps' LLM calls.",
)
APP_CALLS = Query(
    "LLM app calls",
    "prometheus",
    ("service_name", "gen_ai_operation_name", "gen_ai_request_model", "error_type"),
    "sum by (service_name, gen_ai_operation_name, gen_ai_request_model, error_type) "
    "(increase(gen_ai_client_operation_duration_seconds_count[{window}]))",
    "Every LLM call the apps made; `error_type` is set on failed calls only.",
)
HTTP_REQUESTS = Query(
    "HTTP requests",
    "prometheus",
    ("service_name", "http_response_status_code"),
    "sum by (service_name, http_response_status_code) "
    "(increase(http_server_request_duration_seconds_count[{window}]))",
    "Requests the apps served, by status code (5xx are errors).",
)
LLM_P95_DAILY = Query(
    "LLM call P95 latency per day",
    "prometheus",
    (),
    "histogram_quantile(0.95, sum by (le) "
    "(increase(gen_ai_client_operation_duration_seconds_bucket[{window}])))",
    "95th percentile of all LLM calls' duration (failed ones included), seconds.",
)

# --- Prometheus: evaluated once over the whole period (quantiles do not add up over days) -------

LLM_P95_PERIOD = Query(
    "LLM call P95 latency",
    "prometheus",
    ("service_name", "gen_ai_operation_name", "gen_ai_request_model"),
    "histogram_quantile(0.95, sum by (service_name, gen_ai_operation_name, gen_ai_request_model, "
    "le) (increase(gen_ai_client_operation_duration_seconds_bucket[{window}])))",
    "95th percentile of LLM call duration over the period, per app, operation and model.",
)
LLM_P95_OVERALL = Query(
    "LLM call P95 latency, all apps",
    "prometheus",
    (),
    "histogram_quantile(0.95, sum by (le) "
    "(increase(gen_ai_client_operation_duration_seconds_bucket[{window}])))",
    "95th percentile of every LLM call's duration over the period.",
)
HTTP_P95_PERIOD = Query(
    "HTTP P95 latency",
    "prometheus",
    ("service_name",),
    "histogram_quantile(0.95, sum by (service_name, le) "
    "(increase(http_server_request_duration_seconds_bucket[{window}])))",
    "95th percentile of the apps' HTTP request duration over the period.",
)

# --- Loki (with --loki): Claude Code events ------------------------------------------------------

_EVENTS = CLAUDE_CODE_EVENTS

CLAUDE_CODE_API_REQUESTS = Query(
    "Claude Code API requests",
    "loki",
    ("model",),
    f'sum by (model) (count_over_time({_EVENTS} | event_name="api_request" [{{window}}]))',
    "`api_request` events: Claude Code's requests to the model API.",
)
CLAUDE_CODE_EVENT_COST = Query(
    "Claude Code cost from events",
    "loki",
    ("model",),
    f'sum by (model) (sum_over_time({_EVENTS} | event_name="api_request" '
    f"| unwrap cost_usd [{{window}}]))",
    "`cost_usd` of `api_request` events: a cross-check of the cost metric.",
)
CLAUDE_CODE_API_ERRORS = Query(
    "Claude Code API errors",
    "loki",
    ("model", "status_code"),
    f'sum by (model, status_code) (count_over_time({_EVENTS} | event_name="api_error" '
    f"[{{window}}]))",
    "`api_error` events (failed API requests) by model and HTTP status (429, 5xx, 529).",
)
CLAUDE_CODE_TOOL_RESULTS = Query(
    "Claude Code tool calls",
    "loki",
    ("tool_name", "success"),
    f'sum by (tool_name, success) (count_over_time({_EVENTS} | event_name="tool_result" '
    f"[{{window}}]))",
    "`tool_result` events by tool and outcome.",
)
CLAUDE_CODE_TOOL_TIME = Query(
    "Claude Code tool time",
    "loki",
    ("tool_name",),
    f'sum by (tool_name) (sum_over_time({_EVENTS} | event_name="tool_result" '
    f"| unwrap duration_ms [{{window}}]))",
    "Milliseconds spent in each tool (summed `duration_ms`).",
)

DAILY_PROMETHEUS = (
    CLAUDE_CODE_COST,
    CLAUDE_CODE_TOKENS,
    CLAUDE_CODE_SESSIONS,
    APP_COST,
    APP_PRICED_CALLS,
    APP_TOKENS,
    APP_CALLS,
    HTTP_REQUESTS,
    LLM_P95_DAILY,
)
PERIOD_PROMETHEUS = (LLM_P95_PERIOD, LLM_P95_OVERALL, HTTP_P95_PERIOD)
DAILY_LOKI = (
    CLAUDE_CODE_API_REQUESTS,
    CLAUDE_CODE_EVENT_COST,
    CLAUDE_CODE_API_ERRORS,
    CLAUDE_CODE_TOOL_RESULTS,
    CLAUDE_CODE_TOOL_TIME,
)
ALL_QUERIES = DAILY_PROMETHEUS + PERIOD_PROMETHEUS + DAILY_LOKI
