"""API (seed 003): the LLM apps' HTTP endpoints: traffic, errors, status codes and latency.

Counts come from the apps' HTTP server metric (`http.server.request.duration`: route, method,
status code). Latency comes from the span metrics of their SERVER spans, whose buckets reach
512 s: the HTTP metric's semantic-convention buckets stop at 10 s, below many LLM requests, so
its quantiles would be capped there. An endpoint is a service (`job`) and its route; in span
metrics the same endpoint is the service and the SERVER span's name (`POST /v1/chat`).
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.builders import heatmap as heatmap_builders
from grafana_foundation_sdk.models import prometheus as prometheus_models

from dashboards.panels import (
    PROMETHEUS,
    Section,
    build_dashboard,
    heatmap_panel,
    pie_panel,
    promql,
    promql_table,
    table_panel,
    timeseries_panel,
    top_bars,
)
from dashboards.spec import OPERATIONS_FOLDER, DashboardSpec, without_prices
from dashboards.traces_latency import (
    request_average,
    span_calls,
    span_error_ratio,
    span_quantile,
)
from vocabulary import measures, names
from vocabulary.windows import Window

UID: Final = "llm-api"
RANGE: Final = "[$__range]"
RATE: Final = "[$__rate_interval]"
# The LLM call panels read the recorded 5-minute windows of each step (never a finer step).
STEP: Final = Window("$__interval")

HTTP_REQUESTS: Final = names.HTTP_REQUESTS
ENDPOINT: Final = ("job", "http_route")
SERVER_SPANS: Final = f'{names.SPAN_KIND}="SPAN_KIND_SERVER"'
SERVER_ENDPOINT: Final = (names.SPAN_SERVICE, names.SPAN_NAME)


# Queries (the number tests import these) ------------------------------------------------------


def _sum(function: str, window: str, matchers: str = "", by: str = "job, http_route") -> str:
    selector = f"{{{matchers}}}" if matchers else ""
    return f"sum by ({by}) ({function}({HTTP_REQUESTS}{selector}{window}))"


def request_rate_by_endpoint() -> str:
    return _sum("rate", RATE)


def error_ratio_by_endpoint(window: str) -> str:
    """Share of 5xx responses per endpoint; 0 (not empty) for an endpoint without any."""
    errors = _sum("rate", window, 'http_response_status_code=~"5.."')
    total = _sum("rate", window)
    return f"({errors} or {total} * 0) / {total}"


def responses_by_status(function: str, window: str) -> str:
    return _sum(function, window, by="http_response_status_code")


def latency_buckets() -> str:
    """Requests per duration bucket and step (its recorded windows), for the heatmap (Grafana
    de-accumulates `le`)."""
    return measures.span_buckets(STEP, [], f"{{{SERVER_SPANS}}}")


def llm_error_percent_by_service(window: Window | str) -> str:
    """Share of each service's LLM calls that failed (error.type set), in percent; 0 without."""
    return measures.error_rate_percent(window, [names.SERVICE])


def llm_call_quantile_by_service(quantile: float, window: Window | str) -> str:
    return measures.latency_quantile(quantile, window, [names.SERVICE])


def slowest_endpoints(window: str) -> str:
    return f"topk(10, {span_quantile(0.95, window, SERVER_ENDPOINT, SERVER_SPANS)})"


# Panels ---------------------------------------------------------------------------------------

ENDPOINT_LEGEND: Final = "{{job}} {{http_route}}"
SPAN_LEGEND: Final = "{{service}} {{span_name}}"
SPAN_NOTE: Final = (
    "From Tempo's span metrics of the apps' SERVER spans (buckets 0.1 s to 512 s); the HTTP "
    "metric's buckets stop at 10 s, which LLM requests often exceed."
)


def _traffic() -> Section:
    return Section(
        "Traffic and errors",
        [
            timeseries_panel(
                "Request rate by endpoint",
                "Requests per second each endpoint (service and route) served "
                "(http.server.request.duration count).",
                "reqps",
                promql(request_rate_by_endpoint(), ENDPOINT_LEGEND),
            ),
            timeseries_panel(
                "Error rate by endpoint",
                "Share of each endpoint's requests that ended in a 5xx response, per rate "
                "window (0 when it had requests and no 5xx).",
                "percentunit",
                promql(error_ratio_by_endpoint(RATE), ENDPOINT_LEGEND),
            ),
            timeseries_panel(
                "Responses by status code",
                "Responses per second by HTTP status code, all endpoints stacked.",
                "reqps",
                promql(responses_by_status("rate", RATE), "{{http_response_status_code}}"),
                stacked=True,
            ),
            pie_panel(
                "Status codes in range",
                "Responses in the picker's range by HTTP status code, all endpoints.",
                "short",
                promql(
                    responses_by_status("increase", RANGE),
                    "{{http_response_status_code}}",
                    instant=True,
                ),
                width=12,
            ),
        ],
    )


def _latency() -> Section:
    heatmap_target = promql(latency_buckets(), "{{le}}").format(
        prometheus_models.PromQueryFormat.HEATMAP
    )
    return Section(
        "Latency",
        [
            heatmap_panel(
                "Latency histogram",
                "How many requests took how long, per time step: each cell is a duration "
                f"bucket, its colour the request count. {SPAN_NOTE}",
                "s",
                heatmap_target,
            )
            .interval(measures.MIN_INTERVAL)
            .calculate(False)
            .y_axis(heatmap_builders.YAxisConfig().unit("s"))
            .cell_values(heatmap_builders.CellValues().unit("short")),
            top_bars(
                "Top 10 slowest endpoints (P95)",
                "The ten endpoints with the highest 95th-percentile request duration over the "
                f"picker's range, interpolated inside its bucket. {SPAN_NOTE}",
                "s",
                promql(slowest_endpoints(RANGE), SPAN_LEGEND, instant=True),
            ),
            table_panel(
                "Endpoints in range",
                "Per endpoint over the picker's range: requests, share with status ERROR (a "
                "5xx) and P95 duration from span metrics; mean duration, exact, from "
                f"http.server.request.duration. {SPAN_NOTE}",
                "short",
                promql_table(span_calls(RANGE, SERVER_ENDPOINT, SERVER_SPANS)),
                promql_table(span_error_ratio(RANGE, SERVER_ENDPOINT, SERVER_SPANS)),
                promql_table(request_average(RANGE)),
                promql_table(span_quantile(0.95, RANGE, SERVER_ENDPOINT, SERVER_SPANS)),
                width=24,
                sort_by="P95 (s)",
                rename={
                    "service": "Service",
                    "span_name": "Endpoint",
                    "Value #A": "Requests",
                    "Value #B": "Error share",
                    "Value #C": "Mean (s)",
                    "Value #D": "P95 (s)",
                },
            ),
        ],
    )


def _llm_calls() -> Section:
    return Section(
        "LLM calls behind the endpoints",
        [
            timeseries_panel(
                "Error rate by service",
                "Share of each service's LLM calls that failed (gen_ai.client.operation.duration "
                "and gen_ai.client.inference.duration with error.type, e.g. rate limits and "
                "timeouts), in percent per step (the recorded 5-minute windows in it); 0 when a "
                "service had calls and no failures. The LLM error-rate alerts watch this.",
                "percent",
                promql(llm_error_percent_by_service(STEP), "{{service_name}}"),
                interval=measures.MIN_INTERVAL,
            ),
            timeseries_panel(
                "LLM call latency P95",
                "95th percentile of each service's LLM call duration per step (the recorded "
                "5-minute windows in it; gen_ai.client.operation.duration and "
                "gen_ai.client.inference.duration, buckets up to 81.92 s), interpolated inside "
                "its bucket. The P95 latency alert watches this.",
                "s",
                promql(llm_call_quantile_by_service(0.95, STEP), "{{service_name}}"),
                interval=measures.MIN_INTERVAL,
            ),
        ],
    )


def build() -> dashboard.Dashboard:
    return build_dashboard(
        UID,
        "API",
        "The LLM apps' HTTP endpoints: request rate, errors and status codes from their HTTP "
        "server metrics; latency histogram and slowest endpoints from their SERVER spans' span "
        "metrics; the LLM calls behind them from the GenAI client metrics.",
        [_traffic(), _latency(), _llm_calls()],
        kinds=(PROMETHEUS,),
        tags=["operations"],
        time_from="now-24h",
    )


SPEC: Final = DashboardSpec(UID, OPERATIONS_FOLDER, without_prices(build))
