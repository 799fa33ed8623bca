"""The telemetry contract in code: every signal the dashboards and alerts read, by source.

docs/telemetry.md documents this list and a test keeps the two in agreement. Names and labels are
the ones Prometheus stores after OTLP translation with our settings (UnderscoreEscapingWithSuffixes,
`otlp.promote_resource_attributes` as in configs/prometheus/prometheus.yml).
"""

from dataclasses import dataclass, field

from tools.telemetry.naming import MetricType, prometheus_label_name, prometheus_metric_name

CLAUDE_CODE_SERVICE = "claude-code"
# Claude Code Desktop reports its own service.name; both are Claude Code and count together.
CLAUDE_CODE_DESKTOP_SERVICE = "claude-code-desktop"
CLAUDE_CODE_SERVICES = (CLAUDE_CODE_SERVICE, CLAUDE_CODE_DESKTOP_SERVICE)
JSONL_SERVICE = "llm-cost-jsonl"
# Resource attributes a source may set in OTEL_RESOURCE_ATTRIBUTES, promoted to labels
# (configs/prometheus/prometheus.yml): on the series of the users and apps that set them.
TEAM_LABELS = ("team", "cost_center")

# Attributes Claude Code puts on every metric point and event.
CLAUDE_CODE_COMMON_ATTRIBUTES = (
    "session.id",
    "user.account_uuid",
    "user.email",
    "organization.id",
    "terminal.type",
)
# Sent only when the user opts in (OTEL_METRICS_INCLUDE_VERSION / _ENTRYPOINT).
CLAUDE_CODE_OPT_IN_ATTRIBUTES = ("app.version", "app.entrypoint")
# Who and what made an API request: on the cost and token counters and the request events;
# each is absent where it does not apply (no subagent, no skill, no MCP tool in the turn).
CLAUDE_CODE_REQUEST_ATTRIBUTES = (
    "query_source",
    "speed",
    "effort",
    "agent.name",
    "skill.name",
    "plugin.name",
    "marketplace.name",
    "mcp_server.name",
    "mcp_tool.name",
)
GENAI_ATTRIBUTES = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
)
# OpenTelemetry semantic-conventions advisory bucket boundaries.
TOKEN_BUCKETS = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
DURATION_BUCKETS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
HTTP_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
# OpenLIT sets no advice for gen_ai.usage.cost, so the SDK default boundaries apply.
SDK_DEFAULT_BUCKETS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
# configs/tempo/tempo.yaml span-metrics histogram_buckets (seconds).
SPANMETRICS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# Tempo's service-graphs default histogram_buckets.
SERVICE_GRAPH_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8)


@dataclass(frozen=True)
class Instrument:
    """One OTLP instrument as an app emits it, and what Prometheus makes of it."""

    otel_name: str
    unit: str
    metric_type: MetricType
    description: str
    attributes: tuple[str, ...]
    buckets: tuple[float, ...] = ()

    @property
    def prometheus_name(self) -> str:
        return prometheus_metric_name(self.otel_name, self.unit, self.metric_type)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(prometheus_label_name(attribute) for attribute in self.attributes)


@dataclass(frozen=True)
class NativeMetric:
    """A metric that reaches Prometheus already in Prometheus form (remote write or scrape)."""

    name: str
    metric_type: MetricType
    description: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()

    @property
    def prometheus_name(self) -> str:
        return self.name


@dataclass(frozen=True)
class Source:
    """Where a group of metrics comes from and the labels its resource adds."""

    key: str
    title: str
    resource_labels: tuple[str, ...]
    metrics: tuple[Instrument | NativeMetric, ...] = field(default_factory=tuple)


def series_names(metric: Instrument | NativeMetric) -> tuple[str, ...]:
    """The `__name__` values a metric occupies in Prometheus."""
    base = metric.prometheus_name
    if metric.metric_type is MetricType.HISTOGRAM:
        return (f"{base}_bucket", f"{base}_sum", f"{base}_count")
    return (base,)


def _claude_code(name: str, unit: str, description: str, *extra: str) -> Instrument:
    return Instrument(
        name,
        unit,
        MetricType.COUNTER,
        description,
        (*extra, *CLAUDE_CODE_COMMON_ATTRIBUTES, *CLAUDE_CODE_OPT_IN_ATTRIBUTES),
    )


CLAUDE_CODE_COST = _claude_code(
    "claude_code.cost.usage",
    "USD",
    "Cost of API requests",
    "model",
    *CLAUDE_CODE_REQUEST_ATTRIBUTES,
)
CLAUDE_CODE_TOKENS = _claude_code(
    "claude_code.token.usage",
    "tokens",
    "Tokens used, by type",
    "type",
    "model",
    *CLAUDE_CODE_REQUEST_ATTRIBUTES,
)
CLAUDE_CODE_SESSIONS = _claude_code(
    "claude_code.session.count", "count", "Sessions started", "start_type"
)
CLAUDE_CODE_LINES = _claude_code(
    "claude_code.lines_of_code.count", "count", "Lines of code modified", "type", "model"
)
CLAUDE_CODE_COMMITS = _claude_code("claude_code.commit.count", "count", "Git commits created")
CLAUDE_CODE_PULL_REQUESTS = _claude_code(
    "claude_code.pull_request.count", "count", "Pull requests created"
)
# The docs give the unit as `count`, but live captures show `..._decision_total`: Claude Code
# sends the instrument without a unit, so no `_count` is appended.
CLAUDE_CODE_EDIT_DECISIONS = _claude_code(
    "claude_code.code_edit_tool.decision",
    "",
    "Edit/Write/NotebookEdit permission decisions",
    "decision",
    "source",
    "tool_name",
    "language",
)
CLAUDE_CODE_ACTIVE_TIME = _claude_code(
    "claude_code.active_time.total", "s", "Active time; type=user (typing) or cli (working)", "type"
)

# Instrumentations on semantic conventions before v1.37 send gen_ai.system where later ones send
# gen_ai.provider.name: a series carries one of the two.
LEGACY_PROVIDER_ATTRIBUTE = "gen_ai.system"
GENAI_TOKEN_USAGE = Instrument(
    "gen_ai.client.token.usage",
    "{token}",
    MetricType.HISTOGRAM,
    "Tokens per GenAI call, by token type",
    (*GENAI_ATTRIBUTES, LEGACY_PROVIDER_ATTRIBUTE, "gen_ai.token.type"),
    TOKEN_BUCKETS,
)
GENAI_OPERATION_DURATION = Instrument(
    "gen_ai.client.operation.duration",
    "s",
    MetricType.HISTOGRAM,
    "Duration of GenAI calls; `error_type` set on failures",
    (*GENAI_ATTRIBUTES, LEGACY_PROVIDER_ATTRIBUTE, "error.type"),
    DURATION_BUCKETS,
)
GENAI_USAGE_COST = Instrument(
    "gen_ai.usage.cost",
    "USD",
    MetricType.HISTOGRAM,
    "Cost per GenAI call (OpenLIT, LiteLLM); use `_sum`",
    (*GENAI_ATTRIBUTES, LEGACY_PROVIDER_ATTRIBUTE),
    SDK_DEFAULT_BUCKETS,
)
# Semantic-conventions advice for time-to-first-token histograms (seconds).
TTFT_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    2.5,
    5,
    7.5,
    10,
)
# Agent invocations span many model calls and tools (seconds).
AGENT_DURATION_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
TOOL_CALL_BUCKETS = (0, 1, 2, 4, 8, 16, 32)
# OpenLIT, on conventions before v1.37 in our generator: only gen_ai.system.
GENAI_SERVER_TTFT = Instrument(
    "gen_ai.server.time_to_first_token",
    "s",
    MetricType.HISTOGRAM,
    "Time to the first token of successful calls (OpenLIT)",
    ("gen_ai.operation.name", LEGACY_PROVIDER_ATTRIBUTE, "gen_ai.request.model"),
    TTFT_BUCKETS,
)
_INFERENCE_ATTRIBUTES = (*GENAI_ATTRIBUTES, "gen_ai.token.modality")


def _inference_usage(name: str, description: str) -> Instrument:
    return Instrument(
        f"gen_ai.client.inference.usage.{name}",
        "{token}",
        MetricType.COUNTER,
        description,
        _INFERENCE_ATTRIBUTES,
    )


# semantic-conventions-genai (2026): one counter per token category; cache and reasoning
# counters are subsets of input and output.
GENAI_INFERENCE_INPUT = _inference_usage("input_tokens", "Input tokens, cached ones included")
GENAI_INFERENCE_OUTPUT = _inference_usage("output_tokens", "Output tokens, reasoning included")
GENAI_INFERENCE_CACHE_READ = _inference_usage(
    "cache_read.input_tokens", "Input tokens read from the prompt cache"
)
GENAI_INFERENCE_CACHE_WRITE = _inference_usage(
    "cache_write.input_tokens", "Input tokens written to the prompt cache"
)
GENAI_INFERENCE_REASONING = _inference_usage(
    "reasoning.output_tokens", "Output tokens spent on reasoning"
)
GENAI_INFERENCE_DURATION = Instrument(
    "gen_ai.client.inference.duration",
    "s",
    MetricType.HISTOGRAM,
    "Duration of inference calls; `error_type` set on failures",
    (*GENAI_ATTRIBUTES, "error.type"),
    DURATION_BUCKETS,
)
GENAI_INVOKE_AGENT_DURATION = Instrument(
    "gen_ai.invoke_agent.duration",
    "s",
    MetricType.HISTOGRAM,
    "Duration of agent invocations; `error_type` set on failures",
    (
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.agent.name",
        "error.type",
    ),
    AGENT_DURATION_BUCKETS,
)
GENAI_EXECUTE_TOOL_DURATION = Instrument(
    "gen_ai.execute_tool.duration",
    "s",
    MetricType.HISTOGRAM,
    "Duration of tool executions by an agent",
    ("gen_ai.operation.name", "gen_ai.tool.name"),
    DURATION_BUCKETS,
)
# Grafana's agento11y SDK, beside gen_ai.client.token.usage and .operation.duration.
GENAI_CLIENT_TTFT = Instrument(
    "gen_ai.client.time_to_first_token",
    "s",
    MetricType.HISTOGRAM,
    "Time to the first token of streamed calls (agento11y)",
    GENAI_ATTRIBUTES,
    TTFT_BUCKETS,
)
GENAI_TOOL_CALLS = Instrument(
    "gen_ai.client.tool_calls_per_operation",
    "{tool_call}",
    MetricType.HISTOGRAM,
    "Tool calls a generation asked for (agento11y)",
    GENAI_ATTRIBUTES,
    TOOL_CALL_BUCKETS,
)
HTTP_SERVER_DURATION = Instrument(
    "http.server.request.duration",
    "s",
    MetricType.HISTOGRAM,
    "Duration of HTTP requests the app serves",
    (
        "http.request.method",
        "http.route",
        "http.response.status_code",
        "url.scheme",
        "error.type",
    ),
    HTTP_DURATION_BUCKETS,
)

SPAN_DIMENSIONS = ("gen_ai_request_model", "gen_ai_operation_name", "gen_ai_provider_name")
SPAN_LABELS = ("service", "span_name", "span_kind", "status_code", *SPAN_DIMENSIONS)
SPANMETRICS_CALLS = NativeMetric(
    "traces_spanmetrics_calls_total", MetricType.COUNTER, "Spans ended, per span", SPAN_LABELS
)
SPANMETRICS_LATENCY = NativeMetric(
    "traces_spanmetrics_latency",
    MetricType.HISTOGRAM,
    "Span duration (seconds)",
    SPAN_LABELS,
    SPANMETRICS_BUCKETS,
)
SERVICE_GRAPH_LABELS = ("client", "server", "connection_type")
SERVICE_GRAPH_REQUESTS = NativeMetric(
    "traces_service_graph_request_total",
    MetricType.COUNTER,
    "Requests between two services",
    SERVICE_GRAPH_LABELS,
)
SERVICE_GRAPH_FAILED = NativeMetric(
    "traces_service_graph_request_failed_total",
    MetricType.COUNTER,
    "Failed requests between two services",
    SERVICE_GRAPH_LABELS,
)
SERVICE_GRAPH_SERVER_SECONDS = NativeMetric(
    "traces_service_graph_request_server_seconds",
    MetricType.HISTOGRAM,
    "Edge duration seen by the server span",
    SERVICE_GRAPH_LABELS,
    SERVICE_GRAPH_BUCKETS,
)
SERVICE_GRAPH_CLIENT_SECONDS = NativeMetric(
    "traces_service_graph_request_client_seconds",
    MetricType.HISTOGRAM,
    "Edge duration seen by the client span",
    SERVICE_GRAPH_LABELS,
    SERVICE_GRAPH_BUCKETS,
)

SCRAPE_LABELS = ("job", "instance")
UP = NativeMetric("up", MetricType.GAUGE, "1 when the last scrape succeeded", SCRAPE_LABELS)
COLLECTOR_ACCEPTED_POINTS = NativeMetric(
    "otelcol_receiver_accepted_metric_points_total",
    MetricType.COUNTER,
    "Metric points the collector's receivers accepted",
    (*SCRAPE_LABELS, "receiver", "transport"),
)
COLLECTOR_REFUSED_POINTS = NativeMetric(
    "otelcol_receiver_refused_metric_points_total",
    MetricType.COUNTER,
    "Metric points the collector's receivers refused",
    (*SCRAPE_LABELS, "receiver", "transport"),
)
COLLECTOR_ACCEPTED_SPANS = NativeMetric(
    "otelcol_receiver_accepted_spans_total",
    MetricType.COUNTER,
    "Spans the collector's receivers accepted",
    (*SCRAPE_LABELS, "receiver", "transport"),
)
COLLECTOR_ACCEPTED_LOGS = NativeMetric(
    "otelcol_receiver_accepted_log_records_total",
    MetricType.COUNTER,
    "Log records the collector's receivers accepted",
    (*SCRAPE_LABELS, "receiver", "transport"),
)
COLLECTOR_SENT_POINTS = NativeMetric(
    "otelcol_exporter_sent_metric_points_total",
    MetricType.COUNTER,
    "Metric points the collector exported",
    (*SCRAPE_LABELS, "exporter"),
)
COLLECTOR_FAILED_POINTS = NativeMetric(
    "otelcol_exporter_send_failed_metric_points_total",
    MetricType.COUNTER,
    "Metric points the collector failed to export",
    (*SCRAPE_LABELS, "exporter"),
)
COLLECTOR_SENT_SPANS = NativeMetric(
    "otelcol_exporter_sent_spans_total",
    MetricType.COUNTER,
    "Spans the collector exported",
    (*SCRAPE_LABELS, "exporter"),
)
COLLECTOR_FAILED_SPANS = NativeMetric(
    "otelcol_exporter_send_failed_spans_total",
    MetricType.COUNTER,
    "Spans the collector failed to export",
    (*SCRAPE_LABELS, "exporter"),
)
COLLECTOR_SENT_LOGS = NativeMetric(
    "otelcol_exporter_sent_log_records_total",
    MetricType.COUNTER,
    "Log records the collector exported",
    (*SCRAPE_LABELS, "exporter"),
)
COLLECTOR_FAILED_LOGS = NativeMetric(
    "otelcol_exporter_send_failed_log_records_total",
    MetricType.COUNTER,
    "Log records the collector failed to export",
    (*SCRAPE_LABELS, "exporter"),
)
COLLECTOR_QUEUE_SIZE = NativeMetric(
    "otelcol_exporter_queue_size",
    MetricType.GAUGE,
    "Bytes waiting in an exporter's sending queue on disk",
    (*SCRAPE_LABELS, "exporter"),
)
COLLECTOR_QUEUE_CAPACITY = NativeMetric(
    "otelcol_exporter_queue_capacity",
    MetricType.GAUGE,
    "Bytes an exporter's sending queue holds before it drops",
    (*SCRAPE_LABELS, "exporter"),
)
PROMETHEUS_HEAD_SERIES = NativeMetric(
    "prometheus_tsdb_head_series",
    MetricType.GAUGE,
    "Series in Prometheus's head block (cardinality)",
    SCRAPE_LABELS,
)
LOKI_LINES_RECEIVED = NativeMetric(
    "loki_distributor_lines_received_total",
    MetricType.COUNTER,
    "Log lines Loki's distributor received",
    (*SCRAPE_LABELS, "tenant"),
)
TEMPO_SPANS_RECEIVED = NativeMetric(
    "tempo_distributor_spans_received_total",
    MetricType.COUNTER,
    "Spans Tempo's distributor received",
    (*SCRAPE_LABELS, "tenant"),
)

COLLECTOR_REFUSED_SPANS = NativeMetric(
    "otelcol_receiver_refused_spans_total",
    MetricType.COUNTER,
    "Spans the collector's receivers refused",
    (*SCRAPE_LABELS, "receiver", "transport"),
)
COLLECTOR_REFUSED_LOGS = NativeMetric(
    "otelcol_receiver_refused_log_records_total",
    MetricType.COUNTER,
    "Log records the collector's receivers refused",
    (*SCRAPE_LABELS, "receiver", "transport"),
)
COLLECTOR_PROCESS_CPU = NativeMetric(
    "otelcol_process_cpu_seconds_total",
    MetricType.COUNTER,
    "CPU time (user + system) of the collector process",
    SCRAPE_LABELS,
)
COLLECTOR_PROCESS_MEMORY = NativeMetric(
    "otelcol_process_memory_rss_bytes",
    MetricType.GAUGE,
    "Resident memory of the collector process",
    SCRAPE_LABELS,
)
COLLECTOR_HEAP = NativeMetric(
    "otelcol_process_runtime_heap_alloc_bytes",
    MetricType.GAUGE,
    "Go heap of the collector: what memory_limiter compares with its limits",
    SCRAPE_LABELS,
)
DELTA_TO_CUMULATIVE_POINTS = NativeMetric(
    "otelcol_deltatocumulative_datapoints_total",
    MetricType.COUNTER,
    "Delta points the collector converted; those it dropped carry an error label",
    SCRAPE_LABELS,
)
DELTA_TO_CUMULATIVE_STREAMS = NativeMetric(
    "otelcol_deltatocumulative_streams_tracked",
    MetricType.GAUGE,
    "Delta streams the collector holds a running total for",
    SCRAPE_LABELS,
)
DELTA_TO_CUMULATIVE_STREAM_LIMIT = NativeMetric(
    "otelcol_deltatocumulative_streams_limit",
    MetricType.GAUGE,
    "The collector's max_streams: points of further streams are dropped",
    SCRAPE_LABELS,
)
PROMETHEUS_SAMPLES_APPENDED = NativeMetric(
    "prometheus_tsdb_head_samples_appended_total",
    MetricType.COUNTER,
    "Samples Prometheus appended to its head block (OTLP, remote write and scrapes)",
    (*SCRAPE_LABELS, "type"),
)
# Go services' default process collector (Prometheus, Loki, Tempo, Grafana).
PROCESS_CPU = NativeMetric(
    "process_cpu_seconds_total",
    MetricType.COUNTER,
    "CPU time (user + system) of a scraped service's process",
    SCRAPE_LABELS,
)
PROCESS_MEMORY = NativeMetric(
    "process_resident_memory_bytes",
    MetricType.GAUGE,
    "Resident memory of a scraped service's process",
    SCRAPE_LABELS,
)

CLAUDE_CODE = Source(
    "claude_code",
    "Claude Code metrics (OTLP, via the collector's deltatocumulative)",
    # team and cost_center: OTEL_RESOURCE_ATTRIBUTES of the laptops the fleet settings reach,
    # promoted by configs/prometheus/prometheus.yml.
    ("job", "service_name", "service_version", "team", "cost_center"),
    (
        CLAUDE_CODE_COST,
        CLAUDE_CODE_TOKENS,
        CLAUDE_CODE_SESSIONS,
        CLAUDE_CODE_LINES,
        CLAUDE_CODE_COMMITS,
        CLAUDE_CODE_PULL_REQUESTS,
        CLAUDE_CODE_EDIT_DECISIONS,
        CLAUDE_CODE_ACTIVE_TIME,
    ),
)
GENAI_APPS = Source(
    "genai",
    "OpenTelemetry GenAI and HTTP server metrics of LLM apps (OTLP)",
    ("job", "instance", "service_name", "service_version", "deployment_environment_name"),
    (GENAI_TOKEN_USAGE, GENAI_OPERATION_DURATION, GENAI_USAGE_COST, HTTP_SERVER_DURATION),
)
GENAI_GENERATIONS = Source(
    "genai-generations",
    "GenAI metrics of apps on other conventions: semantic-conventions-genai (2026), agento11y, "
    "OpenLIT on conventions before v1.37 (OTLP)",
    ("job", "instance", "service_name", "service_version", "deployment_environment_name"),
    (
        GENAI_INFERENCE_INPUT,
        GENAI_INFERENCE_OUTPUT,
        GENAI_INFERENCE_CACHE_READ,
        GENAI_INFERENCE_CACHE_WRITE,
        GENAI_INFERENCE_REASONING,
        GENAI_INFERENCE_DURATION,
        GENAI_INVOKE_AGENT_DURATION,
        GENAI_EXECUTE_TOOL_DURATION,
        GENAI_CLIENT_TTFT,
        GENAI_TOOL_CALLS,
        GENAI_SERVER_TTFT,
    ),
)
TEMPO_METRICS = Source(
    "tempo",
    "Tempo metrics-generator (remote write)",
    (),
    (
        SPANMETRICS_CALLS,
        SPANMETRICS_LATENCY,
        SERVICE_GRAPH_REQUESTS,
        SERVICE_GRAPH_FAILED,
        SERVICE_GRAPH_SERVER_SECONDS,
        SERVICE_GRAPH_CLIENT_SECONDS,
    ),
)
STACK_HEALTH = Source(
    "health",
    "The stack's own health (Prometheus scrapes, every 15 s)",
    SCRAPE_LABELS,
    (
        UP,
        COLLECTOR_ACCEPTED_POINTS,
        COLLECTOR_REFUSED_POINTS,
        COLLECTOR_ACCEPTED_SPANS,
        COLLECTOR_ACCEPTED_LOGS,
        COLLECTOR_SENT_POINTS,
        COLLECTOR_FAILED_POINTS,
        COLLECTOR_SENT_SPANS,
        COLLECTOR_FAILED_SPANS,
        COLLECTOR_SENT_LOGS,
        COLLECTOR_FAILED_LOGS,
        COLLECTOR_QUEUE_SIZE,
        PROMETHEUS_HEAD_SERIES,
        LOKI_LINES_RECEIVED,
        TEMPO_SPANS_RECEIVED,
        COLLECTOR_REFUSED_SPANS,
        COLLECTOR_REFUSED_LOGS,
        COLLECTOR_PROCESS_CPU,
        COLLECTOR_PROCESS_MEMORY,
        COLLECTOR_QUEUE_CAPACITY,
        COLLECTOR_HEAP,
        DELTA_TO_CUMULATIVE_POINTS,
        DELTA_TO_CUMULATIVE_STREAMS,
        DELTA_TO_CUMULATIVE_STREAM_LIMIT,
        PROMETHEUS_SAMPLES_APPENDED,
        PROCESS_CPU,
        PROCESS_MEMORY,
    ),
)
SOURCES = (CLAUDE_CODE, GENAI_APPS, GENAI_GENERATIONS, TEMPO_METRICS, STACK_HEALTH)


def all_series_names() -> frozenset[str]:
    """Every `__name__` the contract promises, across sources."""
    return frozenset(name for source in SOURCES for m in source.metrics for name in series_names(m))


# Claude Code events (OTLP logs). In Loki: stream label service_name="claude-code" (or
# "claude-code-desktop"); the event attributes arrive as structured metadata with dots turned
# into underscores. The attributes each event always carries (besides the common ones); those
# sent only where they apply are in CLAUDE_CODE_EVENT_OPTIONAL_ATTRIBUTES.
_REQUEST_EVENT = ("model", "query_source", "speed")
CLAUDE_CODE_EVENTS: dict[str, tuple[str, ...]] = {
    "user_prompt": ("prompt_length",),
    "assistant_response": ("response_length", "model", "query_source"),
    "tool_result": (
        "tool_name",
        "tool_use_id",
        "success",
        "duration_ms",
        "decision_type",
        "decision_source",
    ),
    "api_request": (
        *_REQUEST_EVENT,
        "cost_usd",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
    ),
    "api_error": (*_REQUEST_EVENT, "error", "status_code", "duration_ms", "attempt"),
    "api_refusal": (*_REQUEST_EVENT, "attempt", "server_fallback_hop"),
    "api_retries_exhausted": (
        "model",
        "speed",
        "error",
        "status_code",
        "total_attempts",
        "total_retry_duration_ms",
    ),
    "tool_decision": ("tool_name", "tool_use_id", "decision", "source"),
    "permission_mode_changed": ("from_mode", "to_mode", "trigger"),
    "auth": ("action", "success", "auth_method"),
    "mcp_server_connection": (
        "status",
        "transport_type",
        "server_scope",
        "duration_ms",
        "is_plugin",
    ),
    "internal_error": ("error_name", "error_code"),
    "plugin_installed": (
        "marketplace.is_official",
        "install.trigger",
        "plugin.name",
        "marketplace.name",
    ),
    "plugin_loaded": (
        "plugin.name",
        "marketplace.name",
        "plugin.scope",
        "enabled_via",
        "plugin_id_hash",
        "has_hooks",
        "has_mcp",
    ),
    "skill_activated": ("skill.name", "invocation_trigger", "skill.source"),
    "at_mention": ("mention_type", "success"),
    "hook_registered": ("hook_event", "hook_type", "hook_source"),
    "hook_execution_start": ("hook_event", "hook_name", "num_hooks", "hook_source"),
    "hook_execution_complete": (
        "hook_event",
        "hook_name",
        "num_hooks",
        "num_success",
        "num_blocking",
        "num_non_blocking_error",
        "num_cancelled",
        "total_duration_ms",
        "hook_source",
    ),
    "compaction": ("trigger", "success", "duration_ms", "pre_tokens", "post_tokens"),
    "subagent_completed": ("agent.name", "duration_ms"),
}
_REQUEST_OPTIONAL = tuple(
    a for a in CLAUDE_CODE_REQUEST_ATTRIBUTES if a not in ("query_source", "speed")
)
CLAUDE_CODE_EVENT_OPTIONAL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "api_request": _REQUEST_OPTIONAL,
    "tool_result": ("mcp_server_scope",),
    "mcp_server_connection": ("error_code",),
}
# Claude Code's beta-trace spans and the attributes each carries (besides the standard ones).
_TOKEN_COUNTS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
_HOOK_COUNTS = ("num_success", "num_blocking", "num_non_blocking_error", "num_cancelled")
CLAUDE_CODE_SPANS: dict[str, tuple[str, ...]] = {
    "claude_code.interaction": (
        "span.type",
        "user_prompt",
        "user_prompt_length",
        "interaction.duration_ms",
    ),
    "claude_code.llm_request": (
        "span.type",
        "model",
        "gen_ai.system",
        "gen_ai.request.model",
        "query_source",
        "speed",
        "duration_ms",
        "ttft_ms",
        *_TOKEN_COUNTS,
        "attempt",
        "success",
    ),
    "claude_code.tool": ("span.type", "tool_name", "tool_use_id", "duration_ms"),
    "claude_code.tool.blocked_on_user": ("span.type", "duration_ms", "decision", "source"),
    "claude_code.tool.execution": ("span.type", "tool_use_id", "duration_ms", "success"),
    "claude_code.hook": (
        "span.type",
        "hook_event",
        "hook_name",
        "num_hooks",
        "duration_ms",
        *_HOOK_COUNTS,
    ),
}
# Seed 000's JSONL cost records, tailed by the collector's filelog receiver.
JSONL_FIELDS = ("timestamp", "model", "prompt_tokens", "completion_tokens", "cost_usd", "user")
# Span attributes of the GenAI client spans the apps send to Tempo.
GENAI_SPAN_ATTRIBUTES = (
    *GENAI_ATTRIBUTES,
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cost",
    "peer.service",
    "error.type",
)
