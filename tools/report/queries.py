"""Every query the report runs, with what it means; docs/report.md lists the same text.

`{window}` is replaced by the bucket's range: `1d` for a whole day evaluated at its end, the
seconds since midnight for a day still running, or the whole period for quantiles. Every
Prometheus query is a vocabulary measure over the recorded 5-minute windows (vocabulary/), the
same the dashboards and alert rules read: a day's spend here is the "Spend today" panel's and
the daily-budget rule's.
"""

from dataclasses import dataclass
from typing import Literal

from vocabulary import measures, names

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

WINDOW = "[{window}]"
APP = (names.SERVICE, names.OPERATION)
APP_MODEL = (*APP, names.APP_MODEL)

CLAUDE_CODE_COST = Query(
    "Claude Code cost",
    "prometheus",
    (names.MODEL, names.USER),
    measures.spend(WINDOW, [names.MODEL, names.USER], measures.CLAUDE_CODE),
    "USD Claude Code reported for its API requests (`claude_code.cost.usage`).",
)
CLAUDE_CODE_TOKENS = Query(
    "Claude Code tokens",
    "prometheus",
    (names.MODEL, names.TOKEN_TYPE, names.USER),
    measures.increase(
        names.CLAUDE_CODE_TOKENS, WINDOW, [names.MODEL, names.TOKEN_TYPE, names.USER]
    ),
    "Tokens by type: input, output, cacheRead, cacheCreation.",
)
CLAUDE_CODE_SESSIONS = Query(
    "Claude Code sessions",
    "prometheus",
    (names.USER,),
    measures.increase(names.CLAUDE_CODE_SESSIONS, WINDOW, [names.USER]),
    "CLI sessions started; a resumed session counts again.",
)
APP_COST = Query(
    "LLM app cost",
    "prometheus",
    (*APP, names.MODEL),
    measures.spend(WINDOW, [*APP, names.MODEL], measures.APPS),
    "USD the apps reported per LLM call (`gen_ai.usage.cost`, OpenLIT/LiteLLM); for apps that "
    "report only tokens, their tokens at the pricing table's list prices.",
)
TEAM_COST = Query(
    "Cost by team",
    "prometheus",
    (names.TEAM, names.COST_CENTER),
    measures.spend(WINDOW, [names.TEAM, names.COST_CENTER]),
    "USD by the `team` and `cost_center` resource attributes (Claude Code and apps; empty for "
    "telemetry sent without them).",
)
APP_PRICED_CALLS = Query(
    "LLM app priced calls",
    "prometheus",
    APP_MODEL,
    measures.priced_calls(WINDOW, APP_MODEL),
    "LLM calls that reported a cost, or for token-only apps the successful calls: the divisor "
    "of cost per request.",
)
APP_TOKENS = Query(
    "LLM app tokens",
    "prometheus",
    (*APP_MODEL, names.APP_TOKEN_TYPE),
    measures.app_tokens(WINDOW, [*APP_MODEL, names.APP_TOKEN_TYPE]),
    "Tokens by type (input, cache_read, cache_write, output) of the apps' LLM calls, on either "
    "generation of the GenAI conventions.",
)
APP_CALLS = Query(
    "LLM app calls",
    "prometheus",
    (*APP_MODEL, names.ERROR_TYPE),
    measures.app_calls(WINDOW, [*APP_MODEL, names.ERROR_TYPE]),
    "Every LLM call the apps made; `error_type` is set on failed calls only.",
)
HTTP_REQUESTS = Query(
    "HTTP requests",
    "prometheus",
    (names.SERVICE, names.STATUS_CODE),
    measures.http_requests(WINDOW, [names.SERVICE, names.STATUS_CODE]),
    "Requests the apps served, by status code (5xx are errors).",
)
LLM_P95_DAILY = Query(
    "LLM call P95 latency per day",
    "prometheus",
    (),
    measures.latency_quantile(0.95, WINDOW),
    "95th percentile of all LLM calls' duration (failed ones included), seconds.",
)

# --- Prometheus: evaluated once over the whole period (quantiles do not add up over days) -------

LLM_P95_PERIOD = Query(
    "LLM call P95 latency",
    "prometheus",
    APP_MODEL,
    measures.latency_quantile(0.95, WINDOW, APP_MODEL),
    "95th percentile of LLM call duration over the period, per app, operation and model.",
)
LLM_P95_OVERALL = Query(
    "LLM call P95 latency, all apps",
    "prometheus",
    (),
    measures.latency_quantile(0.95, WINDOW),
    "95th percentile of every LLM call's duration over the period.",
)
HTTP_P95_PERIOD = Query(
    "HTTP P95 latency",
    "prometheus",
    (names.SERVICE,),
    measures.http_latency_quantile(0.95, WINDOW, [names.SERVICE]),
    "95th percentile of the apps' HTTP request duration over the period.",
)

# --- Loki (with --loki): Claude Code events ------------------------------------------------------

_EVENTS = names.CLAUDE_CODE_EVENTS

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
    TEAM_COST,
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
