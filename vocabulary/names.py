"""Every metric, label and log stream name the dashboards, alert rules and report read.

Names are as they arrive in Prometheus after OTLP translation with unit suffixes
(docs/telemetry.md). Nothing outside vocabulary/ spells one: tests/test_vocabulary.py fails
when a dashboard, rule or report module does.
"""

from __future__ import annotations

from typing import Final

# --- Claude Code (one series per session process) ------------------------------------------------

CLAUDE_CODE_SERVICE: Final = "claude-code"
# The CLI (and IDE extensions) and Claude Code Desktop report different service.name values;
# every panel, rule and report figure counts both (docs/telemetry.md).
CLAUDE_CODE_SERVICES: Final = (CLAUDE_CODE_SERVICE, "claude-code-desktop")
CLAUDE_CODE_SERVICE_PATTERN: Final = "|".join(CLAUDE_CODE_SERVICES)
CLAUDE_CODE_COST: Final = "claude_code_cost_usage_USD_total"
CLAUDE_CODE_TOKENS: Final = "claude_code_token_usage_tokens_total"
CLAUDE_CODE_SESSIONS: Final = "claude_code_session_count_total"
CLAUDE_CODE_LINES: Final = "claude_code_lines_of_code_count_total"
CLAUDE_CODE_COMMITS: Final = "claude_code_commit_count_total"
CLAUDE_CODE_PULL_REQUESTS: Final = "claude_code_pull_request_count_total"
CLAUDE_CODE_EDIT_DECISIONS: Final = "claude_code_code_edit_tool_decision_total"
CLAUDE_CODE_ACTIVE_TIME: Final = "claude_code_active_time_seconds_total"

# --- instrumented LLM apps (OpenTelemetry GenAI conventions, OpenLIT's cost) ---------------------

APP_COST: Final = "gen_ai_usage_cost_USD_sum"
APP_PRICED_CALLS: Final = "gen_ai_usage_cost_USD_count"
APP_TOKENS: Final = "gen_ai_client_token_usage_sum"
APP_CALL_DURATION: Final = "gen_ai_client_operation_duration_seconds"
APP_CALLS: Final = f"{APP_CALL_DURATION}_count"
APP_CALL_DURATION_SUM: Final = f"{APP_CALL_DURATION}_sum"
APP_CALL_BUCKETS: Final = f"{APP_CALL_DURATION}_bucket"
# semantic-conventions-genai (2026): a counter per token category; input counts cached tokens and
# output counts reasoning (the cache and reasoning counters are subsets).
APP_INFERENCE_INPUT: Final = "gen_ai_client_inference_usage_input_tokens_total"
APP_INFERENCE_OUTPUT: Final = "gen_ai_client_inference_usage_output_tokens_total"
APP_INFERENCE_CACHE_READ: Final = "gen_ai_client_inference_usage_cache_read_input_tokens_total"
APP_INFERENCE_CACHE_WRITE: Final = "gen_ai_client_inference_usage_cache_write_input_tokens_total"
APP_INFERENCE_REASONING: Final = "gen_ai_client_inference_usage_reasoning_output_tokens_total"
# gen_ai.client.inference.duration (2026) replaces gen_ai.client.operation.duration.
APP_INFERENCE_DURATION: Final = "gen_ai_client_inference_duration_seconds"
APP_INFERENCE_CALLS: Final = f"{APP_INFERENCE_DURATION}_count"
APP_INFERENCE_DURATION_SUM: Final = f"{APP_INFERENCE_DURATION}_sum"
APP_INFERENCE_BUCKETS: Final = f"{APP_INFERENCE_DURATION}_bucket"
HTTP_DURATION: Final = "http_server_request_duration_seconds"
HTTP_REQUESTS: Final = f"{HTTP_DURATION}_count"
HTTP_DURATION_SUM: Final = f"{HTTP_DURATION}_sum"
HTTP_BUCKETS: Final = f"{HTTP_DURATION}_bucket"

# --- Tempo's metrics-generator -------------------------------------------------------------------

SPAN_LATENCY: Final = "traces_spanmetrics_latency"
SPAN_BUCKETS: Final = f"{SPAN_LATENCY}_bucket"
SPAN_CALLS: Final = "traces_spanmetrics_calls_total"
# The span metrics' own labels: service (not service_name), the span's name, kind and status.
SPAN_SERVICE: Final = "service"
SPAN_NAME: Final = "span_name"
SPAN_KIND: Final = "span_kind"
SPAN_STATUS: Final = "status_code"
SERVICE_GRAPH_REQUESTS: Final = "traces_service_graph_request_total"

# --- Claude Code's beta traces (Tempo) -----------------------------------------------------------

CLAUDE_CODE_LLM_SPAN: Final = "claude_code.llm_request"
CLAUDE_CODE_INTERACTION_SPAN: Final = "claude_code.interaction"
# Span attributes keep their dots in TraceQL; the session id is on every span.
SPAN_SESSION: Final = "span.session.id"
SPAN_TTFT_MS: Final = "span.ttft_ms"

# --- the stack itself ----------------------------------------------------------------------------

UP: Final = "up"
COLLECTOR_QUEUE_SIZE: Final = "otelcol_exporter_queue_size"
COLLECTOR_MEMORY: Final = "otelcol_process_memory_rss_bytes"
PROMETHEUS_HEAD_SERIES: Final = "prometheus_tsdb_head_series"
PROCESS_MEMORY: Final = "process_resident_memory_bytes"
# The local stack's scrape jobs whose loss silences telemetry (configs/prometheus).
PIPELINE_JOBS: Final = ("otel-collector", "loki", "tempo")

# --- labels --------------------------------------------------------------------------------------

SERVICE: Final = "service_name"
MODEL: Final = "model"  # Claude Code's model; the apps' response model is relabelled to it
APP_MODEL: Final = "gen_ai_response_model"
APP_REQUEST_MODEL: Final = "gen_ai_request_model"
OPERATION: Final = "gen_ai_operation_name"
# Claude Code's `type`: tokens (input, output, cacheRead, cacheCreation), lines (added,
# removed), active time (user, cli).
TOKEN_TYPE: Final = "type"
DECISION: Final = "decision"  # Claude Code's code edit decisions: accept, reject
APP_TOKEN_TYPE: Final = "gen_ai_token_type"  # apps: input, output
USER: Final = "user_email"
TEAM: Final = "team"
COST_CENTER: Final = "cost_center"
# The team a per-team budget rule names: an alert rule's own `team` label (who owns the alert)
# would override a `team` label of its query's series.
SPENDING_TEAM: Final = "spending_team"
BUDGET_USD: Final = "budget_usd"
SESSION: Final = "session_id"
# The pricing-table entry (its `model`) a token series is priced by: the key a token count and
# the price table built in PromQL join on (vocabulary/pricing.py).
PRICE_ENTRY: Final = "price_entry"
ERROR_TYPE: Final = "error_type"
# Who made a Claude Code request (2026 attributes on the cost and token counters and the request
# events; absent where they do not apply): main, subagent or auxiliary; which subagent, skill,
# plugin, MCP server and tool; the session's effort and speed.
QUERY_SOURCE: Final = "query_source"
AGENT: Final = "agent_name"
SKILL: Final = "skill_name"
PLUGIN: Final = "plugin_name"
MCP_SERVER: Final = "mcp_server_name"
MCP_TOOL: Final = "mcp_tool_name"
EFFORT: Final = "effort"
SPEED: Final = "speed"
STATUS_CODE: Final = "http_response_status_code"

# --- recorded series (vocabulary/recording.py) ---------------------------------------------------

RECORD_INTERVAL: Final = "5m"


def record_name(metric: str, dimensions: tuple[str, ...] = ()) -> str:
    """A counter's recorded 5-minute windows, `level:metric:operation`: by the dashboard filters'
    labels `llm:claude_code_cost_usage_USD:increase5m`, by those and `dimensions` as well
    `llm_agent_name:claude_code_cost_usage_USD:increase5m`."""
    level = "_".join(("llm", *dimensions))
    return f"{level}:{metric.removesuffix('_total')}:increase{RECORD_INTERVAL}"


SPEND_RECORD: Final = f"llm:spend_usd:increase{RECORD_INTERVAL}"
# Claude Code's tokens priced from the pricing table at the time of recording, by token type.
CLAUDE_CODE_TOKEN_COST_RECORD: Final = f"llm:claude_code_token_cost_usd:increase{RECORD_INTERVAL}"
# The apps' tokens of every GenAI generation, by gen_ai_token_type input (not cached),
# cache_read, cache_write and output (reasoning included).
APP_TOKENS_RECORD: Final = f"llm:gen_ai_tokens:increase{RECORD_INTERVAL}"

# --- Loki streams --------------------------------------------------------------------------------

CLAUDE_CODE_EVENTS: Final = f'{{service_name=~"{CLAUDE_CODE_SERVICE_PATTERN}"}}'
# Claude Code's events (the event_name value of each), as the agents' panels and rules read them.
EVENT_NAME: Final = "event_name"
API_REFUSAL: Final = "api_refusal"
API_RETRIES_EXHAUSTED: Final = "api_retries_exhausted"
COMPACTION: Final = "compaction"
HOOK_COMPLETE: Final = "hook_execution_complete"
MCP_CONNECTION: Final = "mcp_server_connection"
SUBAGENT_COMPLETED: Final = "subagent_completed"


def event_record_name(counted: str) -> str:
    """An event's recorded 5-minute counts (vocabulary/event_counts.py), Loki's counts written
    into Prometheus: `llm:claude_code_api_refusals:count5m`."""
    return f"llm:claude_code_{counted}:count{RECORD_INTERVAL}"


REFUSALS_RECORD: Final = event_record_name("api_refusals")
RETRIES_EXHAUSTED_RECORD: Final = event_record_name("api_retries_exhausted")
JSONL_STREAM: Final = '{service_name="llm-cost-jsonl"}'
ALL_STREAMS: Final = '{service_name=~".+"}'

METRICS: Final = (
    CLAUDE_CODE_COST,
    CLAUDE_CODE_TOKENS,
    CLAUDE_CODE_SESSIONS,
    CLAUDE_CODE_LINES,
    CLAUDE_CODE_COMMITS,
    CLAUDE_CODE_PULL_REQUESTS,
    CLAUDE_CODE_EDIT_DECISIONS,
    CLAUDE_CODE_ACTIVE_TIME,
    APP_COST,
    APP_PRICED_CALLS,
    APP_TOKENS,
    APP_CALL_DURATION,
    APP_INFERENCE_INPUT,
    APP_INFERENCE_OUTPUT,
    APP_INFERENCE_CACHE_READ,
    APP_INFERENCE_CACHE_WRITE,
    APP_INFERENCE_REASONING,
    APP_INFERENCE_DURATION,
    HTTP_DURATION,
    SPAN_LATENCY,
    SPAN_CALLS,
    SERVICE_GRAPH_REQUESTS,
    COLLECTOR_QUEUE_SIZE,
    COLLECTOR_MEMORY,
    PROMETHEUS_HEAD_SERIES,
    PROCESS_MEMORY,
)
"""Every metric (histograms by their base name) the vocabulary knows, for the spelling test."""
